namespace VirtioHw.Benchmarks.Control;

/// <summary><c>vhw-bench control</c>: the ISM control operation per second on the model and on the RTL.</summary>
public static class ControlCommand
{
    public static ResultFile Run(BenchOptions options)
    {
        Dictionary<string, double> ns = Bdn.Run<ControlBenchmarks>(options.Quick, options.Quick ? 5 : 15, options.Artifacts);
        Dictionary<string, double> rtl = Bdn.Run<RtlControlBenchmarks>(options.Quick, options.Quick ? 1 : 5, options.Artifacts);
        return new ResultFile
        {
            Benchmark = "control-csharp",
            Producer = Bdn.Describe(options.Quick),
            Values =
            {
                ["model_ops_per_s"] = 1e9 / ns[nameof(ControlBenchmarks.ModelAllocAttachDetachFree)],
                ["rtl_ops_per_s"] = 1e9 / rtl[nameof(RtlControlBenchmarks.RtlAllocAttachDetachFree)],
            },
        };
    }
}

/// <summary><c>vhw-bench scaling</c>: the control operation per second with 10, 1,000 and 100,000 live regions.</summary>
public static class ScalingCommand
{
    /// <summary>The counts of this run (set before BenchmarkDotNet enumerates the parameters).</summary>
    public static IReadOnlyList<int> LiveCounts { get; private set; } = [10, 1_000, 100_000];

    public static ResultFile Run(BenchOptions options)
    {
        LiveCounts = options.Quick ? [10, 1_000, 10_000] : [10, 1_000, 100_000];
        Dictionary<string, double> ns = Bdn.Run<ScalingBenchmarks>(options.Quick, options.Quick ? 5 : 15, options.Artifacts);
        var result = new ResultFile { Benchmark = "scaling-csharp", Producer = Bdn.Describe(options.Quick) };
        foreach (int live in LiveCounts)
        {
            result.Values[$"ops_per_s_{live}"] = 1e9 / ns[$"{nameof(ScalingBenchmarks.AllocAttachDetachFree)}/{live}"];
        }

        result.Notes["largest"] = LiveCounts[^1].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return result;
    }
}
