#!/usr/bin/env bash
# Runs `facegan bench` and the same training step in PyTorch (CPU) back to back, and prints
# both figures and the ratio: MODEL dcgan (DCGAN-64, PyTorch's example) or resnet (facegan's
# ResNet GAN, bench/pytorch_resnet.py). PyTorch comes from PyPI into a venv outside the repo.
# With ROUNDS > 1 the two alternate ROUNDS times and each row's ratio is the median of the
# rounds' ratios: on a shared 2-core VM one run's figures move by a third either way.
#   bench/compare_pytorch.sh [STEPS] [MODEL] [ROUNDS]
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
rounds=${3:-1}
results=()
for _ in $(seq "$rounds"); do
  results+=("$(target/release/facegan bench --json --steps "$steps" --model "$model")")
  results+=("$("$venv/bin/python" "$script" --steps "$steps")")
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in sys.argv[1:]]
pairs = list(zip(runs[::2], runs[1::2]))
burn, torch = pairs[0]
print(f"model: {burn['model']}, {len(pairs)} round(s)")
print(f"{'':24}{'facegan (burn flex)':>22}{torch['framework']:>22}{'ratio':>8}")
rows = [("train images/s, b64", "train_images_per_s", True),
        ("generator ms, batch 1", "generator_ms_batch1", False),
        ("generator ms, batch 64", "generator_ms_batch64", False)]
for label, key, higher_is_better in rows:
    ours = [b[key] for b, _ in pairs]
    theirs = [t[key] for _, t in pairs]
    ratios = [o / t if higher_is_better else t / o for o, t in zip(ours, theirs)]
    line = f"{label:24}{statistics.median(ours):>22.2f}{statistics.median(theirs):>22.2f}{statistics.median(ratios):>7.2f}x"
    if len(pairs) > 1:
        line += "  (rounds: " + ", ".join(f"{r:.2f}" for r in ratios) + ")"
    print(line)
print(f"threads: facegan {burn['threads']}, pytorch {torch['threads']}; ratio > 1 means facegan is faster"
      + ("; figures and ratios are medians over the rounds" if len(pairs) > 1 else ""))
PY
