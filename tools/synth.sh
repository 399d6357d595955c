#!/usr/bin/env bash
# `make synth`: Yosys synthesis (hw/syn/synth.ys) of every RTL top, one after the other; fails on a
# latch or a failed check, and prints a table of cells and flip-flops per top. The tops are the
# ones `make lint` checks: generated register blocks (hw/rtl/gen/<block>_reg_top.sv with their
# package and hw/rtl/prim) and hand-written hw/rtl/**/<name>_top.sv (with every source under
# hw/rtl). Logs go to build/synth/<top>.log. SYNTH_JOBS (default: the number of CPUs) tops run at
# once; the endpoint tops take minutes each, so they overlap.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v yosys >/dev/null 2>&1; then
  echo "synth: yosys is not installed; run 'make deps'" >&2
  exit 1
fi
logs=build/synth
mkdir -p "$logs"

source tools/rtl-tops.sh synth

jobs=${SYNTH_JOBS:-$(nproc)}
rows=$(mktemp -d)
trap 'rm -rf "$rows"' EXIT
printf 'synth: %-34s %8s %8s\n' top cells flops
# synth TOP FILE... : one Yosys run, one table row or one failure line into $rows/TOP.
synth() {
  local top=$1 log="$logs/$1.log"
  shift
  exec >"$rows/$top"
  if yosys -q -l "$log" -p "read_verilog -sv $*; hierarchy -check -top $top; script hw/syn/synth.ys" \
       >/dev/null 2>&1; then
    # The last statistics block: total cells, and the flip-flop cells among them.
    awk -v top="$top" '
      /Printing statistics/ { cells = 0; flops = 0 }
      /Number of cells:/ { cells = $NF }
      $1 ~ /^\$_.*DFF/ { flops += $2 }
      END { printf "synth: %-34s %8d %8d\n", top, cells, flops }' "$log"
  else
    local why
    why=$(grep -m1 -E '^Latch inferred for signal' "$log" ||
          grep -m1 -E 'ERROR|Assertion failed|found and reported [1-9]' "$log" || echo "yosys failed")
    printf 'synth: FAIL %s: %s (%s)\n' "$top" "$why" "$log"
  fi
}

# run TOP FILE... : synth in the background once fewer than $jobs runs are under way.
order=()
run() {
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  order+=("$1")
  echo "synth: $1 ..." >&2
  synth "$@" &
}

# The hand-written tops first: they are the long ones.
for f in "${handwritten[@]}"; do
  run "$(basename "$f" .sv)" "${all_sources[@]}"
done
for f in "${generated[@]}"; do
  block=$(basename "$f" _reg_top.sv)
  run "${block}_reg_top" "${prims[@]}" "hw/rtl/gen/${block}_reg_pkg.sv" "$f"
done
wait
failed=0
for top in "${order[@]}"; do
  cat "$rows/$top"
  if grep -q '^synth: FAIL' "$rows/$top"; then failed=$((failed + 1)); fi
done

if [ "$failed" -ne 0 ]; then
  echo "synth: $failed of $((${#generated[@]} + ${#handwritten[@]})) tops failed" >&2
  exit 1
fi
