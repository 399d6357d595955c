using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Model;

/// <summary>
/// The root complex of the C# model: endpoints at function addresses on bus 0 (config cycles
/// routed by address), virtio-mmio devices at fixed addresses, system memory for DMA, MSI capture,
/// and two PCI windows (<see cref="MemoryWindows"/>) from which the host assigns BARs. A memory
/// access goes to the virtio-mmio device or the enabled BAR that decodes it, else to system
/// memory; nothing answering reads all-ones and drops writes, as a master abort does.
/// </summary>
/// <remarks>
/// Each endpoint serialises its own accesses; firmware runs on tasks of its own. Device memory
/// writes to <see cref="MsiAddress"/> with a live vector's data are delivered to that vector.
/// DMA reaches system memory only (no peer-to-peer into other BARs).
/// </remarks>
public sealed class ModelPlatform : Platform
{
    /// <summary>Where <see cref="Platform.AllocateDma"/> places system memory: 4 GiB up, 64 GiB of it.</summary>
    public const ulong SystemMemoryBase = 0x1_0000_0000;

    public const ulong SystemMemorySize = 0x10_0000_0000;

    /// <summary>The message address of every MSI vector (the x86 interrupt address).</summary>
    public const ulong MsiAddress = 0xFEE0_0000;

    private static int s_registered;

    private readonly HostDmaAllocator _systemMemory = new(SystemMemoryBase, SystemMemorySize);
    private readonly MsiRouter _msi = new(MsiAddress);
    private readonly PciEndpointModel?[] _functions = new PciEndpointModel?[256];
    private readonly PciEndpointModel[] _pciEndpoints;
    private readonly VirtioMmioEndpointModel[] _mmioDevices;
    private readonly CancellationTokenSource _stop = new();

    // An array, so the per-access window check enumerates without allocating.
    private readonly PciMemoryWindow[] _windows =
    [
        new PciMemoryWindow(0xC000_0000, 0x2000_0000, PciWindowKind.Memory),
        new PciMemoryWindow(0x80_0000_0000, 0x10_0000_0000, PciWindowKind.PrefetchableMemory),
    ];

    public ModelPlatform()
        : this(ModelPlatformSettings.Default)
    {
    }

    /// <inheritdoc cref="ModelPlatformSettings.FromOptions"/>
    public ModelPlatform(PlatformOptions options)
        : this(ModelPlatformSettings.FromOptions(options))
    {
    }

    /// <summary>Builds the endpoints, boots their firmware and, unless told not to, starts it.</summary>
    /// <exception cref="ArgumentException">Two endpoints share an address, or a virtio-mmio placement collides.</exception>
    public ModelPlatform(ModelPlatformSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var upstream = new SystemBus(this);
        var endpoints = new List<ModelEndpoint>();
        int ismInstances = 0;
        foreach (PciEndpointPlacement placement in settings.PciEndpoints)
        {
            if (placement.Address.Bus != 0)
            {
                throw new ArgumentException($"endpoint {placement.Description.Name} at {placement.Address}: the model has bus 0 only");
            }

            int devfn = (placement.Address.Device << 3) | placement.Address.Function;
            if (_functions[devfn] is not null)
            {
                throw new ArgumentException($"two endpoints at {placement.Address}");
            }

            EndpointDescription description = WithOwnDevId(placement.Description, ref ismInstances);
            PciEndpointModel hardware = description.Personality == EndpointPersonality.Ivshmem
                ? new IvshmemEndpointModel(description, upstream, placement.IvPosition, placement.Backing)
                : new VirtioPciEndpointModel(description, upstream, placement.Backing);
            _functions[devfn] = hardware;
            endpoints.Add(Boot(placement.Address, hardware, settings));
        }

        foreach (EndpointDescription mmio in settings.MmioDevices)
        {
            var hardware = new VirtioMmioEndpointModel(WithOwnDevId(mmio, ref ismInstances), upstream);
            CheckPlacement(hardware, endpoints);
            endpoints.Add(Boot(null, hardware, settings));
        }

        Endpoints = endpoints;
        _pciEndpoints = [.. endpoints.Select(e => e.Hardware).OfType<PciEndpointModel>()];
        _mmioDevices = [.. endpoints.Select(e => e.Hardware).OfType<VirtioMmioEndpointModel>()];
        VirtioMmioDevices = [.. _mmioDevices.Select(m => new MmioDeviceWindow(m.Base, VirtioMmioEndpointModel.WindowSize))];
        if (settings.RunFirmware)
        {
            foreach (ModelEndpoint endpoint in endpoints)
            {
                if (endpoint.Firmware is { } firmware)
                {
                    endpoint.FirmwareTask = Task.Run(() => firmware.RunAsync(_stop.Token));
                }
            }
        }
    }

    public override string Name => "model";

    /// <summary>
    /// Where the host assigns BARs: a 512 MiB memory window below 4 GiB and a 64 GiB prefetchable
    /// one high up. Accesses outside them never reach a BAR.
    /// </summary>
    public override IReadOnlyList<PciMemoryWindow> MemoryWindows => _windows;

    /// <summary>The register windows of the virtio-mmio devices, device configuration included.</summary>
    public override IReadOnlyList<MmioDeviceWindow> VirtioMmioDevices { get; }

    /// <summary>Every device: the PCI endpoints in the order given, then the virtio-mmio devices.</summary>
    public IReadOnlyList<ModelEndpoint> Endpoints { get; }

    /// <summary>Makes the model available as <c>model</c> in <see cref="PlatformFactory"/>; calling it again does nothing.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            PlatformFactory.Register("model", options => new ModelPlatform(options));
        }
    }

    /// <summary>The endpoint at <paramref name="address"/>, or null when none is there.</summary>
    public ModelEndpoint? FindEndpoint(PciAddress address) =>
        Endpoints.FirstOrDefault(e => e.Address == address);

    /// <summary>
    /// The interrupt of the virtio-mmio device in <paramref name="window"/> as a vector: every cause
    /// the device raises from now on is one message on it. The caller disposes the vector.
    /// </summary>
    /// <exception cref="ArgumentException">No virtio-mmio device of this platform is in that window.</exception>
    public MsiVector ConnectMmioInterrupt(MmioDeviceWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        VirtioMmioEndpointModel device = _mmioDevices.FirstOrDefault(d => d.Base == window.BaseAddress)
            ?? throw new ArgumentException($"no virtio-mmio device at 0x{window.BaseAddress:x}", nameof(window));
        MsiVector vector = _msi.Allocate();
        device.RouteInterrupt(vector.Address, vector.Data);
        return vector;
    }

    public override uint ReadConfig(PciAddress function, int offset, int width)
    {
        ValidateConfigAccess(offset, width);
        return Function(function) is { } endpoint ? endpoint.ReadConfig(offset, width) : AbsentFunctionValue(width);
    }

    public override void WriteConfig(PciAddress function, int offset, int width, uint value)
    {
        ValidateConfigAccess(offset, width);
        Function(function)?.WriteConfig(offset, width, value);
    }

    public override ulong ReadMemory(ulong address, int width)
    {
        ValidateMemoryAccess(address, width);
        foreach (VirtioMmioEndpointModel device in _mmioDevices)
        {
            if (device.TryRead(address, width, out ulong value))
            {
                return value;
            }
        }

        if (InPciWindow(address))
        {
            foreach (PciEndpointModel endpoint in _pciEndpoints)
            {
                if (endpoint.TryRead(address, width, out ulong value))
                {
                    return value;
                }
            }
        }

        return _systemMemory.ReadValue(address, width);
    }

    public override void WriteMemory(ulong address, int width, ulong value)
    {
        ValidateMemoryAccess(address, width);
        foreach (VirtioMmioEndpointModel device in _mmioDevices)
        {
            if (device.TryWrite(address, width, value))
            {
                return;
            }
        }

        if (InPciWindow(address))
        {
            foreach (PciEndpointModel endpoint in _pciEndpoints)
            {
                if (endpoint.TryWrite(address, width, value))
                {
                    return;
                }
            }
        }

        _systemMemory.WriteValue(address, width, value);
    }

    /// <summary>
    /// Shared memory windows a run at a time (up to a chunk slot's end under one endpoint lock), the
    /// rest one access at a time as <see cref="Platform.ReadMemory(ulong, Span{byte})"/> goes.
    /// </summary>
    public override void ReadMemory(ulong address, Span<byte> destination)
    {
        ValidateBlock(address, destination.Length);
        while (!destination.IsEmpty)
        {
            int done = ReadRun(address, destination);
            if (done == 0)
            {
                done = UpToWord(address, destination.Length);
                base.ReadMemory(address, destination[..done]);
            }

            destination = destination[done..];
            address += (ulong)done;
        }
    }

    /// <summary>The counterpart of <see cref="ReadMemory(ulong, Span{byte})"/>.</summary>
    public override void WriteMemory(ulong address, ReadOnlySpan<byte> source)
    {
        ValidateBlock(address, source.Length);
        while (!source.IsEmpty)
        {
            int done = WriteRun(address, source);
            if (done == 0)
            {
                done = UpToWord(address, source.Length);
                base.WriteMemory(address, source[..done]);
            }

            source = source[done..];
            address += (ulong)done;
        }
    }

    public override MsiVector AllocateMsiVector() => _msi.Allocate();

    public override DmaRegion AllocateDma(int length, int alignment = 4096) => _systemMemory.Allocate(length, alignment);

    /// <summary>Stops the firmware, then releases system memory and vectors still allocated.</summary>
    protected override async ValueTask DisposeAsyncCore()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (ModelEndpoint endpoint in Endpoints)
        {
            if (endpoint.FirmwareTask is { } task)
            {
                // A firmware that failed keeps its exception on FirmwareTask; stopping is all that is left.
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        _stop.Dispose();
        _msi.Dispose();
        _systemMemory.Dispose();
    }

    private static ModelEndpoint Boot(PciAddress? address, EndpointModel hardware, ModelPlatformSettings settings)
    {
        DeviceFirmware? firmware = settings.Firmware(hardware);
        firmware?.Boot();
        return new ModelEndpoint(address, hardware, firmware);
    }

    /// <summary>ISM devices of one platform share a domain, so each gets its own devid: the described one, then the next ones.</summary>
    private static EndpointDescription WithOwnDevId(EndpointDescription description, ref int ismInstances) =>
        description.Ism is { } ism
            ? description with { Ism = ism with { DevId = ism.DevId + (ulong)ismInstances++ } }
            : description;

    private void CheckPlacement(VirtioMmioEndpointModel device, List<ModelEndpoint> placed)
    {
        ulong sharedMemory = device.Description.SharedMemory.IsEmpty ? 0 : device.Description.FindBar(device.Description.SharedMemory[0].Bar)!.Size;
        (ulong Base, ulong Size, string What)[] ranges =
        [
            (device.Base, VirtioMmioEndpointModel.WindowSize, "register window"),
            (device.SharedMemoryBase, sharedMemory, "shared memory"),
        ];
        foreach ((ulong start, ulong size, string what) in ranges.Where(r => r.Size > 0))
        {
            bool collides = MemoryWindows.Any(w => Overlaps(start, size, w.BaseAddress, w.Length))
                || Overlaps(start, size, SystemMemoryBase, SystemMemorySize)
                || placed.Select(e => e.Hardware).OfType<VirtioMmioEndpointModel>().Any(m =>
                    Overlaps(start, size, m.Base, VirtioMmioEndpointModel.WindowSize) || Overlaps(start, size, m.SharedMemoryBase, sharedMemory));
            if (collides)
            {
                throw new ArgumentException(
                    $"virtio-mmio {device.Description.Name}: its {what} at 0x{start:x} overlaps a PCI window, system memory or another virtio-mmio device");
            }
        }
    }

    private static bool Overlaps(ulong a, ulong aSize, ulong b, ulong bSize) => a < b + bSize && b < a + aSize;

    private PciEndpointModel? Function(PciAddress address) =>
        address.Bus == 0 ? _functions[(address.Device << 3) | address.Function] : null;

    private int ReadRun(ulong address, Span<byte> destination)
    {
        if (InPciWindow(address))
        {
            foreach (PciEndpointModel endpoint in _pciEndpoints)
            {
                int read = endpoint.ReadRun(address, destination);
                if (read > 0)
                {
                    return read;
                }
            }
        }

        return 0;
    }

    private int WriteRun(ulong address, ReadOnlySpan<byte> source)
    {
        if (InPciWindow(address))
        {
            foreach (PciEndpointModel endpoint in _pciEndpoints)
            {
                int written = endpoint.WriteRun(address, source);
                if (written > 0)
                {
                    return written;
                }
            }
        }

        return 0;
    }

    /// <summary>The bytes up to the next 8-byte boundary, at most <paramref name="length"/>: one access of the fallback.</summary>
    private static int UpToWord(ulong address, int length) => Math.Min(length, sizeof(ulong) - (int)(address & (sizeof(ulong) - 1)));

    private bool InPciWindow(ulong address)
    {
        foreach (PciMemoryWindow window in _windows)
        {
            if (address >= window.BaseAddress && address <= window.LastAddress)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The root complex as endpoints master it: system memory, and MSI capture.</summary>
    private sealed class SystemBus(ModelPlatform platform) : IRootPort
    {
        public bool TryMemoryRead(ulong address, Span<byte> destination) =>
            platform._systemMemory.TryRead(address, destination);

        public bool TryMemoryWrite(ulong address, ReadOnlySpan<byte> source)
        {
            if (source.Length == sizeof(uint)
                && platform._msi.TryDeliver(address, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(source)))
            {
                return true;
            }

            return platform._systemMemory.TryWrite(address, source);
        }
    }
}
