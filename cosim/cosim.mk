# `make cosim`: every RTL top into build/cosim/<top>/libvhw_<top>.so, with its C# binding.
#   - each generated register block hw/rtl/gen/<block>_reg_top.sv, read with its package and
#     hw/rtl/prim; each hand-written hw/rtl/**/<name>_top.sv, read with every source under hw/rtl
#     (packages first); waivers hw/lint/regc.vlt and hw/lint/<block>.vlt, as in tools/lint.sh;
#   - verilator --xml-only gives the port list, from which cosim-gen writes the C++ shim
#     (build/cosim/<top>/<top>_shim.cpp) and the C# binding (cosim/VirtioHw.Cosim/gen, committed);
#   - verilator --cc gives the model; model, shim and the Verilator runtime (built once) link into
#     one shared library that exports only vhw_<top>_* symbols.
# Incremental: a step reruns only when its inputs changed. One line per top that was (re)built;
# the tools' output goes to build/cosim/<top>/<step>.log.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:

DOTNET    ?= dotnet
CONFIG    ?= Release
VERILATOR ?= verilator
CXX       := g++
OUT       := build/cosim
CS_OUT    := cosim/VirtioHw.Cosim/gen
SHIM      := cosim/shim

ifeq ($(shell command -v $(VERILATOR)),)
$(error cosim: Verilator is not installed; run 'make deps')
endif
ifeq ($(shell command -v $(CXX)),)
$(error cosim: $(CXX) is not installed; install it with: sudo apt-get install g++)
endif
ifneq ($(shell $(CXX) -E -x c++ -include zlib.h /dev/null >/dev/null 2>&1 && echo ok),ok)
$(error cosim: zlib.h is missing (FST waveforms need it); install it with: sudo apt-get install zlib1g-dev)
endif
VROOT := $(shell $(VERILATOR) --getenv VERILATOR_ROOT)

# ---- the tops and their sources ----

packages_first = $(filter %_pkg.sv,$(1)) $(filter-out %_pkg.sv,$(1))
PRIMS     := $(call packages_first,$(sort $(shell find hw/rtl/prim -name '*.sv')))
ALL_SV    := $(call packages_first,$(sort $(shell find hw/rtl -name '*.sv')))
GEN_TOPS  := $(sort $(basename $(notdir $(wildcard hw/rtl/gen/*_reg_top.sv))))
HAND_TOPS := $(sort $(basename $(notdir $(shell find hw/rtl -name '*_top.sv' -not -path 'hw/rtl/gen/*' -not -path 'hw/rtl/prim/*'))))
TOPS      := $(GEN_TOPS) $(HAND_TOPS)
ifeq ($(strip $(TOPS)),)
$(error cosim: no RTL tops under hw/rtl; run 'make regs' to generate the register blocks)
endif

# Per top: src_<top> (the files Verilator reads, in order) and vlt_<top> (its waivers).
$(foreach t,$(GEN_TOPS),$(eval src_$(t) := $(PRIMS) hw/rtl/gen/$(t:_reg_top=_reg_pkg).sv hw/rtl/gen/$(t).sv))
$(foreach t,$(GEN_TOPS),$(eval vlt_$(t) := hw/lint/regc.vlt $(wildcard hw/lint/$(t:_reg_top=).vlt)))
$(foreach t,$(HAND_TOPS),$(eval src_$(t) := $(ALL_SV)))
# A hand-written top reads every source, so it takes the waivers of every hand-written top (each names its file).
HAND_VLT  := $(wildcard hw/lint/endpoint.vlt $(foreach t,$(HAND_TOPS),hw/lint/$(t:_top=).vlt))
$(foreach t,$(HAND_TOPS),$(eval vlt_$(t) := hw/lint/regc.vlt $(HAND_VLT)))

# ---- flags ----

# Protocol assertions (`assert property` in the generated blocks) are checked in co-simulation; a
# failing one becomes an error of the call that ran into it. Tracing is compiled in, off until asked.
VFLAGS   := --cc -O3 --x-assign fast --x-initial fast --trace-fst --assert --timescale 1ns/1ps
CPPFLAGS := -I$(VROOT)/include -I$(VROOT)/include/vltstd -I$(SHIM) \
            -DVM_COVERAGE=0 -DVM_SC=0 -DVM_TRACE=1 -DVM_TRACE_FST=1 -DVM_TRACE_VCD=0 \
            -DVL_USER_FATAL -DVL_USER_STOP -DVL_USER_FINISH -DVL_PRINTF=vhw_printf -include vhw_print.h
# -O1: most of the speed of -O2 for far less compile time on the large generated sources. Hidden
# visibility: several of these libraries share one process, and only vhw_* is meant to be seen.
CXXFLAGS := -std=gnu++17 -O1 -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -faligned-new \
            -Wno-bool-operation -Wno-sign-compare -Wno-uninitialized -Wno-unused-but-set-variable \
            -Wno-unused-parameter -Wno-unused-variable -Wno-shadow
LDFLAGS  := -shared -Wl,--exclude-libs,ALL -Wl,--version-script=$(SHIM)/exports.map
LDLIBS   := -lz -pthread -latomic

# $(call step,LOG,WHAT,COMMAND): COMMAND with its output in LOG; one line naming the first error if it fails.
step = { $(3); } >$(1) 2>&1 || { \
  echo "cosim: FAIL $(2): $$(grep -m1 -E '%Error|error:|Error' $(1) || tail -n1 $(1)) (log: $(1))" >&2; exit 1; }

# ---- the Verilator runtime, built once, shared by every top ----

RUNTIME_SRC := $(VROOT)/include/verilated.cpp $(VROOT)/include/verilated_threads.cpp \
               $(VROOT)/include/verilated_fst_c.cpp $(SHIM)/vhw_verilated.cpp
RUNTIME_OBJ := $(patsubst %.cpp,$(OUT)/runtime/%.o,$(notdir $(RUNTIME_SRC)))
RUNTIME     := $(OUT)/runtime/libvhw_verilated.a

.PHONY: all bindings
all: $(foreach t,$(TOPS),$(OUT)/$(t)/libvhw_$(t).so)
	@echo "cosim: $(words $(TOPS)) tops up to date in $(OUT)"

# Only the port lists and what is generated from them: what `make check-generated` compares.
bindings: $(OUT)/generated.stamp

$(RUNTIME): $(RUNTIME_OBJ)
	@rm -f $@
	@$(call step,$(OUT)/runtime/ar.log,Verilator runtime,ar rcs $@ $^)

define runtime_object
$(OUT)/runtime/$(basename $(notdir $(1))).o: $(1) $(SHIM)/vhw_instance.h $(SHIM)/vhw_print.h cosim/cosim.mk
	@mkdir -p $$(@D)
	@$$(call step,$(OUT)/runtime/$(basename $(notdir $(1))).log,Verilator runtime,$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $(1) -o $$@)
endef
$(foreach s,$(RUNTIME_SRC),$(eval $(call runtime_object,$(s))))

# ---- the C++ shims and C# bindings, from every top's port list in one run ----

GEN_DLL := cosim/VirtioHw.Cosim.Gen/bin/$(CONFIG)/net10.0/cosim-gen.dll
GEN_SRC := $(wildcard cosim/VirtioHw.Cosim.Gen/*.cs cosim/VirtioHw.Cosim.Gen/*.csproj)
XMLS    := $(foreach t,$(TOPS),$(OUT)/$(t)/$(t).xml)

$(OUT)/generated.stamp: $(XMLS) $(GEN_SRC)
	@mkdir -p $(@D)
	@$(call step,$(OUT)/generate.log,cosim-gen,$(DOTNET) build cosim/VirtioHw.Cosim.Gen -c $(CONFIG) --nologo -v quiet -clp:NoSummary)
	@$(DOTNET) $(GEN_DLL) --shim $(OUT) --cs $(CS_OUT) $(XMLS)
	@touch $@

# ---- per top ----

define top_rules
$(OUT)/$(1)/$(1).xml: $(src_$(1)) $(vlt_$(1)) cosim/cosim.mk
	@mkdir -p $$(@D)
	@$$(call step,$(OUT)/$(1)/xml.log,$(1),$(VERILATOR) --xml-only --top-module $(1) -Mdir $(OUT)/$(1)/xml --xml-output $$@ $(vlt_$(1)) $(src_$(1)))

$(OUT)/$(1)/obj/verilated.stamp: $(src_$(1)) $(vlt_$(1)) cosim/cosim.mk
	@rm -rf $$(@D) && mkdir -p $$(@D)
	@$$(call step,$(OUT)/$(1)/verilate.log,$(1),$(VERILATOR) $(VFLAGS) --top-module $(1) -Mdir $$(@D) $(vlt_$(1)) $(src_$(1)))
	@touch $$@

# One translation unit for the whole model: a single compiler start per top.
$(OUT)/$(1)/model.o: $(OUT)/$(1)/obj/verilated.stamp
	@for f in $(OUT)/$(1)/obj/V$(1)*.cpp; do echo "#include \"$$$${f##*/}\""; done >$(OUT)/$(1)/obj/model.cpp
	@$$(call step,$(OUT)/$(1)/model.log,$(1),$(CXX) $(CPPFLAGS) -I$(OUT)/$(1)/obj $(CXXFLAGS) -c $(OUT)/$(1)/obj/model.cpp -o $$@)

# Written by the generator run; rewritten only when its text changes.
$(OUT)/$(1)/$(1)_shim.cpp: $(OUT)/generated.stamp ;

$(OUT)/$(1)/shim.o: $(OUT)/$(1)/$(1)_shim.cpp $(OUT)/$(1)/obj/verilated.stamp $(wildcard $(SHIM)/*.h)
	@$$(call step,$(OUT)/$(1)/shim.log,$(1),$(CXX) $(CPPFLAGS) -I$(OUT)/$(1)/obj $(CXXFLAGS) -c $$< -o $$@)

$(OUT)/$(1)/libvhw_$(1).so: $(OUT)/$(1)/model.o $(OUT)/$(1)/shim.o $(RUNTIME)
	@$$(call step,$(OUT)/$(1)/link.log,$(1),$(CXX) $$(LDFLAGS) -o $$@ $$^ $(LDLIBS))
	@echo "cosim: built $(1)"
endef
$(foreach t,$(TOPS),$(eval $(call top_rules,$(t))))
