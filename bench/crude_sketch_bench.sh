#!/usr/bin/env bash
# The crude-sketch benchmark: 500 procedural person-like drawings (bench/crude_sketches.py) x 4
# colouring seeds through each drawing mode given, then FID against the house real set and the
# figures of bench/crude_sketch_eval.py, one line per mode.
#
#   bench/crude_sketch_bench.sh WORK_DIR REAL_STATS.pkl REAL_DIR NAME=WEIGHTS.fgw [NAME=WEIGHTS.fgw ...]
#
# WEIGHTS may be a sketch-to-face U-Net ("follows my lines") or a sketch encoder ("anime face",
# with the built-in generator, or GENERATOR set to another file). FACEGAN picks the binary
# (default target/release/facegan); PYTHON a Python with numpy, scipy and Pillow (default the
# FID tool's venv); FID the FID tool (default ../shared/tools/fid).
set -euo pipefail
work=$1 real_stats=$2 real_dir=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
facegan=${FACEGAN:-$here/../target/release/facegan}
python=${PYTHON:-$HOME/.cache/fid-venv/bin/python}
fid=${FID:-$here/../../shared/tools/fid}
seeds=4
count=${COUNT:-500}
mkdir -p "$work"
[ -d "$work/bench/sketches" ] || "$python" "$here/crude_sketches.py" "$work/bench" --count "$count"
for spec in "$@"; do
  name=${spec%%=*} weights=${spec#*=}
  faces=$work/$name/faces
  rm -rf "$work/$name"; mkdir -p "$faces"
  generator=()
  [ -n "${GENERATOR:-}" ] && generator=(--generator "$GENERATOR")
  for sketch in "$work"/bench/sketches/*.png; do
    index=$(basename "$sketch" .png)
    "$facegan" translate --weights "$weights" "${generator[@]}" --sketch "$sketch" --seed 0 \
      --count $seeds --out-dir "$work/$name/tmp" 2>/dev/null
    for s in $(seq 0 $((seeds - 1))); do mv "$work/$name/tmp/seed_$s.png" "$faces/${index}_s$s.png"; done
  done
  rm -rf "$work/$name/tmp"
  "$facegan" sketch --in "$faces" --out "$work/$name/xdog" >/dev/null 2>&1
  figures=$("$python" "$here/crude_sketch_eval.py" "$work/bench" "$faces" "$work/$name/xdog")
  score=$([ -n "${NO_FID:-}" ] && echo "FID: skipped" || "$fid" "$real_stats" "$faces" | tail -n1)
  echo "$name $score $figures" | tee -a "$work/results.txt"
done
"$python" "$here/crude_sketch_eval.py" "$work/bench" "$work/$name/faces" "$work/$name/xdog" --real "$real_dir" | tee -a "$work/results.txt"
