using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;

namespace VirtioHw.Conformance.Tests.Fakes;

/// <summary>The transport a fake virtio device sits behind.</summary>
public enum TransportKind
{
    Pci,
    Mmio,
}

/// <summary>
/// A fake platform with one fake virtio device behind the chosen transport, scanned and opened:
/// the starting point of the transport tests.
/// </summary>
internal sealed class FakeRig : IAsyncDisposable
{
    public static readonly PciAddress PciAddress = new(0, 1, 0);
    public const ulong MmioBase = 0xd000_0000;
    public const ulong MmioSharedMemoryBase = 0xe000_0000;

    private FakeRig(FakePciPlatform platform, VirtioTransport transport, FakeVirtioDevice device,
        FakeVirtioPciFunction? pci, FakeVirtioMmioDevice? mmio, MsiVector? line)
    {
        Platform = platform;
        Transport = transport;
        Device = device;
        Pci = pci;
        Mmio = mmio;
        Line = line;
    }

    public FakePciPlatform Platform { get; }

    public VirtioTransport Transport { get; }

    public FakeVirtioDevice Device { get; }

    public FakeVirtioPciFunction? Pci { get; }

    public FakeVirtioMmioDevice? Mmio { get; }

    public MsiVector? Line { get; }

    /// <summary>Builds the rig; <paramref name="configure"/> may change the fake before the transport opens.</summary>
    public static FakeRig Create(TransportKind kind, FakeVirtioSpec? spec = null, int msixVectors = 4,
        VirtioTransportOptions? options = null, Action<FakePciPlatform, FakeVirtioPciFunction?>? configure = null)
    {
        spec ??= new FakeVirtioSpec();
        var platform = new FakePciPlatform();
        if (kind == TransportKind.Pci)
        {
            FakeVirtioPciFunction function = platform.Add(new FakeVirtioPciFunction(platform, PciAddress, spec, msixVectors));
            configure?.Invoke(platform, function);
            IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
            var transport = VirtioPciTransport.Open(functions.Find(PciAddress), options);
            return new FakeRig(platform, transport, function.Device, function, null, null);
        }

        FakeVirtioMmioDevice device = platform.AddMmio(new FakeVirtioMmioDevice(platform, MmioBase, spec, MmioSharedMemoryBase));
        platform.AddMmio(new FakeRam(MmioSharedMemoryBase, FakeVirtioPciFunction.SharedMemorySize), virtio: false);
        configure?.Invoke(platform, null);
        MsiVector line = platform.AllocateMsiVector();
        device.Line = (line.Address, line.Data);
        var mmio = VirtioMmioTransport.Open(platform, platform.VirtioMmioDevices[0], line, options);
        return new FakeRig(platform, mmio, device.Device, null, device, line);
    }

    public async ValueTask DisposeAsync()
    {
        await Transport.DisposeAsync().ConfigureAwait(false);
        Line?.Dispose();
        await Platform.DisposeAsync().ConfigureAwait(false);
    }
}
