#!/usr/bin/env bash
# Prints what a visitor downloads: each file of dist/ raw and gzipped (gzip -9, what a static
# host would serve), and the total against the 6 MB gzip budget for page plus weights.
set -euo pipefail
dist=${1:-dist}
budget=${BUDGET_BYTES:-6000000}

printf '%-48s %12s %12s\n' file bytes gzip
total_raw=0
total_gzip=0
while IFS= read -r file; do
  raw=$(stat -c %s "$file")
  zipped=$(gzip -9 -c "$file" | wc -c)
  total_raw=$((total_raw + raw))
  total_gzip=$((total_gzip + zipped))
  printf '%-48s %12d %12d\n' "${file#"$dist"/}" "$raw" "$zipped"
done < <(find "$dist" -type f | sort)
printf '%-48s %12d %12d\n' total "$total_raw" "$total_gzip"
awk -v used="$total_gzip" -v budget="$budget" \
  'BEGIN { printf "budget: %d bytes gzip; used %.0f%%\n", budget, 100 * used / budget }'
if ((total_gzip > budget)); then
  echo "over budget by $((total_gzip - budget)) bytes" >&2
  exit 1
fi
