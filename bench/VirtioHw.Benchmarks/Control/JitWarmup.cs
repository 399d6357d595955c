using System.Diagnostics;
using System.Runtime;

namespace VirtioHw.Benchmarks.Control;

/// <summary>
/// Runs a control operation until tiered compilation has finished with it. Tiered compilation takes
/// tens of thousands of operations (several seconds on two shared cores, and an optimized operation
/// is about 10x as fast as the first ones) to finish, far more than BenchmarkDotNet's warm-up does:
/// without this a figure says how far the JIT had got rather than what the operation costs.
/// </summary>
public static class JitWarmup
{
    /// <summary>The length of one round of operations.</summary>
    public static readonly TimeSpan Round = TimeSpan.FromSeconds(0.25);

    /// <summary>Two, because the JIT compiles in the background after a delay: one quiet round can fall between two batches.</summary>
    public const int QuietRounds = 2;

    /// <summary>
    /// Runs <paramref name="operation"/> in rounds of <see cref="Round"/> until
    /// <see cref="QuietRounds"/> rounds in a row compile no method, or <paramref name="maxRounds"/>
    /// rounds have run (so that a JIT that never settles cannot hold the run).
    /// </summary>
    public static async Task RunAsync(Func<Task> operation, int maxRounds)
    {
        ArgumentNullException.ThrowIfNull(operation);
        int quiet = 0;
        for (int round = 0; round < maxRounds && quiet < QuietRounds; round++)
        {
            long compiled = JitInfo.GetCompiledMethodCount();
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < Round)
            {
                await operation().ConfigureAwait(false);
            }

            quiet = JitInfo.GetCompiledMethodCount() == compiled ? quiet + 1 : 0;
        }
    }
}
