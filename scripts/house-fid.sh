#!/usr/bin/env bash
# FID by the house protocol (docs/training-log.md): 2,000 faces of WEIGHTS (seeds FIRST_SEED..,
# default 0) against 2,000 prepared faces, every 15th file of REAL in name order, with
# ../shared/tools/fid. REAL is a `facegan prepare` folder (its statistics are saved once beside
# it, as REAL.house2000.pkl, and reused) or a saved .pkl. Prints `FID: N` last.
#   scripts/house-fid.sh WEIGHTS.fgw REAL [FIRST_SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/house-fid.sh WEIGHTS.fgw REAL_DIR|REAL.pkl [FIRST_SEED]"
weights=${1:?$usage}
real=${2:?$usage}
first=${3:-0}
count=2000
fid=../shared/tools/fid
bin=${FACEGAN_BIN:-target/release/facegan}
[ -x "$fid" ] || { echo "no $fid: FID needs ../shared" >&2; exit 1; }
[ -x "$bin" ] || { echo "no $bin: build it with cargo build --release --workspace" >&2; exit 1; }
[ -f "$weights" ] || { echo "no weights file $weights" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -d "$real" ]; then
  stats=${real%/}.house2000.pkl
  if [ ! -f "$stats" ]; then
    mkdir "$work/real"
    find "$real" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' -o -name '*.webp' \) \
      -printf '%f\n' | LC_ALL=C sort | awk -v count="$count" 'NR % 15 == 1 && ++taken <= count' |
      while read -r name; do ln -s "$(realpath "$real/$name")" "$work/real/$name"; done
    found=$(find "$work/real" -mindepth 1 | wc -l)
    [ "$found" -eq "$count" ] || {
      echo "$real has $found faces at every 15th file, the protocol needs $count (30,000 prepared)" >&2
      exit 1
    }
    echo "saving the real side's statistics once: $stats" >&2
    "$fid" --stats "$work/real" "$stats" >&2
  fi
  real=$stats
fi
[ -f "$real" ] || { echo "no real statistics $real" >&2; exit 1; }
mkdir "$work/fake"
"$bin" generate --weights "$weights" --seed "$first" --count "$count" --out-dir "$work/fake" >/dev/null 2>&1 ||
  { echo "facegan generate failed on $weights" >&2; exit 1; }
"$fid" "$real" "$work/fake" | tail -n 1
