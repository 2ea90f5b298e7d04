#!/usr/bin/env bash
# Prints what a visitor downloads: each file of dist/ raw and gzipped (gzip -9, what a static
# host would serve), and two totals against their budgets: what a visitor who only looks at
# faces downloads (the page, its wasm and the face generator: 4 MB gzip), and what the drawing
# pad fetches when it opens (its models and example sketches: 2.5 MB more).
set -euo pipefail
dist=${1:-dist}
faces_budget=${FACES_BUDGET_BYTES:-4000000}
pad_budget=${PAD_BUDGET_BYTES:-2500000}
# The drawing pad's files, fetched only when it opens.
pad_files='^(weights/sketch-[^/]*|examples/.*)$'

printf '%-48s %12s %12s %6s\n' file bytes gzip part
total_raw=0 faces=0 pad=0
while IFS= read -r file; do
  name=${file#"$dist"/}
  raw=$(stat -c %s "$file")
  zipped=$(gzip -9 -c "$file" | wc -c)
  total_raw=$((total_raw + raw))
  if [[ $name =~ $pad_files ]]; then part=pad; pad=$((pad + zipped)); else part=faces; faces=$((faces + zipped)); fi
  printf '%-48s %12d %12d %6s\n' "$name" "$raw" "$zipped" "$part"
done < <(find "$dist" -type f | sort)
printf '%-48s %12d %12d\n' total "$total_raw" "$((faces + pad))"
status=0
for part in faces pad; do
  used=${!part} budget_var=${part}_budget
  budget=${!budget_var}
  awk -v part="$part" -v used="$used" -v budget="$budget" \
    'BEGIN { printf "%s: %d bytes gzip of a %d budget (%.0f%%)\n", part, used, budget, 100 * used / budget }'
  if ((used > budget)); then
    echo "$part over budget by $((used - budget)) bytes" >&2
    status=1
  fi
done
exit $status
