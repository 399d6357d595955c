# `make bench` and `make bench-quick` (the top-level Makefile runs `$(MAKE) -f bench/bench.mk bench`):
# every harness writes one result file into build/bench/results, then `vhw-bench report` turns them
# into a report: `bench` rewrites BENCHMARKS.md and docs/bench/*.png, `bench-quick` writes
# build/bench-quick/BENCHMARKS.md and its plots there and leaves the committed report alone.
# bench/README.md says what each harness measures.
# The area section comes from the last `make synth-fpga` (build/synth-fpga/summary.tsv), which
# this file reads but does not run.
#   bench        every benchmark, full size (under 20 minutes)
#   bench-quick  the same harnesses with smaller runs (under a minute), reported in build/bench-quick
#   bench-build  after bench: adds the build times from a clean clone to its report (half an hour
#                and more on two shared cores, so not part of bench)
# A harness that fails is named, the others still run, the report marks its rows not measured,
# and make fails at the end.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.SUFFIXES:
# The steps share two cores and one results folder: never in parallel, even under make -j.
.NOTPARALLEL:

DOTNET  ?= dotnet
CONFIG  ?= Release
OUT     := build/bench
RESULTS := $(OUT)/results
BIN     := $(OUT)/bin
VHW     := $(DOTNET) bench/VirtioHw.Benchmarks/bin/$(CONFIG)/net10.0/vhw-bench.dll
TOP     := ism_endpoint_top
LIB     := build/cosim/$(TOP)/libvhw_$(TOP).so
SEQ     := $(OUT)/cosim-sequence.txt
# What `vhw-bench sequence` prints: TOP PORT ADDRESS_BITS, the slave the sequence drives.
TARGET  := $(OUT)/cosim-target.txt
PYTHON  ?= python3
# Where the report goes: the committed one for a full run, build/bench-quick for a quick one.
REPORT_MD    ?= BENCHMARKS.md
REPORT_PLOTS ?= docs/bench
QUICK_REPORT := REPORT_MD=$(OUT)-quick/BENCHMARKS.md REPORT_PLOTS=$(OUT)-quick/plots
# The table `make synth-fpga` writes: the report's area section (not rerun here, it takes long).
AREA    := build/synth-fpga/summary.tsv

# Per mode: seconds each rate harness runs, ping-pong round trips, memcpy seconds per size.
FULL_ARGS  := SECONDS=8 ICARUS_SECONDS=15 ROUNDTRIPS=20000 MEMCPY_SECONDS=0.2 QUICK=
QUICK_ARGS := SECONDS=1 ICARUS_SECONDS=2 ROUNDTRIPS=2000 MEMCPY_SECONDS=0.02 QUICK=--quick

.PHONY: bench bench-quick bench-build harnesses build-times prepare
bench:
	@$(MAKE) --no-print-directory -f bench/bench.mk $(FULL_ARGS) COMMAND='make -f bench/bench.mk bench' harnesses
	@$(MAKE) --no-print-directory -f bench/bench.mk QUICK= report

bench-build:
	@test -s $(RESULTS)/run.json || { echo "bench: no run to add the build times to; run make -f bench/bench.mk bench first" >&2; exit 1; }
	@$(MAKE) --no-print-directory -f bench/bench.mk build-times
	@$(MAKE) --no-print-directory -f bench/bench.mk QUICK= report

bench-quick:
	@$(MAKE) --no-print-directory -f bench/bench.mk $(QUICK_ARGS) COMMAND='make -f bench/bench.mk bench-quick' harnesses
	@$(MAKE) --no-print-directory -f bench/bench.mk QUICK=--quick $(QUICK_REPORT) report

# $(call step,NAME,COMMAND): runs COMMAND, timed; a failure is recorded in $(OUT)/failed and the run goes on.
step = start=$$(date +%s.%N); if { $(2); }; then \
  printf 'bench: %-14s %5.1f s\n' $(1) "$$(echo "$$(date +%s.%N) - $$start" | bc)"; \
  else echo "bench: $(1) FAILED" >&2; echo $(1) >>$(OUT)/failed; fi

prepare:
	@rm -rf $(RESULTS) $(OUT)/failed && mkdir -p $(RESULTS) $(BIN)
	@$(MAKE) --no-print-directory -f cosim/cosim.mk DOTNET=$(DOTNET) CONFIG=$(CONFIG) >/dev/null
	@$(DOTNET) build bench/VirtioHw.Benchmarks -c $(CONFIG) --nologo -v quiet -clp:NoSummary >/dev/null
	@g++ -O2 -std=c++17 -Wall -o $(BIN)/cosim_bench bench/native/cosim_bench.cpp -ldl
	@g++ -O2 -std=c++17 -Wall -o $(BIN)/ipc_bench bench/native/ipc_bench.cpp
	@$(VHW) begin '$(COMMAND)' $(QUICK) --results $(RESULTS) >/dev/null
	@$(VHW) sequence $(SEQ) >$(TARGET)

harnesses: prepare
	@read -r top port bits <$(TARGET); \
	$(call step,cosim-native,$(BIN)/cosim_bench $(LIB) $$top $$port $(SEQ) $(SECONDS) >$(RESULTS)/cosim-native.json); \
	$(call step,cosim-python,$(PYTHON) bench/python/cosim_ctypes.py $(LIB) $$top $$port $$bits $(SEQ) $(SECONDS) >$(RESULTS)/cosim-python.json)
	@$(call step,cosim-icarus,$(PYTHON) bench/icarus/run_icarus.py $(SEQ) $(OUT)/icarus $(ICARUS_SECONDS) >$(RESULTS)/cosim-icarus.json)
	@$(call step,cosim-csharp,$(VHW) cosim $(SEQ) $(QUICK) --results $(RESULTS) >/dev/null)
	@$(call step,control,$(VHW) control $(QUICK) --results $(RESULTS) >/dev/null)
	@$(call step,scaling,$(VHW) scaling $(QUICK) --results $(RESULTS) >/dev/null)
	@$(call step,flash,$(VHW) flash $(QUICK) --results $(RESULTS) >/dev/null)
	@$(call step,ipc,$(VHW) ipc $(QUICK) --results $(RESULTS) >/dev/null)
	@$(call step,ipc-native,$(BIN)/ipc_bench $(ROUNDTRIPS) $(MEMCPY_SECONDS) >$(RESULTS)/ipc-native.json)
	@if [ -f $(AREA) ]; then $(call step,area,$(VHW) area $(AREA) --results $(RESULTS) >/dev/null); \
	else echo "bench: area           no $(AREA) (make synth-fpga writes it): the report marks the area section not measured"; fi
	@$(VHW) end --results $(RESULTS) >/dev/null
	@find $(RESULTS) -name '*.json' -empty -delete

# make test from a clean clone of this checkout's HEAD, then the co-simulation build alone in it.
# make test is stopped after TEST_TIMEOUT seconds, so that a loaded machine cannot hold the run forever.
CLONE        := $(OUT)/clone
TEST_TIMEOUT ?= 1320
build-times:
	@rm -rf $(CLONE) && git clone -q . $(CLONE)
	@load=$$(cut -d' ' -f1 /proc/loadavg); start=$$(date +%s.%N); \
	if timeout $(TEST_TIMEOUT) $(MAKE) --no-print-directory -C $(CLONE) test >$(OUT)/build-make-test.log 2>&1; then ok=passed; \
	  elif [ $$? -eq 124 ]; then ok="stopped after $(TEST_TIMEOUT) s, so the figure is a lower bound"; else ok=FAILED; fi; \
	test_s=$$(printf '%.1f' "$$(echo "$$(date +%s.%N) - $$start" | bc)"); \
	summary=$$(grep -E '^tests: ' $(OUT)/build-make-test.log | tail -n1 || true); \
	cload=$$(cut -d' ' -f1 /proc/loadavg); start=$$(date +%s.%N); \
	$(MAKE) --no-print-directory -C $(CLONE) cosim-clean >/dev/null && { timeout 480 $(MAKE) --no-print-directory -C $(CLONE) cosim >$(OUT)/build-cosim.log 2>&1 || true; }; \
	cosim_s=$$(printf '%.1f' "$$(echo "$$(date +%s.%N) - $$start" | bc)"); \
	printf '{"benchmark":"build","producer":"git clone of HEAD into %s; make test, then make cosim-clean && make cosim there","values":{"make_test_s":%s,"make_test_load1":%s,"cosim_s":%s,"cosim_load1":%s},"notes":{"make test":"%s (%s); log %s"}}\n' \
	  $(CLONE) $$test_s $$load $$cosim_s $$cload "$$ok" "$${summary:-no count line}" $(OUT)/build-make-test.log >$(RESULTS)/build.json; \
	echo "bench: build-times   make test $$test_s s ($$ok), cosim $$cosim_s s"
	@rm -rf $(CLONE)

report:
	@mkdir -p $(dir $(REPORT_MD)) $(REPORT_PLOTS)
	@$(VHW) report --md $(REPORT_MD) --plots $(REPORT_PLOTS) --results $(RESULTS) $(QUICK)
	@if [ -s $(OUT)/failed ]; then echo "bench: failed: $$(tr '\n' ' ' <$(OUT)/failed)" >&2; exit 1; fi
