#!/usr/bin/env bash
# Data-parallel throughput: the same DCGAN-64 training (G32/D64, batch 64) on one device and on
# the replicas of --devices, in one run of this script, each for STEPS steps on FACES; prints
# the median images/s of each (the first 5 steps left out as warm-up) and the ratio to the
# first list.
#   bench/devices.sh FACES [STEPS] [DEVICES...]      (default devices: cpu,cpu)
# e.g. on a machine with two GPUs: bench/devices.sh faces/ 200 wgpu:0 wgpu:0,wgpu:1
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench/devices.sh FACES [STEPS] [DEVICES...]"
faces=${1:?$usage}
steps=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
lists=("$@")
[ ${#lists[@]} -gt 0 ] || lists=(cpu cpu,cpu)
bin=${FACEGAN_BIN:-target/release/facegan}
[ -x "$bin" ] || cargo build --release -q --workspace --all-targets
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A speed
for devices in "${lists[@]}"; do
  run=$out/$(printf %s "$devices" | tr -c "a-zA-Z0-9" _)
  # Stopped after STEPS steps; the median leaves out the epoch ends' slow steps.
  "$bin" train --data "$faces" --out "$run" --devices "$devices" --model dcgan \
    --generator-width 32 --discriminator-width 64 --batch-size 64 --epochs 100000 \
    --checkpoint-every 0 >"$run.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -f "$run/log.csv" ] && [ "$(($(wc -l <"$run/log.csv") - 1))" -ge "$steps" ]; then
      kill -INT "$pid"
      break
    fi
    sleep 1
  done
  wait "$pid" || true
  speed[$devices]=$(awk -F, 'NR > 1 { if (NR > 6) print 64 / ($5 - last); last = $5 }' \
    "$run/log.csv" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  printf '%-24s %8.1f images/s (median of %d steps)\n' "$devices" "${speed[$devices]}" \
    "$(($(wc -l <"$run/log.csv") - 6))"
done
base=${lists[0]}
for devices in "${lists[@]:1}"; do
  awk -v a="${speed[$devices]}" -v b="${speed[$base]}" -v n="$devices" -v m="$base" \
    'BEGIN { printf "%s / %s: %.2fx\n", n, m, a / b }'
done
