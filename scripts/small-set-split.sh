#!/usr/bin/env bash
# The two folders of the small-data-set table (docs/training-log.md), cut from a prepared
# folder: OUT/small2000 holds its first 2,000 faces in name order (the training set, a seed
# project's size) and OUT/heldout500 500 faces none of the runs sees (every 58th file after the
# first 2,000), with their FID statistics in OUT/heldout500.pkl. Files are hard links (copies
# where the file system refuses), so nothing in PREPARED changes.
#   scripts/small-set-split.sh PREPARED OUT
# then: scripts/small-set.sh OUT/small2000 OUT/heldout500.pkl MINUTES 500
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/small-set-split.sh PREPARED OUT"
prepared=${1:?$usage}
out=${2:?$usage}
fid=../shared/tools/fid
[ -d "$prepared" ] || { echo "no folder $prepared: make it with facegan prepare" >&2; exit 1; }
[ -x "$fid" ] || { echo "no $fid: FID needs ../shared" >&2; exit 1; }

# The first `train` faces to train on; `held_out` faces, every `stride`-th after them, to score.
train=2000 held_out=500 stride=58
mapfile -t names < <(find "$prepared" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' \) \
  -printf '%f\n' | LC_ALL=C sort)
needed=$((train + stride * (held_out - 1) + 1))
[ ${#names[@]} -ge $needed ] || {
  echo "$prepared holds ${#names[@]} faces; the split needs at least $needed" >&2
  exit 1
}
rm -rf "$out/small2000" "$out/heldout500"
mkdir -p "$out/small2000" "$out/heldout500"
place() { ln "$1" "$2" 2>/dev/null || cp "$1" "$2"; }
for name in "${names[@]:0:train}"; do
  place "$prepared/$name" "$out/small2000/$name"
done
for ((i = train; i < train + stride * held_out; i += stride)); do
  place "$prepared/${names[$i]}" "$out/heldout500/${names[$i]}"
done
"$fid" --stats "$out/heldout500" "$out/heldout500.pkl"
echo "$out/small2000: $train faces; $out/heldout500: $held_out faces, statistics in $out/heldout500.pkl"
