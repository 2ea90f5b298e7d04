#!/usr/bin/env bash
# The small-data-set table of docs/training-log.md: four face generators trained from scratch on
# FACES (a prepared folder, e.g. the first 2,000 prepared faces) for the same wall-clock MINUTES,
# all four at once, one thread each and niced, so that they share the machine alike whatever
# else runs: DCGAN (the shipped G32/D64 recipe), DCGAN + DiffAugment, ResNet GAN, ResNet GAN +
# DiffAugment. Each is exported (weight average, standing statistics), draws COUNT faces from
# seeds 0.. and is scored by FID against REAL (a `fid --stats` file of held-out prepared faces).
#   scripts/small-set.sh FACES REAL.pkl [MINUTES] [COUNT]
# scripts/small-set-split.sh cuts FACES and REAL from a prepared folder.
# Runs go to ${OUT:-target/small-set}; the table is printed and written to $OUT/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/small-set.sh FACES REAL.pkl [MINUTES] [COUNT]"
faces=${1:?$usage}
real=${2:?$usage}
minutes=${3:-60}
count=${4:-2000}
out=${OUT:-target/small-set}
fid=../shared/tools/fid
[ -x "$fid" ] || { echo "no $fid: FID needs ../shared" >&2; exit 1; }
[ -f "$real" ] || { echo "no $real: make it with $fid --stats REAL_DIR $real" >&2; exit 1; }
cargo build --release -q --workspace --all-targets
mkdir -p "$out"
# A copy, so that rebuilding while the runs train cannot change the tool that scores them.
cp target/release/facegan "$out/facegan"
bin=$out/facegan

augment=(--augment color,translation,cutout)
declare -A flags=(
  [dcgan]="--model dcgan --generator-width 32 --discriminator-width 64"
  [dcgan-augment]="--model dcgan --generator-width 32 --discriminator-width 64 ${augment[*]}"
  [resnet]="--model resnet"
  [resnet-augment]="--model resnet ${augment[*]}"
)
rows=(dcgan dcgan-augment resnet resnet-augment)
for row in "${rows[@]}"; do
  # shellcheck disable=SC2086 # flags are words on purpose
  RAYON_NUM_THREADS=1 nice -n 19 "$bin" train --data "$faces" --out "$out/$row" \
    --minutes "$minutes" --epochs 100000 --snapshot-every 10 ${flags[$row]} \
    >"$out/$row.log" 2>&1 &
done
wait

: >"$out/results.txt"
for row in "${rows[@]}"; do
  "$bin" export "$out/$row" --out "$out/$row.fgw"
  rm -rf "$out/$row-faces"
  "$bin" generate --weights "$out/$row.fgw" --seed 0 --count "$count" --out-dir "$out/$row-faces"
  steps=$(tail -n 1 "$out/$row/log.csv" | cut -d, -f1)
  echo "$row: $minutes min, step $steps, $("$fid" "$real" "$out/$row-faces" | tail -n 1)" |
    tee -a "$out/results.txt"
done
