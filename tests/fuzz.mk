# Fuzzing (tests/VirtioHw.Fuzz): every target for FUZZ_SECONDS each, from FUZZ_SEED.
#   make -f tests/fuzz.mk fuzz [FUZZ_SECONDS=30] [FUZZ_SEED=1] [FUZZ_TARGETS=all|rdl,ism,...]
# Prints executions, distinct inputs, faults injected and failures per target and writes the
# table to build/fuzz/summary.txt. A failing input is minimised into
# tests/VirtioHw.Fuzz.Tests/Regressions/TARGET/, where the tests replay it: fix, then commit it.
# Coverage-guided: one target under AFL++ through SharpFuzz (tests/fuzz-afl.sh):
#   make -f tests/fuzz.mk fuzz-afl TARGET=rdl [FUZZ_SECONDS=60]
# Output in build/fuzz-afl/TARGET; prints executions, edges, paths and crashes from fuzzer_stats.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

DOTNET       ?= dotnet
CONFIG       ?= Release
FUZZ_SECONDS ?= 30
FUZZ_SEED    ?= 1
FUZZ_TARGETS ?= all
FUZZ_OUT     := build/fuzz
FUZZ_BIN     := tests/VirtioHw.Fuzz/bin/$(CONFIG)/net10.0/virtiohw-fuzz

.PHONY: fuzz fuzz-build fuzz-afl

fuzz-build:
	$(DOTNET) build tests/VirtioHw.Fuzz/VirtioHw.Fuzz.csproj --nologo -c $(CONFIG) -v quiet -clp:NoSummary -p:UseSharedCompilation=true

fuzz: fuzz-build
	@mkdir -p $(FUZZ_OUT)
	$(FUZZ_BIN) --target $(FUZZ_TARGETS) --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) \
	  --failures tests/VirtioHw.Fuzz.Tests/Regressions --summary $(FUZZ_OUT)/summary.txt

fuzz-afl: fuzz-build
	@test -n "$(TARGET)" || { echo "fuzz-afl: TARGET=NAME (rdl bit ihex sfdp board endpoint domain ivshmem)" >&2; exit 2; }
	@$(DOTNET) tool restore >/dev/null
	tests/fuzz-afl.sh $(TARGET) $(FUZZ_SECONDS) $(dir $(FUZZ_BIN))
