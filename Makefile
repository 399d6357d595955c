# VirtioHw build entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

DOTNET       ?= dotnet
CONFIG       ?= Release
BUILD_DIR    := build
DOTNET_FLAGS := --nologo -c $(CONFIG) -v quiet -clp:NoSummary -p:UseSharedCompilation=true
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

# Debian packages the project needs, and one binary (or library) that proves each is there.
DEB_PACKAGES := verilator yosys nextpnr-ice40 iverilog qemu-system-x86 libftdi1-2 gnuplot-nox g++ gtkwave
DEB_PROBES   := verilator:verilator yosys:yosys nextpnr-ice40:nextpnr-ice40 iverilog:iverilog qemu-system-x86:qemu-system-x86_64 gnuplot-nox:gnuplot g++:g++ gtkwave:fst2vcd

RDL      := $(sort $(wildcard hw/regs/*.rdl))
REGC     := $(DOTNET) run --project hw/regc -c $(CONFIG) --
REGC_OUT := --sv hw/rtl/gen --cs hw/registers/gen --c hw/include/virtiohw --md docs/regs
EPGEN    := $(DOTNET) run --project hw/epgen -c $(CONFIG) --
ENDPOINTS := $(sort $(wildcard hw/endpoints/*.yaml))

.PHONY: help build test deps regs regc-check check-generated lint synth synth-fpga cosim cosim-clean run demo pack clean bench bench-quick bench-build fuzz fuzz-afl

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

build: ## build every C# project
	$(DOTNET) build VirtioHw.sln $(DOTNET_FLAGS)

# cosim before build: it rewrites a committed C# binding when an RTL top's ports changed.
test: deps cosim build ## install what is missing, build, run every test; ends with the count line
	@rm -rf $(BUILD_DIR)/test-results
	@set +e; $(DOTNET) test VirtioHw.sln --no-build $(DOTNET_FLAGS); rc=$$?; \
	  tools/test-summary.sh $(BUILD_DIR)/test-results; summary=$$?; \
	  [ $$rc -eq 0 ] && [ $$summary -eq 0 ]

deps: ## install the Debian packages the project needs (as root), or say how
	@tools/deps.sh $(DEB_PROBES)

regs: ## regenerate RTL, C#, C and Markdown from hw/regs/*.rdl, and the endpoint packages from hw/endpoints/*.yaml
	$(REGC) $(REGC_OUT) $(RDL)
	$(EPGEN) --sv hw/rtl/gen $(ENDPOINTS)

regc-check: ## check one description without generating: make regc-check RDL=hw/regs/x.rdl
	$(REGC) --check $(RDL)

GENERATED := hw/rtl/gen hw/registers/gen hw/include docs/regs cosim/VirtioHw.Cosim/gen

check-generated: regs ## regenerate and fail if anything committed differs
	@$(MAKE) --no-print-directory -f cosim/cosim.mk DOTNET=$(DOTNET) CONFIG=$(CONFIG) bindings
	@if ! git diff --quiet --exit-code -- $(GENERATED) \
	     || [ -n "$$(git ls-files --others --exclude-standard $(GENERATED))" ]; then \
	  git status --short -- $(GENERATED); \
	  echo "check-generated: generated files differ from hw/regs/*.rdl or the RTL; run 'make regs cosim' and commit"; exit 1; \
	fi; echo "check-generated: generated files match hw/regs/*.rdl and the RTL"

lint: ## verilator --lint-only -Wall over every RTL top (waivers per block in hw/lint/*.vlt)
	@tools/lint.sh

synth: ## Yosys synthesis of every RTL top; fails on latches; prints cell counts
	@tools/synth.sh

synth-fpga: ## FPGA area, LUT depth and iCE40 fmax per RTL top (TOP="a b" for some); build/synth-fpga/summary.tsv (hw/syn/README.md)
	@tools/synth-fpga.sh $(TOP)

cosim: ## Verilate every RTL top into build/cosim/<top>/libvhw_<top>.so, with its C# binding (cosim/README.md)
	@$(MAKE) --no-print-directory -j2 -f cosim/cosim.mk DOTNET=$(DOTNET) CONFIG=$(CONFIG)

cosim-clean: ## remove the co-simulation build (build/cosim)
	rm -rf $(BUILD_DIR)/cosim

demo: ## the ISM demonstration on the model: two devices of one domain share a region (virtiohw demo)
	@$(DOTNET) run --project hostsw/VirtioHw.Cli -c $(CONFIG) -- demo

bench: ## every benchmark side by side with its alternatives; rewrites BENCHMARKS.md and docs/bench/*.png (bench/README.md)
	@$(MAKE) --no-print-directory -f bench/bench.mk DOTNET=$(DOTNET) CONFIG=$(CONFIG) bench

bench-quick: ## a smaller run of every benchmark; its report goes to build/bench-quick/BENCHMARKS.md, BENCHMARKS.md stays as it is
	@$(MAKE) --no-print-directory -f bench/bench.mk DOTNET=$(DOTNET) CONFIG=$(CONFIG) bench-quick

bench-build: ## after bench: adds the build times from a clean clone to BENCHMARKS.md (half an hour or more)
	@$(MAKE) --no-print-directory -f bench/bench.mk DOTNET=$(DOTNET) CONFIG=$(CONFIG) bench-build

fuzz: ## seeded fuzzing of every input for FUZZ_SECONDS per target (FUZZ_SEED); tests/VirtioHw.Fuzz/README.md
	@$(MAKE) --no-print-directory -f tests/fuzz.mk DOTNET=$(DOTNET) CONFIG=$(CONFIG) fuzz

fuzz-afl: ## coverage-guided fuzzing of TARGET under AFL++ for FUZZ_SECONDS; tests/VirtioHw.Fuzz/README.md
	@$(MAKE) --no-print-directory -f tests/fuzz.mk DOTNET=$(DOTNET) CONFIG=$(CONFIG) TARGET=$(TARGET) fuzz-afl

run: ## run the virtiohw CLI from the tree: make run ARGS='regs list'
	@$(DOTNET) run --project hostsw/VirtioHw.Cli -c $(CONFIG) -- $(ARGS)

pack: ## pack the CLI as a .NET tool into build/nupkg
	$(DOTNET) pack hostsw/VirtioHw.Cli $(DOTNET_FLAGS) -o $(BUILD_DIR)/nupkg

clean: ## remove build output
	rm -rf $(BUILD_DIR)
	find . -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
