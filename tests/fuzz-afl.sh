#!/usr/bin/env bash
# Coverage-guided fuzzing of one target under AFL++ (SharpFuzz instruments the assemblies that
# hold its parser): tests/fuzz-afl.sh TARGET SECONDS FUZZ_BIN_DIR
# Output in build/fuzz-afl/TARGET (afl's queue, crashes, fuzzer_stats); prints progress every
# 10 s and, at the end, executions, edges, paths and crashes from fuzzer_stats.
set -euo pipefail
target=$1 seconds=$2 bin=$3
case $target in
  rdl) assemblies="regc.dll" ;;
  bit|ihex|sfdp|board) assemblies="VirtioHw.Flash.dll" ;;
  endpoint) assemblies="VirtioHw.Model.dll epgen.dll" ;;
  domain) assemblies="VirtioHw.Domain.dll VirtioHw.Firmware.Ism.dll" ;;
  ivshmem) assemblies="VirtioHw.Platforms.Qemu.dll" ;;
  *) echo "fuzz-afl: no AFL target '$target' (rdl bit ihex sfdp board endpoint domain ivshmem)" >&2; exit 2 ;;
esac
command -v afl-fuzz >/dev/null || { echo "fuzz-afl: afl-fuzz is missing: apt-get install afl++" >&2; exit 2; }

out=build/fuzz-afl/$target
rm -rf "$out" && mkdir -p "$out/in"
# The instrumented copy is the target's own: the seeded loop keeps running uninstrumented code.
cp -r "$bin" "$out/bin"
for a in $assemblies; do dotnet sharpfuzz "$out/bin/$a" >/dev/null; done
dotnet "$out/bin/virtiohw-fuzz.dll" --target "$target" --starters "$out/in"
corpus=tests/VirtioHw.Fuzz.Tests/Corpus/$target
[[ -d $corpus ]] && cp "$corpus"/* "$out/in/" 2>/dev/null || true

# Socket targets start a server per input: a longer timeout.
case $target in domain|ivshmem) timeout_ms=20000 ;; *) timeout_ms=5000 ;; esac
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_FORKSRV_INIT_TMOUT=60000
nice afl-fuzz -i "$out/in" -o "$out" -t "$timeout_ms" -m none -V "$seconds" -- dotnet "$out/bin/virtiohw-fuzz.dll" --afl "$target" >"$out/afl.log" 2>&1 &
afl=$!
stats=$out/default/fuzzer_stats
field() { sed -n "s/^$1 *: //p" "$stats" 2>/dev/null; }
start=$SECONDS
while kill -0 $afl 2>/dev/null; do
  sleep 10
  [[ -f $stats ]] && echo "fuzz-afl $target: $((SECONDS - start)) s, $(field execs_done) executions, $(field edges_found) edges, $(field corpus_count) paths, $(field saved_crashes) crashes"
done
wait $afl || { tail -20 "$out/afl.log" >&2; exit 1; }
echo "fuzz-afl $target ($seconds s): $(field execs_done) executions, $(field edges_found) edges of $(field total_edges), $(field corpus_count) paths, $(field saved_crashes) crashes, $(field saved_hangs) hangs"
echo "queue: $out/default/queue; crashes: $out/default/crashes (replay: virtiohw-fuzz --target $target --replay FILE)"
