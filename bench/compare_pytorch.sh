#!/usr/bin/env bash
# Runs `facegan bench` and the same training step in PyTorch (CPU) back to back, and prints
# both figures and the ratio: MODEL dcgan (DCGAN-64, PyTorch's example) or resnet (facegan's
# ResNet GAN, bench/pytorch_resnet.py). PyTorch comes from PyPI into a venv outside the repo.
#   bench/compare_pytorch.sh [STEPS] [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-10}
model=${2:-dcgan}
case "$model" in
  dcgan) script=bench/pytorch_dcgan.py ;;
  resnet) script=bench/pytorch_resnet.py ;;
  *) echo "MODEL is dcgan or resnet, found $model" >&2; exit 2 ;;
esac
venv=${FACEGAN_BENCH_VENV:-$HOME/.cache/facegan-bench-venv}
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  echo "installing PyTorch into $venv (once)..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch numpy
fi
# The same command as scripts/test-all.sh: one feature set, so Burn is never rebuilt between them.
cargo build --release -q --workspace --all-targets
burn=$(target/release/facegan bench --json --steps "$steps" --model "$model")
torch=$("$venv/bin/python" "$script" --steps "$steps")
python3 - "$burn" "$torch" <<'PY'
import json, sys
burn, torch = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"model: {burn['model']}")
print(f"{'':24}{'facegan (burn flex)':>22}{torch['framework']:>22}{'ratio':>8}")
rows = [("train images/s, b64", "train_images_per_s", True),
        ("generator ms, batch 1", "generator_ms_batch1", False),
        ("generator ms, batch 64", "generator_ms_batch64", False)]
for label, key, higher_is_better in rows:
    ratio = burn[key] / torch[key] if higher_is_better else torch[key] / burn[key]
    print(f"{label:24}{burn[key]:>22.2f}{torch[key]:>22.2f}{ratio:>7.2f}x")
print(f"threads: facegan {burn['threads']}, pytorch {torch['threads']}; ratio > 1 means facegan is faster")
PY
