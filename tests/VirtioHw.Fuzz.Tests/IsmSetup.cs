using VirtioHw.Cosim;
using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Fuzz.Tests;

/// <summary>Where the ISM devices of a test run: the C# model, or the RTL endpoints in co-simulation.</summary>
public enum IsmSide
{
    Model,
    Rtl,
}

/// <summary>
/// ISM devices of one domain, each running the ISM firmware, opened with the host stack: on the
/// model (<see cref="IsmBench"/>) or on <c>ism_endpoint_top</c> through <see cref="CosimPlatform"/>
/// (<see cref="CosimIsmDomain"/>), so one test runs on both. On the RTL a test whose library is not
/// built is ignored with the reason.
/// </summary>
internal sealed class IsmSetup : IAsyncDisposable
{
    private readonly Func<ValueTask> _dispose;
    private readonly Action<ulong, Memory<byte>> _read;

    private IsmSetup(IReadOnlyList<IsmDevice> devices, ulong memoryLength, Action<ulong, Memory<byte>> read, Func<ValueTask> dispose)
    {
        Devices = devices;
        MemoryLength = memoryLength;
        _read = read;
        _dispose = dispose;
    }

    public IReadOnlyList<IsmDevice> Devices { get; }

    /// <summary>Bytes of the domain memory every chunk window maps.</summary>
    public ulong MemoryLength { get; }

    public static async Task<IsmSetup> StartAsync(IsmSide side, int devices, CancellationToken cancellationToken)
    {
        if (side == IsmSide.Model)
        {
            IsmBench bench = await IsmBench.StartAsync(devices, cancellationToken);
            return new IsmSetup(bench.Devices, bench.Domain.Memory.Length, (at, into) => bench.Domain.Memory.Read(at, into.Span), bench.DisposeAsync);
        }

        var domain = new CosimIsmDomain(devices);
        CosimPlatform platform;
        try
        {
            platform = new CosimPlatform(domain.PlatformSettings());
        }
        catch (CosimLibraryException e)
        {
            domain.Dispose();
            Assert.Ignore($"co-simulation: {e.Message}");
            throw;
        }

        var opened = new List<IsmDevice>();
        async ValueTask DisposeAll()
        {
            foreach (IsmDevice device in opened)
            {
                await device.DisposeAsync();
            }

            await platform.DisposeAsync();
            domain.Dispose();
        }

        try
        {
            IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
            foreach (var address in domain.Addresses)
            {
                opened.Add(await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(address)), cancellationToken));
            }
        }
        catch
        {
            await DisposeAll();
            throw;
        }

        return new IsmSetup(opened, domain.Memory.Length, (at, into) => domain.Memory.Read(at, into.Span), DisposeAll);
    }

    /// <summary>Copies domain memory at <paramref name="address"/> into <paramref name="destination"/>.</summary>
    public void ReadMemory(ulong address, Memory<byte> destination) => _read(address, destination);

    /// <summary>Bytes of the domain memory that are not zero.</summary>
    public ulong NonZeroBytes()
    {
        byte[] block = new byte[1 << 20];
        ulong count = 0;
        for (ulong at = 0; at < MemoryLength; at += (ulong)block.Length)
        {
            int length = (int)Math.Min((ulong)block.Length, MemoryLength - at);
            ReadMemory(at, block.AsMemory(0, length));
            count += (ulong)(length - block.AsSpan(0, length).Count((byte)0));
        }

        return count;
    }

    public ValueTask DisposeAsync() => _dispose();
}
