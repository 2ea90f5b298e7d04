#!/usr/bin/env bash
# facegan's DCGAN-64 training speed on a GPU (wgpu): images/s and the fraction of the GPU's f32
# peak, at batch 64 and 512. One command for anyone with a GPU:
#   bench/gpu.sh [--peak-tflops T]      (BATCHES="64 512" and STEPS=20 by default)
# The peak comes from a table of known GPUs by adapter name unless --peak-tflops is given.
set -euo pipefail
cd "$(dirname "$0")/.."
facegan=${FACEGAN_BIN:-target/release/facegan}
# The same command as scripts/test-all.sh: one feature set, so Burn is never rebuilt between them.
[[ -x $facegan ]] || cargo build --release -q --workspace --all-targets
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
for batch in ${BATCHES:-64 512}; do
  "$facegan" bench --backend wgpu --batch-size "$batch" --steps "${STEPS:-20}" "$@"
done
