using BenchmarkDotNet.Attributes;
using VirtioHw.Drivers.Ism;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Benchmarks.Control;

/// <summary>
/// The ISM control operation with 10, 1,000 and 100,000 other regions alive in the domain. The
/// built-in virtio-ism (256 slots of 128 KiB) cannot hold 100,000 regions, so every case runs on one
/// larger description: 2^17 slots of 4 KiB (the smallest chunk the schema allows) and as many
/// notify-addresses, 512 MiB of domain memory; only the number of live regions differs.
/// </summary>
public class ScalingBenchmarks
{
    public const int Batch = 100;

    /// <summary>
    /// The most 0.25 s warm-up rounds a case runs (<see cref="JitWarmup"/>): the 100,000 case's setup
    /// (100,000 allocs) gets most of the way by itself; the cases after the first find most of it
    /// compiled.
    /// </summary>
    public const int MaxWarmupRounds = 80;

    /// <summary>The live-region counts; <see cref="ScalingCommand"/> narrows them for a quick run.</summary>
    public static IEnumerable<int> LiveCounts => ScalingCommand.LiveCounts;

    private IsmBench _bench = null!;

    [ParamsSource(nameof(LiveCounts))]
    public int Live { get; set; }

    // Synchronous on purpose: BenchmarkDotNet 0.14 in process does not await a Task-returning
    // GlobalSetup or GlobalCleanup (dotnet/BenchmarkDotNet#1738), so an async setup would still be
    // allocating the live regions while the iterations run, and a cleanup would overlap the next case.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _bench.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task AllocAttachDetachFree()
    {
        for (int i = 0; i < Batch; i++)
        {
            await IsmControlOperation.RunAsync(_bench.Devices[0], _bench.Devices[1]).ConfigureAwait(false);
        }
    }

    private async Task SetupAsync()
    {
        _bench = await IsmBench.StartAsync(new IsmModelDomain(2, Description())).ConfigureAwait(false);
        IsmDevice a = _bench.Devices[0];
        for (int i = 0; i < Live; i++)
        {
            await a.AllocateAsync(a.ChunkSize).ConfigureAwait(false);
        }

        if (_bench.Domain.Domain.RegionCount != Live)
        {
            throw new InvalidOperationException($"the domain holds {_bench.Domain.Domain.RegionCount} regions after the setup, not {Live}");
        }

        await JitWarmup.RunAsync(() => IsmControlOperation.RunAsync(a, _bench.Devices[1]), MaxWarmupRounds).ConfigureAwait(false);
    }

    /// <summary>2^17 slots of 4 KiB, as many notify-addresses.</summary>
    public static EndpointDescription Description() => IsmDescriptions.WithWindow(4096, 1 << 17);
}
