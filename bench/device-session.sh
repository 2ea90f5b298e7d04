#!/usr/bin/env bash
# Runs on a lent GPU machine (/work/.library/device), from what bench/device-pack.sh packed
# into .device/ and the Vulkan loaders in .gl/ (the device README's recipe). A call carries at
# most 64 MiB with the working tree (about 13 MB), so the work is spread over calls; a machine
# stays warm for 30 s after a call, and what a call unpacked into /tmp (the binaries, the faces)
# serves the next one when it comes in that time. Every call unpacks the face parts it carries.
#   bench   bench/gpu.sh with the carried binaries: images/s and fraction of peak for DCGAN-64
#           and the ResNet (width 24) at batch 64 and 512 (BATCHES), WGSL and SPIR-V, each with
#           Burn's convolutions and with facegan's matrix-product ones; then the WGSL build's
#           `bench --layers` at both batches (LAYERS=0 skips it).
#           run(carry=[".gl", ".device/facegan.xz", ".device/facegan-vulkan.xz"],
#           command="bench/device-session.sh bench", timeout_s=540)
#   train   MODEL (default resnet) trained on the faces for MINUTES (default 6; a resumed run's
#           earlier minutes count) with BUILD (default facegan, the WGSL build), then exported;
#           EXTRA adds flags (for example "--augment color,translation"). A carried
#           .device/checkpoint.fgc is resumed (give the run's flags in EXTRA). $OUT gets the
#           generator (int8 .fgw), run.tar.gz (log.csv, the config, the last sample grid and
#           the last four snapshots) and the checkpoint in 15 MB parts (`cat checkpoint.fgc.part-* >
#           checkpoint.fgc` resumes it anywhere; a second call on the still-warm machine
#           resumes /tmp/run).
#           run(carry=[".gl", ".device/facegan.xz", ".device/faces-1.tar.gz"],
#           command="MINUTES=6 bench/device-session.sh train", timeout_s=600)
# A resume with all the faces: the bench call also carries faces-1, the train call right after
# it carries faces-2 and checkpoint.fgc, and uses the binary the bench call unpacked.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
for deb in .gl/*.deb; do [[ -f $deb ]] && dpkg -x "$deb" /; done
ldconfig
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
# Where the device README found NVIDIA's Vulkan driver when the loader did not.
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[[ -f $icd ]] && export VK_DRIVER_FILES=$icd
nvidia-smi --query-gpu=name,clocks.sm,memory.total --format=csv || true
unpack() { # NAME -> /tmp/NAME, executable; a warm machine keeps the last call's
  if [[ -f .device/$1.xz ]]; then
    xz -dc ".device/$1.xz" >"/tmp/$1"
    chmod +x "/tmp/$1"
  elif [[ ! -x /tmp/$1 ]]; then
    echo "no .device/$1.xz carried and no /tmp/$1 from an earlier call on this machine" >&2
    exit 1
  fi
}
# Drops wgpu's XDG warning and Burn's autotune lines (hundreds per run).
# Line-buffered: a call killed at its time limit loses what a pipe still holds (the first H200
# bench call of 2026-12-04 came back empty after 290 s).
quiet() { grep --line-buffered -v -e XDG_RUNTIME_DIR -e 'Tuning '; }
mkdir -p /tmp/faces
for part in .device/faces-*.tar.gz; do
  [[ -f $part ]] && tar -xzf "$part" -C /tmp/faces
done
echo "faces: $(find /tmp/faces -type f | wc -l)"
case "${1:-}" in
  bench)
    unpack facegan
    # SPIRV=0 skips it where it was carried (software Vulkan crashes on SPIR-V pipelines).
    spirv=0
    if [[ ${SPIRV:-1} == 1 && -f .device/facegan-vulkan.xz ]]; then
      unpack facegan-vulkan
      spirv=1
    fi
    FACEGAN_BIN=/tmp/facegan VULKAN_BIN=/tmp/facegan-vulkan SPIRV=$spirv bench/gpu.sh 2>&1 |
      quiet | tee -a "$out/bench.txt"
    ;;
  train)
    build=${BUILD:-facegan}
    unpack "$build"
    if [[ -f .device/checkpoint.fgc ]]; then
      mkdir -p /tmp/run
      cp .device/checkpoint.fgc /tmp/run/
      echo "resuming the carried checkpoint"
    fi
    model=${MODEL:-resnet}
    # shellcheck disable=SC2086 # EXTRA is a list of flags
    "/tmp/$build" train --model "$model" --backend wgpu --data /tmp/faces --out /tmp/run \
      --minutes "${MINUTES:-6}" --epochs 100000 --snapshot-every 1 ${EXTRA:-} 2>&1 |
      quiet | awk 'NR % 50 == 1 { print; fflush() }' | tee "$out/train.txt"
    # The checkpoint first: it is what the next session continues from.
    split -b 15M /tmp/run/checkpoint.fgc "$out/checkpoint.fgc.part-"
    "/tmp/$build" export /tmp/run --out "$out/$model.fgw" --precision int8 ||
      echo "export failed; the checkpoint came back" >&2
    # At most 8 files come back: the small ones travel as one tarball.
    (
      cd /tmp/run
      shopt -s nullglob
      samples=(samples/*.png)     # none before the first epoch ends
      snapshots=(snapshots/*.fgw) # the last four, for `facegan export` to average
      tar -czf "$out/run.tar.gz" log.csv config.json "${samples[@]: -1}" "${snapshots[@]: -4}"
    )
    ls -la "$out"
    ;;
  *)
    echo "usage: bench/device-session.sh bench|train" >&2
    exit 2
    ;;
esac
# Burn's autotune results (cubecl keeps them in target/environment under the workspace root):
# tuning every kernel shape took most of a 7-minute bench call on an H200 (2026-12-04). Unpack
# the tarball here (`tar -xzf autotune.tar.gz`) and carry "target/environment" next time.
if [[ -d target/environment ]]; then
  tar -czf "$out/autotune.tar.gz" target/environment
fi
