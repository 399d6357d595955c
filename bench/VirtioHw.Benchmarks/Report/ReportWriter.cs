using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace VirtioHw.Benchmarks.Report;

/// <summary>
/// <c>vhw-bench report</c>: BENCHMARKS.md from the result files of one run — a table per benchmark
/// with our figure, each alternative's figure from the same run, the ratio, the target and whether
/// it was met — and the PNG plots (gnuplot) it links. A figure with no result file is written as
/// not measured, with the reason, never left out.
/// </summary>
public sealed class ReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private readonly Dictionary<string, ResultFile> _r;
    private readonly string _plots;
    private readonly string _mdDirectory;
    private readonly string _work;
    private readonly StringBuilder _md = new();

    public ReportWriter(Dictionary<string, ResultFile> results, string markdownPath, string plotsDirectory, string workDirectory)
    {
        _r = results;
        _plots = plotsDirectory;
        _mdDirectory = Path.GetDirectoryName(Path.GetFullPath(markdownPath))!;
        _work = workDirectory;
    }

    public static void Run(BenchOptions options, string markdownPath, string plotsDirectory)
    {
        Dictionary<string, ResultFile> results = ResultFile.LoadAll(options.Results);
        if (!results.ContainsKey("run"))
        {
            throw new UserErrorException($"{options.Results}: no run.json (the run starts with 'vhw-bench begin')");
        }

        var writer = new ReportWriter(results, markdownPath, plotsDirectory, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.Results))!, "plots"));
        File.WriteAllText(markdownPath, writer.Build());
        Console.WriteLine($"report: {markdownPath} from {results.Count} result files; plots in {plotsDirectory}");
    }

    private double? V(string benchmark, string key) =>
        _r.TryGetValue(benchmark, out ResultFile? f) && f.Values.TryGetValue(key, out double v) ? v : null;

    private string? Producer(string benchmark) => _r.TryGetValue(benchmark, out ResultFile? f) ? f.Producer : null;

    public string Build()
    {
        ResultFile run = _r["run"];
        bool quick = run.Values.GetValueOrDefault("quick") != 0;
        DateTimeOffset start = DateTimeOffset.FromUnixTimeSeconds((long)run.Values["start_unix"]);
        double[] now = RunInfo.LoadAverage();
        double[] load = [V("run-end", "load1_end") ?? now[0], V("run-end", "load5_end") ?? now[1]];
        DateTimeOffset end = V("run-end", "end_unix") is { } e ? DateTimeOffset.FromUnixTimeSeconds((long)e) : DateTimeOffset.UtcNow;
        // More runnable work than cores at the start means other work shared the machine; the
        // harnesses themselves keep up to two cores busy.
        string shared = run.Values["load1_start"] > Environment.ProcessorCount
            ? "the cores were shared with other work, so every figure is noisy, the ratios (both sides measured in the same minutes) less so"
            : "no other work ran on the machine, though figures still move between runs on a shared host; the ratios (both sides measured in the same minutes) less so";
        _md.AppendLine("# Benchmarks");
        _md.AppendLine();
        _md.AppendLine($"Written by `{run.Producer}` (bench/bench.mk; bench/README.md says what each harness does); every figure below comes from that one run. Do not edit: rerun it.");
        _md.AppendLine();
        _md.AppendLine("| | |");
        _md.AppendLine("|---|---|");
        _md.AppendLine($"| machine | {Environment.ProcessorCount} cores, {RunInfo.CpuModel()}, {Environment.OSVersion.VersionString} |");
        _md.AppendLine($"| run | {start:yyyy-MM-dd HH:mm} UTC, {(end - start).TotalMinutes:F1} min{(quick ? ", **quick** (smaller runs of `make bench-quick`; not the committed figures)" : "")} |");
        _md.AppendLine($"| load average (1 min / 5 min) | {run.Values["load1_start"]:F2} / {run.Values["load5_start"]:F2} at the start, {load[0]:F2} / {load[1]:F2} at the end: {shared} |");
        _md.AppendLine($"| .NET | {Environment.Version}, Release |");
        _md.AppendLine();
        _md.AppendLine("Verdicts: **met**, **missed** (kept, with the reason found), or *not measured* (with why).");
        _md.AppendLine();
        Cosim();
        DataPath();
        Latency();
        Scaling();
        Flashing();
        BuildTimes();
        Area();
        return _md.ToString();
    }

    // ---- 1. co-simulation ----

    private void Cosim()
    {
        string top = _r.TryGetValue("cosim-csharp", out ResultFile? cs) ? cs.Notes.GetValueOrDefault("top", "?") : "?";
        string port = cs?.Notes.GetValueOrDefault("port", "?") ?? "?";
        _md.AppendLine($"## 1. Co-simulation throughput (`{top}`, its `{port}_*` slave)");
        _md.AppendLine();
        _md.AppendLine($"The same 1,000-transaction sequence on the ISM endpoint RTL, in AXI4-Lite transactions per second: a write then a read of every 32-bit word of the device configuration (`ism_config`) where the endpoint decodes it in BAR0, through the `{port}_*` slave (offsets from the generated register definitions and the virtio-ism description). Every Verilated harness runs the same library. The device configuration is read-only to the host: the writes are taken and dropped, and the reads return what firmware wrote there (no firmware runs in these rows, so the reads are zeros); the checksum line below says every harness saw the same.");
        _md.AppendLine();
        _md.AppendLine("Icarus Verilog 11 cannot elaborate the endpoint's SystemVerilog (packed structs of package typedefs among other things), so yosys turns `ism_endpoint_top` into plain Verilog first (`read_verilog -sv` of hw/rtl, `hierarchy -top`, `proc`, `flatten`, `setundef -zero`, `write_verilog`): a behavioural netlist of the same logic (processes become multiplexers and flip-flops, memories stay arrays, no technology mapping; not gate-level), which Icarus runs with an SV testbench doing the signal-level steps. `setundef -zero` gives the don't-care defaults of the RTL's case statements the value 0, where Verilator picks one too; without it Icarus carries X through them.");
        _md.AppendLine();
        double? csTl = V("cosim-csharp", "transaction_per_s"), csSig = V("cosim-csharp", "signal_per_s");
        double? nat = V("cosim-native", "transaction_per_s"), py = V("cosim-python", "signal_per_s"), ic = V("cosim-icarus", "signal_per_s");
        Header("row", "ours", "alternative");
        Row("transaction level: one native call per access", "C# (IAxiLiteSlave)", csTl, "C++ harness, same C ABI", nat, ">= 0.9x", 0.9, "cosim-tl");
        Row("signal level, cocotb style: set inputs, tick, sample outputs per port", "C# (generated per-port bindings)", csSig, "Python ctypes, same steps", py, ">= 10x", 10, "cosim-sig");
        Row("transaction level against an event-driven simulator", "C# transaction level", csTl, "Icarus Verilog on the yosys netlist, SV testbench, signal-level steps", ic, ">= 20x", 20, "cosim-icarus");
        Row("signal level against an event-driven simulator", "C# signal level", csSig, "Icarus Verilog", ic, "(none)", null, null);
        _md.AppendLine();
        _md.AppendLine("Cycles per transaction: " + string.Join(", ", new[]
        {
            ("C# transaction", V("cosim-csharp", "transaction_cycles")), ("C++", V("cosim-native", "transaction_cycles")),
            ("C# signal", V("cosim-csharp", "signal_cycles")), ("Python", V("cosim-python", "signal_cycles")), ("Icarus", V("cosim-icarus", "signal_cycles")),
        }.Select(c => $"{c.Item1} {Num(c.Item2, "F1")}")) + ". " + ChecksumLine());
        _md.AppendLine();
        Producers("cosim-csharp", "cosim-native", "cosim-python", "cosim-icarus");
        Plot("cosim", "Co-simulation: AXI4-Lite transactions per second (log scale)",
            [("C# transaction", csTl), ("C++ transaction", nat), ("C# signal", csSig), ("Python signal", py), ("Icarus", ic)]);

        _md.AppendLine("### The ISM control operation per second");
        _md.AppendLine();
        _md.AppendLine("Alloc, attach (a second device), ATTACH event, detach, DETACH event, last detach (free): every step a controlq command through the firmware, every event an eventq buffer with its MSI-X interrupt, driven by the host stack (`IsmDevice`).");
        _md.AppendLine();
        _md.AppendLine("| platform | operations/s |");
        _md.AppendLine("|---|---|");
        _md.AppendLine($"| model (`ModelPlatform`) | {Num(V("control-csharp", "model_ops_per_s"), "N0")} |");
        _md.AppendLine($"| RTL (`CosimPlatform`, two Verilated `ism_endpoint_top`s, the same firmware and host stack) | {(V("control-csharp", "rtl_ops_per_s") is { } rtl ? rtl.ToString("N1", Inv) : "*not measured*: " + Reason("control-rtl"))} |");
        if (V("control-csharp", "model_ops_per_s") is { } model && V("control-csharp", "rtl_ops_per_s") is { } onRtl)
        {
            _md.AppendLine();
            _md.AppendLine($"The model does the operation {model / onRtl:F0}x as often: on the RTL every host register access and every firmware CSR access is an AXI4-Lite transaction clocked through the Verilated endpoint (several cycles, each a model evaluation), where the model answers with a method call.");
        }
        _md.AppendLine();
        Producers("control-csharp");
    }

    private string ChecksumLine()
    {
        var sums = new[] { "cosim-csharp", "cosim-native", "cosim-python", "cosim-icarus" }.Select(b => V(b, "checksum")).Where(v => v is not null).Distinct().ToList();
        return sums.Count == 1
            ? $"Every harness read the same data (sum of reads 0x{(uint)sums[0]!.Value:x8})."
            : $"**The harnesses read different data** ({string.Join(", ", sums.Select(s => $"0x{(uint)s!.Value:x8}"))}).";
    }

    // ---- 2. data path ----

    private void DataPath()
    {
        _md.AppendLine("## 2. Data path: one process writes, another reads, through an attached ISM region");
        _md.AppendLine();
        var sizes = Sizes().ToList();
        bool ours = _r.ContainsKey("ipc-csharp");
        if (!ours)
        {
            _md.AppendLine($"ISM side *not measured*: {Reason("ipc-missing")}");
            _md.AppendLine();
        }

        _md.AppendLine("| size | ISM region, bytes/s | memcpy, bytes/s | ratio | target | verdict | two-process ring in C++, bytes/s | ISM / C++ ring |");
        _md.AppendLine("|---|---|---|---|---|---|---|---|");
        var points = new List<(long, double?, double?, double?)>();
        bool anyMissed = false;
        foreach (long size in sizes)
        {
            double? ism = V("ipc-csharp", $"Bps_{size}"), mc = V("ipc-native", $"memcpy_Bps_{size}"), ring = V("ipc-native", $"ring_Bps_{size}");
            points.Add((size, ism, mc, ring));
            bool targeted = size >= 64 * 1024;
            double? ratio = ism / mc;
            string verdict = !targeted ? "(no target)" : ratio is not { } r ? "*not measured*" : r >= 0.8 ? "**met**" : "**missed** (below)";
            anyMissed |= verdict.StartsWith("**missed", StringComparison.Ordinal);

            _md.AppendLine($"| {Bytes(size)} | {Num(ism, "E3")} | {Num(mc, "E3")} | {Ratio(ratio)} | {(targeted ? ">= 0.8x" : "(none)")} | {verdict} | {Num(ring, "E3")} | {Ratio(ism / ring)} |");
        }

        _md.AppendLine();
        if (anyMissed)
        {
            _md.AppendLine($"Missed: {Reason("datapath")}");
            _md.AppendLine();
        }

        Producers("ipc-csharp", "ipc-native");
        string dat = string.Join('\n', points.Select(p => string.Create(Inv, $"{p.Item1} {Dat(p.Item2)} {Dat(p.Item3)} {Dat(p.Item4)}")));
        Gnuplot("datapath", dat, """
            set title "Data path: bytes per second by transfer size"
            set logscale xy
            set xlabel "bytes per transfer"
            set ylabel "bytes/s"
            set key top left
            set grid
            plot DAT using 1:2 with linespoints title "ISM region, two processes", DAT using 1:3 with linespoints title "memcpy", DAT using 1:4 with linespoints title "two-process ring in C++"
            """, "Data path");
    }

    private static IEnumerable<long> Sizes()
    {
        for (long size = 64; size <= 64L << 20; size *= 4)
        {
            yield return size;
        }
    }

    // ---- 3. notification latency ----

    private void Latency()
    {
        _md.AppendLine("## 3. Notification latency between two processes");
        _md.AppendLine();
        _md.AppendLine("One-way latency, half of each ping-pong round trip, median and 99th percentile.");
        _md.AppendLine();
        double? ism = V("ipc-csharp", "median_us"), ismP99 = V("ipc-csharp", "p99_us");
        double? ev = V("ipc-native", "eventfd_median_us"), evP99 = V("ipc-native", "eventfd_p99_us");
        double? tcp = V("ipc-native", "tcp_median_us"), tcpP99 = V("ipc-native", "tcp_p99_us");
        double? ismLoaded = V("ipc-csharp", "loaded_median_us"), ismLoadedP99 = V("ipc-csharp", "loaded_p99_us");
        double? evLoaded = V("ipc-native", "eventfd_loaded_median_us"), evLoadedP99 = V("ipc-native", "eventfd_loaded_p99_us");
        _md.AppendLine("| path | median, µs | p99, µs |");
        _md.AppendLine("|---|---|---|");
        _md.AppendLine($"| ISM: kick -> UPDATE event in the other process | {Num(ism, "F2")} | {Num(ismP99, "F2")} |");
        _md.AppendLine($"| eventfd ping-pong (C++) | {Num(ev, "F2")} | {Num(evP99, "F2")} |");
        _md.AppendLine($"| TCP loopback ping-pong, 1 byte, TCP_NODELAY (C++) | {Num(tcp, "F2")} | {Num(tcpP99, "F2")} |");
        _md.AppendLine($"| ISM, with two CPU-bound processes running beside both sides | {Num(ismLoaded, "F2")} | {Num(ismLoadedP99, "F2")} |");
        _md.AppendLine($"| eventfd (C++), with two CPU-bound processes running beside both sides | {Num(evLoaded, "F2")} | {Num(evLoadedP99, "F2")} |");
        _md.AppendLine();
        _md.AppendLine("The loaded rows run the same ping-pongs while two busy loops (`vhw-bench spin` beside the ISM pair, forked ones beside the eventfd pair) compete for the two cores: how each path fares on a busy machine. Every hand-off between threads can wait for a time slice there, a wake-up of the thread that sleeps in the kernel less so.");
        _md.AppendLine();
        if (ism is null)
        {
            _md.AppendLine($"ISM side *not measured*: {Reason("ipc-missing")}");
            _md.AppendLine();
        }

        _md.AppendLine("| target | ratio | verdict |");
        _md.AppendLine("|---|---|---|");
        _md.AppendLine($"| ISM median <= 2x eventfd median | {Ratio(ism / ev)} | {VerdictAtMost(ism / ev, 2, "latency-eventfd")} |");
        _md.AppendLine($"| ISM median below TCP loopback median | {Ratio(ism / tcp)} | {VerdictAtMost(ism / tcp, 1, "latency-tcp", strict: true)} |");
        _md.AppendLine($"| ISM p99 <= 3x eventfd p99 | {Ratio(ismP99 / evP99)} | {VerdictAtMost(ismP99 / evP99, 3, "latency-p99")} |");
        _md.AppendLine($"| loaded: ISM median against eventfd median, both with two busy processes beside | {Ratio(ismLoaded / evLoaded)} | (no target) |");
        _md.AppendLine();
        Producers("ipc-csharp", "ipc-native");
        string dat = string.Join('\n', new[] { ("ISM", ism, ismP99), ("eventfd", ev, evP99), ("TCP", tcp, tcpP99), ("ISM loaded", ismLoaded, ismLoadedP99), ("eventfd loaded", evLoaded, evLoadedP99) }
            .Select(p => string.Create(Inv, $"\"{p.Item1}\" {Dat(p.Item2)} {Dat(p.Item3)}")));
        Gnuplot("latency", dat, """
            set title "Notification latency, one way (µs)"
            set style data histogram
            set style histogram clustered gap 1
            set style fill solid 0.8 border -1
            set ylabel "µs"
            set yrange [0:*]
            set grid ytics
            plot DAT using 2:xtic(1) title "median", DAT using 3 title "p99"
            """, "Notification latency");
    }

    // ---- 4. control-plane scaling ----

    private void Scaling()
    {
        _md.AppendLine("## 4. Control-plane scaling on the model");
        _md.AppendLine();
        _md.AppendLine("The control operation of section 1 with other regions alive in the domain. The built-in virtio-ism (256 slots of 128 KiB) cannot hold 100,000 live regions, so every count runs on one larger description: 2^17 slots of 4 KiB (the smallest chunk the description schema allows), as many notify-addresses, 512 MiB of domain memory.");
        _md.AppendLine();
        int largest = _r.TryGetValue("scaling-csharp", out ResultFile? s) && int.TryParse(s.Notes.GetValueOrDefault("largest"), out int l) ? l : 100_000;
        int[] counts = [10, 1_000, largest];
        double? baseOps = V("scaling-csharp", "ops_per_s_10");
        _md.AppendLine("| live regions | operations/s | 10-region figure / this |");
        _md.AppendLine("|---|---|---|");
        foreach (int count in counts)
        {
            double? ops = V("scaling-csharp", $"ops_per_s_{count}");
            _md.AppendLine($"| {count:N0} | {Num(ops, "N0")} | {Ratio(baseOps / ops)} |");
        }

        _md.AppendLine();
        double? slowdown = baseOps / V("scaling-csharp", $"ops_per_s_{largest}");
        _md.AppendLine($"Target: the {largest:N0} figure within 1.25x of the 10 figure: {Ratio(slowdown)}, {VerdictAtMost(slowdown, 1.25, "scaling")}.");
        _md.AppendLine();
        Producers("scaling-csharp");
        string dat = string.Join('\n', counts.Select(c => string.Create(Inv, $"{c} {Dat(V("scaling-csharp", $"ops_per_s_{c}"))}")));
        Gnuplot("scaling", dat, """
            set title "ISM control operations per second by live regions"
            set logscale x
            set xlabel "live regions"
            set ylabel "operations/s"
            set yrange [0:*]
            set grid
            plot DAT using 1:2 with linespoints title "alloc+attach+detach+free"
            """, "Control-plane scaling");
    }

    // ---- 5. flashing ----

    private void Flashing()
    {
        _md.AppendLine("## 5. Flashing a 1 MiB image (chip model timing)");
        _md.AppendLine();
        double? one = V("flash-csharp", "one_byte_s"), read = V("flash-csharp", "one_byte_read_s"), full = V("flash-csharp", "full_s");
        _md.AppendLine("| ours: re-flash after a one-byte change | model time, s | alternative: full erase and program, s | ratio | target | verdict |");
        _md.AppendLine("|---|---|---|---|---|---|");
        _md.AppendLine($"| default run: no record, planned by reading the range | {Num(read, "F3")} | {Num(full, "F3")} | {Ratio(full / read)} faster | >= 5x | {Verdict(full / read, 5, "flash-read-time")} |");
        _md.AppendLine($"| board profile reserving a record area: planned from the flash record | {Num(one, "F3")} | {Num(full, "F3")} | {Ratio(full / one)} faster | >= 50x | {Verdict(full / one, 50, "flash-time")} |");
        double? program = V("flash-csharp", "program_bus_per_byte"), whole = V("flash-csharp", "run_bus_per_byte");
        _md.AppendLine();
        _md.AppendLine("| bus bytes per programmed byte | figure | target | verdict |");
        _md.AppendLine("|---|---|---|---|");
        _md.AppendLine($"| program phase (page program commands and status polls) | {Num(program, "F4")} | <= 1.05 | {VerdictAtMost(program, 1.05, "flash-bus")} |");
        _md.AppendLine($"| whole run (read to plan, erase, program, read back to verify) | {Num(whole, "F4")} | (none) | the read before planning and the read-back verify move every byte twice more, by design |");
        _md.AppendLine();
        _md.AppendLine($"The default re-flash read {Num(V("flash-csharp", "one_byte_read_plan_read_bytes"), "N0")} bytes to plan, programmed {Num(V("flash-csharp", "one_byte_read_programmed"), "N0")} bytes (the changed sector) and moved {Num(V("flash-csharp", "one_byte_read_bus_bytes"), "N0")} bytes on the bus. The re-flash planned from the record programmed {Num(V("flash-csharp", "one_byte_programmed"), "N0")} bytes (4,096 of them the changed sector, the rest the new flash record with its commit byte and the old record's withdrawal) and moved {Num(V("flash-csharp", "one_byte_bus_bytes"), "N0")} bytes on the bus; it is only right where nothing but this tool writes the range, which is why a board must reserve the area for it. The alternative's time counts only its erase ({Num(V("flash-csharp", "full_erase_s"), "F3")} s), program and verify phases.");
        _md.AppendLine();
        Producers("flash-csharp");
    }

    // ---- 6. build ----

    private void BuildTimes()
    {
        _md.AppendLine("## 6. Build times from a clean clone");
        _md.AppendLine();
        _md.AppendLine("| what | wall time | load average at its start |");
        _md.AppendLine("|---|---|---|");
        _md.AppendLine($"| `make test` (deps, co-simulation build, every project, every test) | {Seconds(V("build", "make_test_s"))} | {Num(V("build", "make_test_load1"), "F2")} |");
        _md.AppendLine($"| co-simulation build alone (`make cosim-clean && make cosim`) | {Seconds(V("build", "cosim_s"))} | {Num(V("build", "cosim_load1"), "F2")} |");
        _md.AppendLine();
        if (_r.TryGetValue("build", out ResultFile? b))
        {
            foreach ((string key, string note) in b.Notes)
            {
                _md.AppendLine($"- {key}: {note}");
            }

            _md.AppendLine();
        }
        else
        {
            _md.AppendLine($"*Not measured* in this run: {Reason("build-missing")}");
            _md.AppendLine();
        }

        Producers("build");
    }

    // ---- 7. area on FPGAs ----

    private static readonly string[] EndpointTops = ["ivshmem_endpoint_top", "ism_endpoint_top", "ism_mmio_endpoint_top", "dmabuf_endpoint_top"];

    private void Area()
    {
        _md.AppendLine("## 7. Area, logic depth and clock rate on FPGAs");
        _md.AppendLine();
        if (!_r.TryGetValue("area", out ResultFile? area))
        {
            _md.AppendLine($"*Not measured* in this run: {Reason("area-missing")}");
            _md.AppendLine();
            return;
        }

        _md.AppendLine($"Yosys' own FPGA flows on the RTL tops ({area.Notes.GetValueOrDefault("tools", "tools not recorded")}): `synth_xilinx -family xc7` for every top (LUTs, of them LUTs used as distributed RAM or shift registers, flip-flops, block RAM in 36 Kb tiles, DSP48E1); `synth_ice40` for the small tops (SB_LUT4, SB_DFF, SB_RAM40_4K, SB_MAC16), placed and routed by nextpnr-ice40 on an UP5K (sg48), whose maximum clock frequency is the fmax column. Depth is the longest path in LUT levels between flip-flops (or block RAM ports), measured on Yosys' generic cells mapped to 6-input LUTs (4-input for the iCE40 rows), not on the vendor netlist. hw/README.md says how to read each figure.");
        _md.AppendLine();
        _md.AppendLine("| top | flow | measured | target | verdict |");
        _md.AppendLine("|---|---|---|---|---|");
        AreaRow("ivshmem_endpoint_top", "xc7", "<= 3,000 LUTs, its tables in RAM", (luts, ram, _) => luts <= 3000 && ram > 0, "area-ivshmem");
        AreaRow("ism_endpoint_top", "xc7", "<= 6,000 LUTs plus block RAM", (luts, _, _) => luts <= 6000, "area-ism");
        AreaRow("ism_mmio_endpoint_top", "xc7", "<= 6,000 LUTs plus block RAM", (luts, _, _) => luts <= 6000, "area-ism");
        AreaRow("dmabuf_endpoint_top", "xc7", "<= 4,000 LUTs", (luts, _, _) => luts <= 4000, "area-dmabuf");
        AreaRow("spi_flash_ctrl_top", "ice40", "<= 1,000 LUT4, FIFOs in SB_RAM40_4K (2), >= 48 MHz on an UP5K", (luts, ram, fmax) => luts <= 1000 && ram >= 2 && fmax >= 48, "area-spi");
        foreach (string top in EndpointTops)
        {
            string row = $"{top}.xc7";
            double? depth = V("area", row + ".depth");
            string verdict = depth is { } d ? (d <= 8 ? "**met**" : "**missed**: " + Reason("depth-endpoint")) : NotMeasured(area, row);
            _md.AppendLine($"| {top} | depth | {(depth is { } levels ? levels.ToString("F0", Inv) + " LUT6 levels" : "—")} | <= 8 LUT6 levels | {verdict} |");
        }

        _md.AppendLine();
        _md.AppendLine("Every top of the run:");
        _md.AppendLine();
        _md.AppendLine("| top | flow | LUTs | of them as RAM | flip-flops | block RAM | DSP | depth, LUT levels | fmax, MHz | seconds | note |");
        _md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (string row in area.Notes.Keys.Where(k => k.EndsWith(".status", StringComparison.Ordinal)).Select(k => k[..^".status".Length]).Order(StringComparer.Ordinal))
        {
            string[] parts = row.Split('.');
            bool ice40 = parts[1] == "ice40";
            double? luts = ice40 ? V("area", row + ".luts") : V("area", row + ".luts") + V("area", row + ".lutram");
            string status = area.Notes[row + ".status"];
            string note = area.Notes.GetValueOrDefault(row + ".note", "");
            note = status == "ok" ? note : $"{status}: {note}";
            _md.AppendLine($"| {parts[0]} | {parts[1]} | {Num(luts, "N0")} | {(ice40 ? "" : Num(V("area", row + ".lutram"), "N0"))} | {Num(V("area", row + ".ffs"), "N0")} | {Num(V("area", row + ".bram"), "G")} | {Num(V("area", row + ".dsp"), "N0")} | {Num(V("area", row + ".depth"), "F0")} | {Num(V("area", row + ".fmax_mhz"), "F1")} | {Num(V("area", row + ".seconds"), "F0")} | {note.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }

        _md.AppendLine();
        Producers("area");
    }

    /// <summary>One target row: LUTs (with those used as RAM on xc7), RAM blocks or LUTs as RAM, fmax.</summary>
    private void AreaRow(string top, string flow, string target, Func<double, double, double, bool> met, string reasonKey)
    {
        string row = $"{top}.{flow}";
        ResultFile area = _r["area"];
        double? logic = V("area", row + ".luts"), lutram = V("area", row + ".lutram"), bram = V("area", row + ".bram"), fmax = V("area", row + ".fmax_mhz");
        bool ice40 = flow == "ice40";
        if (logic is not { } l || bram is not { } b || (!ice40 && lutram is null) || (ice40 && fmax is null))
        {
            _md.AppendLine($"| {top} | {flow} | — | {target} | {NotMeasured(area, row)} |");
            return;
        }

        string measured;
        bool ok;
        if (ice40)
        {
            measured = $"{l.ToString("N0", Inv)} LUT4, {b.ToString("G", Inv)} SB_RAM40_4K, {fmax!.Value.ToString("F1", Inv)} MHz";
            ok = met(l, b, fmax.Value);
        }
        else
        {
            double total = l + lutram!.Value;
            measured = $"{total.ToString("N0", Inv)} LUTs ({lutram.Value.ToString("N0", Inv)} as RAM), {b.ToString("G", Inv)} block RAM tiles";
            ok = met(total, b + lutram.Value, 0);
        }

        _md.AppendLine($"| {top} | {flow} | {measured} | {target} | {(ok ? "**met**" : "**missed**: " + Reason(reasonKey))} |");
    }

    private static string NotMeasured(ResultFile area, string row) =>
        area.Notes.TryGetValue(row + ".status", out string? status)
            ? $"*not measured*: {status}: {area.Notes.GetValueOrDefault(row + ".note", "no figure")}"
            : $"*not measured*: the summary has no {row.Replace('.', ' ')} row (`make synth-fpga TOP={row.Split('.')[0]}` adds it)";

    // ---- table helpers ----

    private void Header(string first, string ours, string alternative)
    {
        _md.AppendLine($"| {first} | {ours} | figure | {alternative} | figure | ratio | target | verdict |");
        _md.AppendLine("|---|---|---|---|---|---|---|---|");
    }

    private void Row(string what, string oursName, double? ours, string altName, double? alt, string target, double? atLeast, string? reasonKey)
    {
        double? ratio = ours / alt;
        _md.AppendLine($"| {what} | {oursName} | {Num(ours, "N0")} | {altName} | {Num(alt, "N0")} | {Ratio(ratio)} | {target} | {(atLeast is { } t ? Verdict(ratio, t, reasonKey) : "(no target)")} |");
    }

    private static string Verdict(double? ratio, double atLeast, string? reasonKey)
    {
        if (ratio is not { } r)
        {
            return reasonKey is null ? "(no target)" : "*not measured*";
        }

        return r >= atLeast ? "**met**" : "**missed**" + (reasonKey is null ? "" : ": " + Reason(reasonKey));
    }

    private static string VerdictAtMost(double? ratio, double atMost, string reasonKey, bool strict = false)
    {
        if (ratio is not { } r)
        {
            return "*not measured*";
        }

        return (strict ? r < atMost : r <= atMost) ? "**met**" : "**missed**: " + Reason(reasonKey);
    }

    private void Producers(params string[] benchmarks)
    {
        var lines = benchmarks.Select(b => (b, Producer(b))).Where(p => p.Item2 is not null).Select(p => $"`{p.b}`: {p.Item2}").ToList();
        if (lines.Count > 0)
        {
            _md.AppendLine("<sub>" + string.Join("; ", lines) + "</sub>");
            _md.AppendLine();
        }
    }

    private static string Num(double? v, string format) => v is { } x ? x.ToString(format, Inv) : "—";

    private static string Ratio(double? r) => r is { } x && double.IsFinite(x) ? x.ToString(x >= 100 ? "F0" : x >= 10 ? "F1" : x >= 0.1 ? "F2" : "G2", Inv) + "x" : "—";

    private static string Seconds(double? s) => s is { } x ? (x >= 120 ? $"{Math.Floor(x / 60).ToString(Inv)} min {(x % 60).ToString("F0", Inv)} s" : x.ToString("F1", Inv) + " s") : "—";

    private static string Dat(double? v) => v is { } x ? x.ToString("R", Inv) : "NaN";

    private static string Bytes(long size) => size >= 1 << 20 ? $"{size >> 20} MiB" : size >= 1024 ? $"{size >> 10} KiB" : $"{size} B";

    private static string Reason(string key) => Findings.Reason(key);

    // ---- plots ----

    private void Plot(string name, string title, (string Label, double? Value)[] bars)
    {
        string dat = string.Join('\n', bars.Select(b => string.Create(Inv, $"\"{b.Label}\" {Dat(b.Value)}")));
        Gnuplot(name, dat, $$"""
            set title "{{title}}"
            set style data histogram
            set style fill solid 0.8 border -1
            set logscale y
            set ylabel "transactions/s"
            set grid ytics
            set key off
            plot DAT using 2:xtic(1)
            """, "Co-simulation throughput");
    }

    /// <summary>Writes the data and script, runs gnuplot into the plots folder, and links the PNG.</summary>
    private void Gnuplot(string name, string data, string script, string alt)
    {
        Directory.CreateDirectory(_work);
        Directory.CreateDirectory(_plots);
        string dat = Path.Combine(_work, name + ".dat");
        string png = Path.GetFullPath(Path.Combine(_plots, name + ".png"));
        File.WriteAllText(dat, data + "\n");
        string gp = Path.Combine(_work, name + ".gp");
        File.WriteAllText(gp, $"set terminal pngcairo size 800,450 font \"sans,10\"\nset output \"{png}\"\nDAT = \"{dat}\"\n{script}\n");
        var start = new ProcessStartInfo("gnuplot", [gp]) { RedirectStandardError = true };
        try
        {
            using Process process = Process.Start(start)!;
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                _md.AppendLine($"(plot `{name}` failed: {errors.Trim().Split('\n').LastOrDefault()})");
                _md.AppendLine();
                return;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            _md.AppendLine("(no plot: gnuplot is not installed; `make deps` installs gnuplot-nox)");
            _md.AppendLine();
            return;
        }

        _md.AppendLine($"![{alt}]({Path.GetRelativePath(_mdDirectory, png).Replace('\\', '/')})");
        _md.AppendLine();
    }
}
