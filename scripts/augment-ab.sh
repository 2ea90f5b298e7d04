#!/usr/bin/env bash
# DiffAugment head to head on a small data set: trains the same DCGAN twice on FACES (a
# prepared folder), without and with `--augment color,translation,cutout`, exports both
# (weight-averaged generators), draws COUNT faces from seeds 0.. with each, and prints FID
# against REAL (a folder of held-out prepared faces, not in FACES, at least COUNT of them).
#   scripts/augment-ab.sh FACES REAL [EPOCHS] [COUNT]
# Runs go to ${OUT:-target/augment-ab}. FID needs ../shared/tools/fid (see its header); only
# figures of the same COUNT compare.
set -euo pipefail
cd "$(dirname "$0")/.."
faces=${1:?usage: scripts/augment-ab.sh FACES REAL [EPOCHS] [COUNT]}
real=${2:?usage: scripts/augment-ab.sh FACES REAL [EPOCHS] [COUNT]}
epochs=${3:-25}
count=${4:-500}
out=${OUT:-target/augment-ab}
fid=../shared/tools/fid
[ -x "$fid" ] || { echo "no $fid: FID needs ../shared" >&2; exit 1; }
cargo build --release -q --workspace --all-targets
mkdir -p "$out"
rm -rf "$out/real" && mkdir -p "$out/real"
find "$real" -name '*.png' | sort | head -n "$count" | xargs -I{} cp {} "$out/real/"
"$fid" --stats "$out/real" "$out/real.pkl"
for variant in plain augmented; do
  flags=()
  [ "$variant" = augmented ] && flags=(--augment color,translation,cutout)
  run="$out/$variant"
  target/release/facegan train --data "$faces" --out "$run" --epochs "$epochs" "${flags[@]}"
  target/release/facegan export "$run" --out "$out/$variant.fgw"
  rm -rf "$out/$variant-faces"
  target/release/facegan generate --weights "$out/$variant.fgw" --seed 0 --count "$count" \
    --out-dir "$out/$variant-faces"
  echo "$variant: $("$fid" "$out/real.pkl" "$out/$variant-faces" | tail -n 1)"
done
