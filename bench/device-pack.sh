#!/usr/bin/env bash
# Packs what a lent GPU machine (/work/.library/device) needs into .device/, an ignored folder
# that a `run` call carries, so the device time goes to measuring and training, not building:
#   - facegan.xz and, with SPIRV=1 (the default), facegan-vulkan.xz: stripped release binaries
#     (WGSL kernels; and the `vulkan` feature's SPIR-V kernels, built into target/vulkan).
#     The machine is bare and offline, with no Rust; a binary is 121 MB as built, 16 MB as xz.
#   - .gl/: the Vulkan loader's Debian packages (the lent machine has the NVIDIA driver but no
#     libvulkan), downloaded once by the device README's recipe; every call carries `.gl`.
#   - faces.tar.gz (with FACES=DIR): prepared faces re-encoded as WebP q85 (1.4 KB each against
#     9.3 KB as PNG), as many in name order as fit BUDGET_MB (default 34), for a training run
#     (gzip only squeezes out tar's 512-byte headers and padding, a third of a plain tar).
# A call carries at most 64 MiB with the working tree (about 10 MB), so the binaries and the
# faces go in separate calls: bench/device-session.sh says which. Needs python3 with Pillow
# (the `fid` tool's venv has it: PYTHON=~/.cache/fid-venv/bin/python).
#   bench/device-pack.sh                       (binaries)
#   FACES=prepared/ SPIRV=0 bench/device-pack.sh   (binaries and faces)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .device
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo /.device/ >>.git/info/exclude
if ! compgen -G '.gl/libvulkan1_*.deb' >/dev/null; then
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >>.git/info/exclude
  mkdir -p .gl /tmp/amd64/partial
  apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${apt[@]}" update -qq
  (cd .gl && apt-get "${apt[@]}" download -qq libvulkan1)
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
if [[ -n ${FACES:-} ]]; then
  "${PYTHON:-python3}" - "$FACES" "${BUDGET_MB:-34}" .device/faces.tar.gz <<'PY'
import io, os, sys, tarfile
from PIL import Image
folder, budget, out = sys.argv[1], float(sys.argv[2]) * 1e6, sys.argv[3]
names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".png", ".jpg", ".jpeg", ".webp")))
total = 0
with tarfile.open(out, "w:gz", compresslevel=6) as tar:
    for count, name in enumerate(names):
        buffer = io.BytesIO()
        Image.open(os.path.join(folder, name)).convert("RGB").save(buffer, "WEBP", quality=85, method=6)
        if total + buffer.tell() > budget:
            break
        info = tarfile.TarInfo(os.path.splitext(name)[0] + ".webp")
        info.size = buffer.tell()
        buffer.seek(0)
        tar.addfile(info, buffer)
        total += info.size
    else:
        count = len(names)
print(f"packed {out}: {count} of {len(names)} faces, {os.path.getsize(out) / 1e6:.1f} MB")
PY
fi
