using System.Buffers.Binary;
using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Platforms.Cosim;

/// <summary>
/// The root complex around Verilated RTL endpoints, laid out as <see cref="ModelPlatform"/> lays
/// out the model, so the host stack cannot tell the two apart: config cycles to each instance's
/// cfg_ port by function address, memory decoded by the BARs the host programmed (only while
/// command.memory_space is set, only inside <see cref="MemoryWindows"/>) to its bar0_/bar1_/bar2_
/// ports, virtio-mmio devices at fixed addresses, system memory for DMA owned here, and every MSI
/// message an instance sends delivered through one <see cref="MsiRouter"/>. Each instance's
/// firmware runs on a task of its own through the instance's fw_ port.
/// </summary>
/// <remarks>
/// Any number of instances per process; each one serialises its own calls. An instance that
/// stops answering fails its calls with a <see cref="VirtioHw.Cosim.CosimException"/> naming it;
/// nothing waits for it. The same memory map as the model: DMA memory at
/// <see cref="ModelPlatform.SystemMemoryBase"/>, MSI at <see cref="ModelPlatform.MsiAddress"/>.
/// </remarks>
public sealed class CosimPlatform : Platform
{
    /// <summary>Bytes of a virtio-mmio register window (registers, then device configuration).</summary>
    public const ulong MmioWindowSize = VirtioMmioEndpointModel.WindowSize;

    private static int s_registered;

    // One block behind the whole window, so the RTL's system-memory requests reach it directly.
    private readonly HostDmaAllocator _systemMemory = HostDmaAllocator.CreateContiguous(ModelPlatform.SystemMemoryBase, ModelPlatform.SystemMemorySize);
    private readonly MsiRouter _msi = new(ModelPlatform.MsiAddress);
    private readonly CosimEndpoint?[] _functions = new CosimEndpoint?[256];
    private readonly CosimEndpoint[] _pciEndpoints;
    private readonly CosimEndpoint[] _mmioDevices;
    private readonly List<DeviceMemory> _ownMemory = [];
    private readonly CancellationTokenSource _stop = new();

    private readonly PciMemoryWindow[] _windows =
    [
        new PciMemoryWindow(0xC000_0000, 0x2000_0000, PciWindowKind.Memory),
        new PciMemoryWindow(0x80_0000_0000, 0x10_0000_0000, PciWindowKind.PrefetchableMemory),
    ];

    public CosimPlatform()
        : this(CosimPlatformSettings.Default)
    {
    }

    /// <inheritdoc cref="CosimPlatformSettings.FromOptions"/>
    public CosimPlatform(PlatformOptions options)
        : this(CosimPlatformSettings.FromOptions(options))
    {
    }

    /// <summary>Creates an RTL instance per endpoint, boots their firmware and, unless told not to, starts it.</summary>
    /// <exception cref="VirtioHw.Cosim.CosimLibraryException">A top's library is not built (run <c>make cosim</c>).</exception>
    /// <exception cref="ArgumentException">Two endpoints share an address, or a placement is not on bus 0.</exception>
    public CosimPlatform(CosimPlatformSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var upstream = new SystemBus(this);
        var endpoints = new List<CosimEndpoint>();
        Endpoints = endpoints;
        try
        {
            int ismInstances = 0;
            foreach (CosimEndpointPlacement placement in settings.PciEndpoints)
            {
                if (placement.Address.Bus != 0)
                {
                    throw new ArgumentException($"endpoint {placement.Description.Name} at {placement.Address}: the platform has bus 0 only");
                }

                int devfn = (placement.Address.Device << 3) | placement.Address.Function;
                if (_functions[devfn] is not null)
                {
                    throw new ArgumentException($"two endpoints at {placement.Address}");
                }

                EndpointDescription description = WithOwnDevId(placement.Description, ref ismInstances);
                string name = $"{description.Name}-{placement.Address.Bus:x2}.{placement.Address.Device:x2}.{placement.Address.Function:x}";
                CosimEndpoint endpoint = Place(name, placement.Address, description, placement.Memory, placement.IvPosition, upstream, settings);
                endpoints.Add(endpoint);
                _functions[devfn] = endpoint;
            }

            foreach (EndpointDescription mmio in settings.MmioDevices)
            {
                EndpointDescription description = WithOwnDevId(mmio, ref ismInstances);
                if (description.Mmio is null)
                {
                    throw new ArgumentException($"{description.Name} has no mmio placement in its description");
                }

                if (endpoints.Any(e => e.Address is null && e.Description.Mmio!.Base == description.Mmio.Base))
                {
                    throw new ArgumentException($"two virtio-mmio devices at 0x{description.Mmio.Base:x}");
                }

                endpoints.Add(Place($"{description.Name}-mmio-{description.Mmio.Base:x}", null, description, null, null, upstream, settings));
            }

            foreach (CosimEndpoint endpoint in endpoints)
            {
                endpoint.Firmware = settings.Firmware(endpoint);
                endpoint.Firmware?.Boot();
            }
        }
        catch
        {
            Release();
            throw;
        }

        _pciEndpoints = [.. endpoints.Where(e => e.Address is not null)];
        _mmioDevices = [.. endpoints.Where(e => e.Address is null)];
        VirtioMmioDevices = [.. _mmioDevices.Select(m => new MmioDeviceWindow(m.Description.Mmio!.Base, MmioWindowSize))];
        if (settings.RunFirmware)
        {
            foreach (CosimEndpoint endpoint in endpoints)
            {
                if (endpoint.Firmware is { } firmware)
                {
                    endpoint.FirmwareTask = Task.Run(() => firmware.RunAsync(_stop.Token));
                }
            }
        }
    }

    public override string Name => "rtl";

    /// <summary>Where the host assigns BARs: the model's two windows.</summary>
    public override IReadOnlyList<PciMemoryWindow> MemoryWindows => _windows;

    public override IReadOnlyList<MmioDeviceWindow> VirtioMmioDevices { get; }

    /// <summary>Every RTL instance: the PCI endpoints in the order given, then the virtio-mmio devices.</summary>
    public IReadOnlyList<CosimEndpoint> Endpoints { get; }

    /// <summary>Makes the platform available as <c>rtl</c> in <see cref="PlatformFactory"/>; calling it again does nothing.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            PlatformFactory.Register("rtl", options => new CosimPlatform(options));
        }
    }

    /// <summary>Whether this build's RTL has a top for <paramref name="description"/> (behind virtio-mmio when <paramref name="mmio"/>).</summary>
    public static bool HasRtl(EndpointDescription description, bool mmio)
    {
        ArgumentNullException.ThrowIfNull(description);
        return EndpointRtl.TryTopFor(description, mmio) is { } top && VirtioHw.Cosim.CosimTops.Names.Contains(top) && EndpointRtl.IsAdapted(top);
    }

    /// <summary>The endpoint at <paramref name="address"/>, or null when none is there.</summary>
    public CosimEndpoint? FindEndpoint(PciAddress address) => Endpoints.FirstOrDefault(e => e.Address == address);

    /// <summary>
    /// The interrupt of the virtio-mmio device in <paramref name="window"/> as a vector, as
    /// <see cref="ModelPlatform.ConnectMmioInterrupt"/> gives it: the top's interrupt line is routed
    /// to the vector's message, one message per cause raised from now on. The caller disposes the vector.
    /// </summary>
    /// <exception cref="ArgumentException">No virtio-mmio device of this platform is in that window.</exception>
    public MsiVector ConnectMmioInterrupt(MmioDeviceWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        CosimEndpoint device = _mmioDevices.FirstOrDefault(d => d.Description.Mmio!.Base == window.BaseAddress)
            ?? throw new ArgumentException($"no virtio-mmio device at 0x{window.BaseAddress:x}", nameof(window));
        MsiVector vector = _msi.Allocate();
        try
        {
            device.RouteInterrupt(vector.Address, vector.Data);
        }
        catch
        {
            vector.Dispose();
            throw;
        }

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
        foreach (CosimEndpoint device in _mmioDevices)
        {
            if (device.TryRead(address, width, out ulong value))
            {
                return value;
            }
        }

        if (InPciWindow(address))
        {
            foreach (CosimEndpoint endpoint in _pciEndpoints)
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
        foreach (CosimEndpoint device in _mmioDevices)
        {
            if (device.TryWrite(address, width, value))
            {
                return;
            }
        }

        if (InPciWindow(address))
        {
            foreach (CosimEndpoint endpoint in _pciEndpoints)
            {
                if (endpoint.TryWrite(address, width, value))
                {
                    return;
                }
            }
        }

        _systemMemory.WriteValue(address, width, value);
    }

    public override MsiVector AllocateMsiVector() => _msi.Allocate();

    public override DmaRegion AllocateDma(int length, int alignment = 4096) => _systemMemory.Allocate(length, alignment);

    /// <summary>Stops the firmware, closes every instance (flushing its waveform), then releases memory and vectors.</summary>
    protected override async ValueTask DisposeAsyncCore()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (CosimEndpoint endpoint in Endpoints)
        {
            if (endpoint.FirmwareTask is { } task)
            {
                // A firmware that failed keeps its exception on FirmwareTask; stopping is all that is left.
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        Release();
    }

    private void Release()
    {
        foreach (CosimEndpoint endpoint in Endpoints)
        {
            endpoint.Close();
        }

        foreach (DeviceMemory memory in _ownMemory)
        {
            memory.Dispose();
        }

        _stop.Dispose();
        _msi.Dispose();
        _systemMemory.Dispose();
    }

    private CosimEndpoint Place(string name, PciAddress? address, EndpointDescription description, DeviceMemory? memory, uint? ivPosition,
        SystemBus upstream, CosimPlatformSettings settings)
    {
        if (memory is not null && memory.Length < description.BackingMemory)
        {
            throw new ArgumentException($"{name}: the device memory has 0x{memory.Length:x} bytes; {description.Name} needs 0x{description.BackingMemory:x}");
        }

        if (memory is null && description.BackingMemory > 0)
        {
            memory = new DeviceMemory(description.BackingMemory);
            _ownMemory.Add(memory);
        }

        uint? position = description.Ivshmem is { } ivshmem ? ivPosition ?? ivshmem.IvPosition : null;
        IEndpointRtl rtl = EndpointRtl.Create(description, mmio: address is null, position ?? 0);
        try
        {
            rtl.TimeoutCycles = settings.TimeoutCycles;
            rtl.AttachSystemMemory(ModelPlatform.SystemMemoryBase, _systemMemory.BackingAddress, ModelPlatform.SystemMemorySize);
            if (settings.Trace is { } trace)
            {
                rtl.OpenTrace(CosimPlatformSettings.TracePath(trace, name));
            }

            var endpoint = new CosimEndpoint(name, address, description, position, rtl, memory, upstream);
            if (settings.StallAtCycle is { } stall)
            {
                endpoint.Stall(StalledPorts.Host, stall);
            }

            return endpoint;
        }
        catch
        {
            rtl.Dispose();
            throw;
        }
    }

    /// <summary>ISM devices of one platform share a domain, so each gets its own devid, as on the model.</summary>
    private static EndpointDescription WithOwnDevId(EndpointDescription description, ref int ismInstances) =>
        description.Ism is { } ism
            ? description with { Ism = ism with { DevId = ism.DevId + (ulong)ismInstances++ } }
            : description;

    private CosimEndpoint? Function(PciAddress address) =>
        address.Bus == 0 ? _functions[(address.Device << 3) | address.Function] : null;

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

    /// <summary>The root complex as the instances master it: system memory, and MSI capture.</summary>
    private sealed class SystemBus(CosimPlatform platform) : IRootPort
    {
        public bool TryMemoryRead(ulong address, Span<byte> destination) =>
            platform._systemMemory.TryRead(address, destination);

        public bool TryMemoryWrite(ulong address, ReadOnlySpan<byte> source)
        {
            if (source.Length == sizeof(uint) && platform._msi.TryDeliver(address, BinaryPrimitives.ReadUInt32LittleEndian(source)))
            {
                return true;
            }

            return platform._systemMemory.TryWrite(address, source);
        }
    }
}
