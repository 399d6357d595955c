using System.Globalization;

namespace VirtioHw.Benchmarks.Report;

/// <summary>
/// <c>vhw-bench begin</c>: the run's start (time, load average, the command) as result file <c>run</c>;
/// <c>vhw-bench end</c>: the end of its harnesses as <c>run-end</c>, so that a report rendered later
/// (after <c>bench-build</c>) still gives the run's own length and load.
/// </summary>
public static class RunInfo
{
    public static ResultFile Begin(BenchOptions options, string command) => new()
    {
        Benchmark = "run",
        Producer = command,
        Values =
        {
            ["start_unix"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["load1_start"] = LoadAverage()[0],
            ["load5_start"] = LoadAverage()[1],
            ["quick"] = options.Quick ? 1 : 0,
        },
    };

    public static ResultFile End() => new()
    {
        Benchmark = "run-end",
        Producer = "vhw-bench end",
        Values =
        {
            ["end_unix"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["load1_end"] = LoadAverage()[0],
            ["load5_end"] = LoadAverage()[1],
        },
    };

    /// <summary>The 1, 5 and 15 minute load averages of /proc/loadavg.</summary>
    public static double[] LoadAverage()
    {
        string[] parts = File.ReadAllText("/proc/loadavg").Split(' ');
        return [.. parts.Take(3).Select(p => double.Parse(p, CultureInfo.InvariantCulture))];
    }

    public static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
}
