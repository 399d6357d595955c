using BenchmarkDotNet.Attributes;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Benchmarks.Control;

/// <summary>The ISM control operation per second on the model: two devices of one domain opened by the host stack.</summary>
public class ControlBenchmarks
{
    public const int Batch = 20;

    private IsmBench _bench = null!;

    // Synchronous on purpose: BenchmarkDotNet 0.14 in process does not await a Task-returning
    // GlobalSetup or GlobalCleanup (dotnet/BenchmarkDotNet#1738).
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _bench.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _bench = await IsmBench.StartAsync(2).ConfigureAwait(false);
        await JitWarmup.RunAsync(() => IsmControlOperation.RunAsync(_bench.Devices[0], _bench.Devices[1]), maxRounds: 80).ConfigureAwait(false);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task ModelAllocAttachDetachFree()
    {
        for (int i = 0; i < Batch; i++)
        {
            await IsmControlOperation.RunAsync(_bench.Devices[0], _bench.Devices[1]).ConfigureAwait(false);
        }
    }
}
