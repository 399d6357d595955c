# Sourced by tools/lint.sh, tools/synth.sh and tools/synth-fpga.sh: which RTL tops there are and
# which sources each one reads. Run from the repository root. Sets:
#   prims        hw/rtl/prim/*.sv, packages first
#   all_sources  every hw/rtl/**/*.sv, packages first
#   generated    hw/rtl/gen/<block>_reg_top.sv, the generated register blocks
#   handwritten  hw/rtl/**/<name>_top.sv outside gen/ and prim/
# and defines top_sources TOP: the files a tool reads for TOP, one a line (a register block: the
# primitives, its package and itself; a hand-written top: every source).
# Exits with one line naming TOOL ($1) when there is no top at all.

# Packages before the modules that import them.
packages_first() { sort | awk '/_pkg\.sv$/ { print; next } { rest[n++] = $0 } END { for (i = 0; i < n; i++) print rest[i] }'; }

mapfile -t prims < <(find hw/rtl/prim -name '*.sv' | packages_first)
mapfile -t all_sources < <(find hw/rtl -name '*.sv' | packages_first)
mapfile -t generated < <(find hw/rtl/gen -name '*_reg_top.sv' 2>/dev/null | sort)
mapfile -t handwritten < <(find hw/rtl -name '*_top.sv' -not -path 'hw/rtl/gen/*' -not -path 'hw/rtl/prim/*' | sort)
if [ ${#generated[@]} -eq 0 ] && [ ${#handwritten[@]} -eq 0 ]; then
  echo "$1: no RTL tops under hw/rtl; run 'make regs' to generate the register blocks" >&2
  exit 1
fi

top_sources() {
  local top=$1
  if [ -f "hw/rtl/gen/$top.sv" ] && [[ $top == *_reg_top ]]; then
    printf '%s\n' "${prims[@]}" "hw/rtl/gen/${top%_reg_top}_reg_pkg.sv" "hw/rtl/gen/$top.sv"
  else
    printf '%s\n' "${all_sources[@]}"
  fi
}
