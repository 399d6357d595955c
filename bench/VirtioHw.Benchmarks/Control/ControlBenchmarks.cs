using BenchmarkDotNet.Attributes;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Benchmarks.Control;

/// <summary>The ISM control operation per second on the model: two devices of one domain opened by the host stack.</summary>
public class ControlBenchmarks
{
    public const int Batch = 20;

    private IsmBench _bench = null!;

    [GlobalSetup]
    public async Task Setup() => _bench = await IsmBench.StartAsync(2).ConfigureAwait(false);

    [GlobalCleanup]
    public async Task Cleanup() => await _bench.DisposeAsync().ConfigureAwait(false);

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task ModelAllocAttachDetachFree()
    {
        for (int i = 0; i < Batch; i++)
        {
            await IsmControlOperation.RunAsync(_bench.Devices[0], _bench.Devices[1]).ConfigureAwait(false);
        }
    }
}
