#!/usr/bin/env bash
# FID over a run's time: scores each snapshot the run kept (snapshots/epoch_NNN.fgw, from
# `facegan train --snapshot-every N`) by the house protocol (COUNT faces from seeds 0.. against
# REAL, a `fid --stats` file) and appends `epoch,fid,faces` to RUN_DIR/fid.csv, which the run's
# report plots. Snapshots already in fid.csv are skipped, so rerunning it while the run trains
# scores only the new ones. Then it rewrites the report.
#   scripts/fid-over-time.sh RUN_DIR REAL.pkl [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/fid-over-time.sh RUN_DIR REAL.pkl [COUNT]"
run=${1:?$usage}
real=${2:?$usage}
count=${3:-2000}
fid=../shared/tools/fid
bin=${FACEGAN_BIN:-target/release/facegan}
[ -x "$fid" ] || { echo "no $fid: FID needs ../shared" >&2; exit 1; }
[ -f "$real" ] || { echo "no $real: make it with $fid --stats REAL_DIR $real" >&2; exit 1; }
[ -x "$bin" ] || { echo "no $bin: build it with cargo build --release --workspace" >&2; exit 1; }
shopt -s nullglob
snapshots=("$run"/snapshots/epoch_*.fgw)
[ ${#snapshots[@]} -gt 0 ] || {
  echo "no snapshots in $run/snapshots: train with --snapshot-every N" >&2
  exit 1
}
table=$run/fid.csv
[ -f "$table" ] || echo "epoch,fid,faces" >"$table"
faces=$(mktemp -d)
trap 'rm -rf "$faces"' EXIT
for snapshot in "${snapshots[@]}"; do
  name=$(basename "$snapshot" .fgw)
  epoch=$((10#${name#epoch_}))
  if cut -d, -f1 "$table" | grep -qx "$epoch"; then
    continue
  fi
  rm -rf "$faces"/*
  "$bin" generate --weights "$snapshot" --seed 0 --count "$count" --out-dir "$faces" 2>/dev/null
  score=$("$fid" "$real" "$faces" | sed -n 's/^FID: *//p' | tail -n 1)
  [ -n "$score" ] || { echo "$fid printed no FID for $snapshot" >&2; exit 1; }
  echo "$epoch,$score,$count" >>"$table"
  echo "epoch $epoch: FID $score"
done
"$bin" report "$run"
