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
    public const int Batch = 20;

    /// <summary>The live-region counts; <see cref="ScalingCommand"/> narrows them for a quick run.</summary>
    public static IEnumerable<int> LiveCounts => ScalingCommand.LiveCounts;

    private IsmBench _bench = null!;

    [ParamsSource(nameof(LiveCounts))]
    public int Live { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _bench = await IsmBench.StartAsync(new IsmModelDomain(2, Description())).ConfigureAwait(false);
        IsmDevice a = _bench.Devices[0];
        for (int i = 0; i < Live; i++)
        {
            await a.AllocateAsync(a.ChunkSize).ConfigureAwait(false);
        }
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _bench.DisposeAsync().ConfigureAwait(false);

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task AllocAttachDetachFree()
    {
        for (int i = 0; i < Batch; i++)
        {
            await IsmControlOperation.RunAsync(_bench.Devices[0], _bench.Devices[1]).ConfigureAwait(false);
        }
    }

    /// <summary>2^17 slots of 4 KiB, as many notify-addresses.</summary>
    public static EndpointDescription Description() => IsmDescriptions.WithWindow(4096, 1 << 17);
}
