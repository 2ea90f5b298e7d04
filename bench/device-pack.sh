#!/usr/bin/env bash
# Packs what a lent GPU machine (/work/.library/device) needs into .device/, an ignored folder
# that a `run` call carries, so the device time goes to measuring and training, not building:
#   - facegan.xz and, with SPIRV=1 (the default), facegan-vulkan.xz: stripped release binaries
#     (WGSL kernels; and the `vulkan` feature's SPIR-V kernels, built into target/vulkan).
#     The machine is bare and offline, with no Rust; a binary is 121 MB as built, 16 MB as xz.
#   - .gl/: the Vulkan loader's and libglvnd's Debian packages (the lent machine has the NVIDIA
#     driver but no libvulkan), downloaded once by the device README's recipe; every call
#     carries `.gl`.
#   - faces-1.tar.gz, faces-2.tar.gz, ... (with FACES=DIR): prepared faces re-encoded as WebP
#     q85 (1.4 KB each against 9.3 KB as PNG), in name order, each part as many as fit its size
#     in FACE_PARTS_MB (default "34": one part), for a training run (gzip only squeezes out
#     tar's 512-byte headers and padding, a third of a plain tar). Parts let the faces ride
#     along with calls that carry other things; the session unpacks every part it is given.
#   - checkpoint.fgc (with RUN=DIR): that run's checkpoint, to resume it on the GPU.
# A call carries at most 64 MiB with the working tree (about 13 MB), so the binaries, the faces
# and a checkpoint are spread over calls: bench/device-session.sh says how. Needs python3 with
# Pillow (the `fid` tool's venv has it: PYTHON=~/.cache/fid-venv/bin/python).
#   bench/device-pack.sh                                        (binaries)
#   FACES=prepared/ SPIRV=0 bench/device-pack.sh                (binaries and faces)
#   FACES=prepared/ FACE_PARTS_MB="19 14" RUN=runs/w24 bench/device-pack.sh   (all, for a resume)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .device
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo /.device/ >>.git/info/exclude
# NVIDIA's Vulkan driver is loaded through libglvnd: with libvulkan1 alone, wgpu finds no
# adapter on the lent machine (seen 2026-12-04), so all of the README's packages travel.
if ! compgen -G '.gl/libglvnd0_*.deb' >/dev/null; then
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >>.git/info/exclude
  mkdir -p .gl /tmp/amd64/partial
  apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${apt[@]}" update -qq
  (cd .gl && apt-get "${apt[@]}" download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  echo "downloaded the Vulkan loader into .gl/: $(ls .gl)"
fi
# The same command as scripts/test-all.sh: one feature set, so Burn is never rebuilt between them.
cargo build --release -q --workspace --all-targets
pack() { # BINARY NAME
  strip -o ".device/$2" "$1"
  xz -T0 -6 -f ".device/$2"
  echo "packed .device/$2.xz ($(du -h ".device/$2.xz" | cut -f1))"
}
pack target/release/facegan facegan
if [[ ${SPIRV:-1} == 1 ]]; then
  # Its own target dir: the feature would otherwise rebuild Burn under the tests' build.
  cargo build --release -q -p facegan-trainer --features vulkan --target-dir target/vulkan
  pack target/vulkan/release/facegan facegan-vulkan
fi
if [[ -n ${RUN:-} ]]; then
  cp "$RUN/checkpoint.fgc" .device/checkpoint.fgc
  echo "packed .device/checkpoint.fgc ($(du -h .device/checkpoint.fgc | cut -f1)) from $RUN"
fi
if [[ -n ${FACES:-} ]]; then
  rm -f .device/faces-*.tar.gz
  # shellcheck disable=SC2086 # FACE_PARTS_MB is a list of sizes
  "${PYTHON:-python3}" - "$FACES" ${FACE_PARTS_MB:-34} <<'PY'
import io, itertools, os, sys, tarfile
from PIL import Image
folder, budgets = sys.argv[1], [float(mb) * 1e6 for mb in sys.argv[2:]]
names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".png", ".jpg", ".jpeg", ".webp")))
queue = iter(names)
pending = None  # the face that did not fit the previous part opens the next one
for part, budget in enumerate(budgets, 1):
    out, total, count = f".device/faces-{part}.tar.gz", 0, 0
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        for name in itertools.chain([pending] if pending else [], queue):
            buffer = io.BytesIO()
            Image.open(os.path.join(folder, name)).convert("RGB").save(buffer, "WEBP", quality=85, method=6)
            if total + buffer.tell() > budget:
                pending = name
                break
            info = tarfile.TarInfo(os.path.splitext(name)[0] + ".webp")
            info.size = buffer.tell()
            buffer.seek(0)
            tar.addfile(info, buffer)
            total += info.size
            count += 1
        else:
            pending = None
    print(f"packed {out}: {count} faces, {os.path.getsize(out) / 1e6:.1f} MB")
print(f"of {len(names)} faces in {folder}")
PY
fi
