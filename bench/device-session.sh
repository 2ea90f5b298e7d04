#!/usr/bin/env bash
# Runs on a lent GPU machine (/work/.library/device), from what bench/device-pack.sh packed
# into .device/ and the Vulkan loaders in .gl/ (the device README's recipe). Two steps, one
# `run` call each (a call carries at most 64 MiB):
#   bench   bench/gpu.sh's figures for both builds: images/s and fraction of peak at batch 64
#           and 512, WGSL and SPIR-V.     run(carry=[".gl", ".device/facegan.xz",
#           ".device/facegan-vulkan.xz"], command="bench/device-session.sh bench", timeout_s=420)
#   train   MODEL (default resnet) trained on .device/faces.tar.gz for MINUTES (default 6) with the
#           WGSL build, then exported; EXTRA adds flags (for example "--augment color,translation").
#           $OUT gets the generator (int8 .fgw), log.csv, the last sample grid, the config and
#           the checkpoint in 15 MB parts (`cat checkpoint.fgc.part-* > checkpoint.fgc`
#           resumes it anywhere; a second call on the still-warm machine resumes /tmp/run).     run(carry=[".gl", ".device/facegan.xz", ".device/faces.tar.gz"],
#           command="MINUTES=6 bench/device-session.sh train", timeout_s=600)
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
unpack() { # NAME -> /tmp/NAME, executable
  xz -dc ".device/$1.xz" >"/tmp/$1"
  chmod +x "/tmp/$1"
}
case "${1:-}" in
  bench)
    builds=(facegan)
    # SPIRV=0 skips it where it was carried (software Vulkan crashes on SPIR-V pipelines).
    [[ ${SPIRV:-1} == 1 && -f .device/facegan-vulkan.xz ]] && builds+=(facegan-vulkan)
    for build in "${builds[@]}"; do
      unpack "$build"
      echo "== $build =="
      for batch in ${BATCHES:-64 512}; do
        "/tmp/$build" bench --backend wgpu --batch-size "$batch" --steps "${STEPS:-20}" 2>&1 |
          grep -v XDG_RUNTIME_DIR | tee -a "$out/bench.txt"
      done
    done
    ;;
  train)
    unpack facegan
    mkdir -p /tmp/faces
    tar -xzf .device/faces.tar.gz -C /tmp/faces
    echo "faces: $(ls /tmp/faces | wc -l)"
    model=${MODEL:-resnet}
    # shellcheck disable=SC2086 # EXTRA is a list of flags
    /tmp/facegan train --model "$model" --backend wgpu --data /tmp/faces --out /tmp/run \
      --minutes "${MINUTES:-6}" --epochs 100000 --snapshot-every 1 ${EXTRA:-} 2>&1 |
      grep -v XDG_RUNTIME_DIR | awk 'NR % 50 == 1' | tee "$out/train.txt"
    /tmp/facegan export /tmp/run --out "$out/$model.fgw" --precision int8
    cp /tmp/run/log.csv /tmp/run/config.json "$out/"
    samples=(/tmp/run/samples/*.png) # none before the first epoch ends
    [[ -f ${samples[-1]} ]] && cp "${samples[-1]}" "$out/last-samples.png"
    split -b 15M /tmp/run/checkpoint.fgc "$out/checkpoint.fgc.part-"
    ls -la "$out"
    ;;
  *)
    echo "usage: bench/device-session.sh bench|train" >&2
    exit 2
    ;;
esac
