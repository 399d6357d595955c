using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace VirtioHw.Benchmarks;

/// <summary>
/// BenchmarkDotNet as these benchmarks use it. The default job (a separate process, pilot stage,
/// 15+ iterations) would not fit a benchmark in 3 minutes on two shared cores, so every class runs
/// in process (InProcessEmitToolchain) with a fixed invocation count (no pilot), one launch, one or
/// two warmup and 3 (quick) or 7 measured iterations; each benchmark method does a batch of operations
/// and says so with OperationsPerInvoke. The figure kept is the median time per operation.
/// </summary>
public static class Bdn
{
    /// <summary>The job settings, as one line for the report.</summary>
    public static string Describe(bool quick) =>
        $"BenchmarkDotNet 0.14, in-process (InProcessEmitToolchain), 1 launch, {Warmups(quick)} warmup + {Iterations(quick)} iterations, median";

    private static int Warmups(bool quick) => quick ? 1 : 2;

    private static int Iterations(bool quick) => quick ? 3 : 7;

    /// <summary>Runs every benchmark of <typeparamref name="T"/>; returns median nanoseconds per operation by case name (method, then parameters).</summary>
    public static Dictionary<string, double> Run<T>(bool quick, int invocations, string artifacts)
    {
        Job job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithStrategy(RunStrategy.Throughput)
            .WithLaunchCount(1)
            .WithWarmupCount(Warmups(quick))
            .WithIterationCount(Iterations(quick))
            .WithInvocationCount(invocations)
            .WithUnrollFactor(1);
        IConfig config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddLogger(NullLogger.Instance)
            .WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.DisableLogFile);
        Summary summary = BenchmarkRunner.Run<T>(config);
        var medians = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (BenchmarkReport report in summary.Reports)
        {
            string name = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
            foreach (var parameter in report.BenchmarkCase.Parameters.Items)
            {
                name += $"/{parameter.Value}";
            }

            if (report.ResultStatistics is not { } statistics)
            {
                string why = summary.ValidationErrors.FirstOrDefault()?.Message ?? "no measurements (an exception in the benchmark?)";
                throw new InvalidOperationException($"{typeof(T).Name}.{name}: {why}");
            }

            medians[name] = statistics.Median;
        }

        return medians;
    }
}
