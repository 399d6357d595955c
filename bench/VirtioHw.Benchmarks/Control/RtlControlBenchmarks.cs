using BenchmarkDotNet.Attributes;
using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Benchmarks.Control;

/// <summary>
/// The ISM control operation per second on the RTL: two Verilated <c>ism_endpoint_top</c>s of one
/// domain on the co-simulation platform, each running the ISM firmware, opened by the host stack
/// exactly as <see cref="ControlBenchmarks"/> opens the model's.
/// </summary>
public class RtlControlBenchmarks
{
    /// <summary>Operations per invocation: the RTL does a few tens per second, not thousands.</summary>
    public const int Batch = 2;

    private CosimIsmDomain _domain = null!;
    private CosimPlatform _platform = null!;
    private IsmDevice _a = null!;
    private IsmDevice _b = null!;

    // Synchronous on purpose: BenchmarkDotNet 0.14 in process does not await a Task-returning
    // GlobalSetup or GlobalCleanup (dotnet/BenchmarkDotNet#1738), so the model case's cleanup
    // would overlap this case.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _domain = new CosimIsmDomain(2);
        _platform = new CosimPlatform(_domain.PlatformSettings());
        IReadOnlyList<PciFunction> functions = PciBus.Scan(_platform);
        _a = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(_domain.Addresses[0]))).ConfigureAwait(false);
        _b = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(_domain.Addresses[1]))).ConfigureAwait(false);
        // The model case before this one compiled most of the host stack and firmware already.
        await JitWarmup.RunAsync(() => IsmControlOperation.RunAsync(_a, _b), maxRounds: 12).ConfigureAwait(false);
    }

    private async Task CleanupAsync()
    {
        await _b.DisposeAsync().ConfigureAwait(false);
        await _a.DisposeAsync().ConfigureAwait(false);
        await _platform.DisposeAsync().ConfigureAwait(false);
        _domain.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task RtlAllocAttachDetachFree()
    {
        for (int i = 0; i < Batch; i++)
        {
            await IsmControlOperation.RunAsync(_a, _b).ConfigureAwait(false);
        }
    }
}
