namespace VirtioHw.Benchmarks.Report;

/// <summary>
/// Why a figure is missing or a target was missed: what was found when it was looked into (the
/// figures quoted are from the runs that found it; the tables hold this run's). The report prints
/// the reason next to the verdict; a reason never changes a figure or a verdict.
/// </summary>
public static class Findings
{
    private static readonly Dictionary<string, string> Reasons = new(StringComparer.Ordinal)
    {
        ["cosim-tl"] = "not a cost of the C# call (a `[LibraryImport]` call is a few nanoseconds against about a microsecond of model work per access): the same two harnesses measured 1.17x and 0.95x in earlier runs the same evening at other loads. Here they ran a minute apart at a load average near 40 on two cores, and BenchmarkDotNet's seven short iterations sample far less time than the native harness's 8 seconds, so the load each side met differs more than the sides do.",
        ["cosim-sig"] = "both sides spend much of a transaction in the model rather than in calls: at signal level every output read after an input change settles the Verilated model again (the shim's getters evaluate first), several evaluations per transaction besides the clock edges, and Python pays that same model time plus its ctypes calls (some twenty per transaction, around a microsecond each on this loaded machine). The ratio is bounded by (model + Python calls) / model; earlier runs at other loads gave 6.0x and 7.8x. Reaching 10x reliably needs fewer evaluations per port access in the shim (settle once per tick rather than on every read), not a faster C# call.",
        ["cosim-icarus"] = "Icarus runs this generated register block at about 2,000 cycles per second once its inputs move (an idle clock runs at about 300,000 cycles/s): every input change re-evaluates the block's wide always_comb logic.",
        ["control-rtl"] = "the co-simulation platform (`--platform rtl`, cosim/VirtioHw.Platforms.Cosim) was not in the repository when this harness was written; the row is kept for it.",
        ["ipc-missing"] = "the cross-process harness (`vhw-bench ipc`) did not produce a result in this run.",
        ["datapath"] = "the model's BAR path moves 8 bytes per access: `ModelPlatform` does not override `Platform.ReadMemory`/`WriteMemory` for spans, so `IsmRegion.Write`/`Read` become one MMIO access of at most 8 bytes each (address decode, BAR and chunk-table lookup per access) into the memfd both processes map. That caps the model at tens of MB/s whatever the size, and small transfers are bound by the kick round trip (section 3). A span override in hw/model that copies a chunk slot's run at a time would let the data path approach memcpy of the shared mapping.",
        ["latency-eventfd"] = "a kick crosses the model and the domain server, not one wake-up: host MMIO write, the model's event FIFO, the firmware task (a thread-pool hop), RemoteIsmDomain's UNIX socket to the server, the server's reader and writer threads, the socket to the other process, its reader thread, its firmware, an eventq buffer and MSI-X, then the driver's event task. Two socket hops and about six thread hand-offs against one eventfd wake-up; on two cores shared with builds each hand-off can wait for a time slice, which also makes the p99 long.",
        ["latency-tcp"] = "the same path as for eventfd: two socket hops through the domain server plus the thread hand-offs of the model and firmware on each side, where TCP loopback is one socket hop each way.",
        ["scaling"] = "the firmware walked every chunk slot on each alloc and attach (a LINQ count of free slots over all 131,072 slots) and searched slots and chunks from 0 past every live region; fixed in 8b6e4b0 (a free-slot count and lowest-free hints; the 10-region figure went up about 10x). What remains was not pinned down: a perf profile of the 100,000 case shows no function whose share grows with live regions, and the figures of this benchmark swing by 2x between runs at this load (a quick run measured the 1,000 case faster than the 10 case); the 100,000 case also holds 100,000 regions' state (dictionaries, per-region objects) in the process's heap, though a run with a 256 MiB gen0 budget (DOTNET_GCgen0size) gave the same 2x, so it is not gen0 collections.",
        ["flash-time"] = "re-flashing after a one-byte change is bound by the read the programmer makes to plan: it reads the whole 1 MiB image range before deciding what differs (1 MiB on a single-wire 10 MHz read, about 0.84 s), while erasing and programming the one changed sector takes tens of milliseconds. 50x needs a plan without reading everything (fast dual or quad reads, or comparing against a record of what was last written).",
        ["flash-bus"] = "each 256-byte page costs its 4 bytes of command and address and a 1-byte write enable (1.02), and the rest is status polling: `SpiNorFlash.WaitReady` polls about eight times per typical page-program time (2 bytes per poll). Meeting 1.05 needs the first poll after the typical time, then polls spaced further apart.",
        ["build-missing"] = "`make bench-quick` leaves the build times out (several minutes on two cores); `make bench` measures them.",
    };

    public static string Reason(string key) => Reasons.TryGetValue(key, out string? reason) ? reason : "not yet investigated";
}
