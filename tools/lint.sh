#!/usr/bin/env bash
# `make lint`: verilator --lint-only -Wall over every RTL top, one line per top; fails if any fails.
#   - each generated register block: hw/rtl/gen/<block>_reg_top.sv with its package and hw/rtl/prim,
#     waivers in hw/lint/<block>.vlt;
#   - each hand-written top: hw/rtl/**/<name>_top.sv outside gen/ and prim/, read with every source
#     under hw/rtl (packages first), waivers in hw/lint/<name>.vlt and those of every other
#     hand-written top: Verilator lints every module it reads, and each waiver names its file.
# hw/lint/regc.vlt (waivers for the generated packages) applies to every top that reads them.
# Full Verilator output per top goes to build/lint/<top>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v verilator >/dev/null 2>&1; then
  echo "lint: verilator is not installed; run 'make deps'" >&2
  exit 1
fi
logs=build/lint
mkdir -p "$logs"

source tools/rtl-tops.sh lint

failed=0
# Waivers of the hand-written tops, for every hand-written top.
hand_waivers=()
# Waivers every endpoint top shares (hw/lint/endpoint.vlt), then each top's own.
[ -f hw/lint/endpoint.vlt ] && hand_waivers+=(hw/lint/endpoint.vlt)
for f in "${handwritten[@]}"; do
  t=$(basename "$f" _top.sv)
  [ -f "hw/lint/$t.vlt" ] && hand_waivers+=("hw/lint/$t.vlt")
done

# lint TOP BLOCK FILE... : one Verilator run, one line of output.
lint() {
  local top=$1 block=$2
  shift 2
  local waivers=(hw/lint/regc.vlt)
  if [ "$top" = "${block}_top" ]; then
    waivers+=("${hand_waivers[@]}")
  elif [ -f "hw/lint/$block.vlt" ]; then
    waivers+=("hw/lint/$block.vlt")
  fi
  if verilator --lint-only -Wall --top-module "$top" "${waivers[@]}" "$@" >"$logs/$top.log" 2>&1; then
    printf 'lint: ok   %s\n' "$top"
  else
    local first count
    first=$(grep -m1 -E '^%(Warning|Error)' "$logs/$top.log" || tail -n1 "$logs/$top.log")
    count=$(grep -cE '^%(Warning|Error)-' "$logs/$top.log" || true)
    printf 'lint: FAIL %s: %s (%s messages, %s)\n' "$top" "$first" "$count" "$logs/$top.log"
    failed=$((failed + 1))
  fi
}

for f in "${generated[@]}"; do
  block=$(basename "$f" _reg_top.sv)
  lint "${block}_reg_top" "$block" "${prims[@]}" "hw/rtl/gen/${block}_reg_pkg.sv" "$f"
done
for f in "${handwritten[@]}"; do
  top=$(basename "$f" .sv)
  lint "$top" "${top%_top}" "${all_sources[@]}"
done

total=$((${#generated[@]} + ${#handwritten[@]}))
if [ "$failed" -ne 0 ]; then
  echo "lint: $failed of $total tops failed" >&2
  exit 1
fi
echo "lint: $total tops clean"
