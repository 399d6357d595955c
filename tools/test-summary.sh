#!/usr/bin/env bash
# Adds up the TRX files of one `dotnet test` run and prints the closing count line.
# Exits 1 when a test failed or no test ran.
set -euo pipefail
dir=${1:?usage: test-summary.sh RESULTS_DIR}
total=0 passed=0 failed=0
shopt -s nullglob
files=("$dir"/*.trx)
for f in "${files[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  get() { sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p" <<<"$counters"; }
  total=$((total + $(get total)))
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
done
skipped=$((total - passed - failed))
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "${#files[@]}" -gt 0 ] && [ "$failed" -eq 0 ] && [ "$total" -gt 0 ]
