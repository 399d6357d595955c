using VirtioHw.Benchmarks;
using VirtioHw.Benchmarks.Area;
using VirtioHw.Benchmarks.Control;
using VirtioHw.Benchmarks.Cosim;
using VirtioHw.Benchmarks.Flashing;
using VirtioHw.Benchmarks.Ipc;
using VirtioHw.Benchmarks.Report;

// vhw-bench COMMAND [--quick] [--results DIR] [options]: one benchmark writes its result file; `report`
// turns every result file into BENCHMARKS.md and its plots. bench/bench.mk runs them in order.
const string Usage = "usage: vhw-bench begin COMMAND | end | sequence FILE | cosim SEQUENCE | control | scaling | flash | ipc | area SUMMARY | report --md FILE --plots DIR [--quick] [--results DIR]";

try
{
    var rest = new List<string>();
    bool quick = false;
    string results = Path.Combine("build", "bench", "results");
    string? md = null, plots = null;
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--quick": quick = true; break;
            case "--results": results = Value(args, ref i); break;
            case "--md": md = Value(args, ref i); break;
            case "--plots": plots = Value(args, ref i); break;
            default:
                if (args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UserErrorException($"unknown option '{args[i]}'; {Usage}");
                }

                rest.Add(args[i]);
                break;
        }
    }

    if (rest.Count == 0)
    {
        throw new UserErrorException(Usage);
    }

    var options = new BenchOptions { Quick = quick, Results = results, Artifacts = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(results))!, "bdn") };
    string command = rest[0];
    string Argument() => rest.Count == 2 ? rest[1] : throw new UserErrorException($"'{command}' takes one argument; {Usage}");
    switch (command)
    {
        case "sequence":
            Console.WriteLine(CosimCommand.WriteSequence(Argument()));
            break;
        case "begin":
            Save(RunInfo.Begin(options, Argument()), options);
            break;
        case "end":
            Save(RunInfo.End(), options);
            break;
        case "cosim":
            Save(CosimCommand.Run(options, Argument()), options);
            break;
        case "control":
            Save(ControlCommand.Run(options), options);
            break;
        case "scaling":
            Save(ScalingCommand.Run(options), options);
            break;
        case "flash":
            Save(FlashCommand.Run(options), options);
            break;
        case "ipc":
            Save(await IpcCommand.RunAsync(options, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(results))!, "ipc")), options);
            break;
        case "area":
            Save(AreaCommand.Run(Argument()), options);
            break;
        case "ipc-peer":
            await IpcPeer.RunAsync(Argument());
            break;
        case "spin":
            Spinners.Spin();
            break;
        case "report":
            ReportWriter.Run(options, md ?? throw new UserErrorException("report needs --md FILE"), plots ?? throw new UserErrorException("report needs --plots DIR"));
            break;
        default:
            throw new UserErrorException($"unknown command '{command}'; {Usage}");
    }

    return 0;
}
catch (UserErrorException e)
{
    Console.Error.WriteLine($"vhw-bench: {e.Message}");
    return 2;
}

static string Value(string[] args, ref int i) =>
    ++i < args.Length ? args[i] : throw new UserErrorException($"option '{args[i - 1]}' needs a value");

static void Save(ResultFile result, BenchOptions options)
{
    result.Save(options.Results);
    Console.WriteLine($"{result.Benchmark}: " + string.Join(", ", result.Values.Select(v => $"{v.Key} {v.Value:G4}")));
}
