using VirtioHw.Host.Platforms;

namespace VirtioHw.Conformance.Tests.Fakes;

/// <summary>A memory-mapped device outside PCI (a virtio-mmio register file), for <see cref="FakePciPlatform"/>.</summary>
internal interface IFakeMmioDevice
{
    ulong BaseAddress { get; }

    ulong Length { get; }

    ulong Read(ulong offset, int width);

    void Write(ulong offset, int width, ulong value);
}

/// <summary>
/// A root complex in memory: the <see cref="FakeFunction"/>s a test adds, decoded through their
/// BARs; memory-mapped devices at fixed addresses; DMA from <see cref="HostDmaAllocator"/>; MSI
/// messages routed by <see cref="MsiRouter"/>. The windows for BARs are whatever the test gives.
/// </summary>
internal sealed class FakePciPlatform : Platform
{
    public const ulong MsiAddress = 0xfee0_0000;
    public const ulong DmaWindowBase = 0x40_0000_0000;

    private readonly Dictionary<PciAddress, FakeFunction> _functions = [];
    private readonly List<IFakeMmioDevice> _mmio = [];
    private readonly List<MmioDeviceWindow> _virtioMmio = [];
    private readonly Lock _sync = new();

    public FakePciPlatform(IReadOnlyList<PciMemoryWindow>? windows = null) =>
        Windows = windows ?? [
            new PciMemoryWindow(0xc000_0000, 0x1000_0000),
            new PciMemoryWindow(0x80_0000_0000, 0x10_0000_0000, PciWindowKind.PrefetchableMemory),
            new PciMemoryWindow(0x1000, 0xf000, PciWindowKind.Io),
        ];

    public IReadOnlyList<PciMemoryWindow> Windows { get; set; }

    public HostDmaAllocator Dma { get; } = new(DmaWindowBase, 1UL << 32);

    public MsiRouter Msi { get; } = new(MsiAddress);

    /// <summary>Every config read, in order: (function, offset, width).</summary>
    public List<(PciAddress Function, int Offset, int Width)> ConfigReads { get; } = [];

    public override string Name => "fake";

    public override IReadOnlyList<PciMemoryWindow> MemoryWindows => Windows;

    public override IReadOnlyList<MmioDeviceWindow> VirtioMmioDevices => _virtioMmio;

    public T Add<T>(T function) where T : FakeFunction
    {
        _functions[function.Address] = function;
        return function;
    }

    /// <summary>Maps <paramref name="device"/>; a virtio-mmio one is also listed in <see cref="VirtioMmioDevices"/>.</summary>
    public T AddMmio<T>(T device, bool virtio = true) where T : IFakeMmioDevice
    {
        _mmio.Add(device);
        if (virtio)
        {
            _virtioMmio.Add(new MmioDeviceWindow(device.BaseAddress, device.Length));
        }

        return device;
    }

    public override uint ReadConfig(PciAddress function, int offset, int width)
    {
        ValidateConfigAccess(offset, width);
        lock (_sync)
        {
            ConfigReads.Add((function, offset, width));
            return _functions.TryGetValue(function, out FakeFunction? f) ? f.ReadConfig(offset, width) : AbsentFunctionValue(width);
        }
    }

    public override void WriteConfig(PciAddress function, int offset, int width, uint value)
    {
        ValidateConfigAccess(offset, width);
        lock (_sync)
        {
            if (_functions.TryGetValue(function, out FakeFunction? f))
            {
                f.WriteConfig(offset, width, value);
            }
        }
    }

    public override ulong ReadMemory(ulong address, int width)
    {
        ValidateMemoryAccess(address, width);
        lock (_sync)
        {
            foreach (FakeFunction f in _functions.Values)
            {
                if (f.TryDecode(address, out int bar, out ulong offset))
                {
                    return f.ReadBar(bar, offset, width);
                }
            }

            foreach (IFakeMmioDevice m in _mmio)
            {
                if (address >= m.BaseAddress && address - m.BaseAddress < m.Length)
                {
                    return m.Read(address - m.BaseAddress, width);
                }
            }
        }

        return ulong.MaxValue >> (64 - (8 * width));
    }

    public override void WriteMemory(ulong address, int width, ulong value)
    {
        ValidateMemoryAccess(address, width);
        lock (_sync)
        {
            foreach (FakeFunction f in _functions.Values)
            {
                if (f.TryDecode(address, out int bar, out ulong offset))
                {
                    f.WriteBar(bar, offset, width, value);
                    return;
                }
            }

            foreach (IFakeMmioDevice m in _mmio)
            {
                if (address >= m.BaseAddress && address - m.BaseAddress < m.Length)
                {
                    m.Write(address - m.BaseAddress, width, value);
                    return;
                }
            }
        }
    }

    public override MsiVector AllocateMsiVector() => Msi.Allocate();

    public override DmaRegion AllocateDma(int length, int alignment = 4096) => Dma.Allocate(length, alignment);

    /// <summary>A device's memory write of an MSI message.</summary>
    public void SendMessage(ulong address, uint data)
    {
        if (!Msi.TryDeliver(address, data))
        {
            throw new InvalidOperationException($"a device sent MSI data 0x{data:x} to 0x{address:x}, which no vector owns");
        }
    }

    public void DeviceRead(ulong busAddress, Span<byte> destination)
    {
        if (!Dma.TryRead(busAddress, destination))
        {
            throw new InvalidOperationException($"device read of {destination.Length} bytes at unmapped bus address 0x{busAddress:x}");
        }
    }

    public void DeviceWrite(ulong busAddress, ReadOnlySpan<byte> source)
    {
        if (!Dma.TryWrite(busAddress, source))
        {
            throw new InvalidOperationException($"device write of {source.Length} bytes at unmapped bus address 0x{busAddress:x}");
        }
    }

    protected override ValueTask DisposeAsyncCore()
    {
        Dma.Dispose();
        Msi.Dispose();
        return default;
    }
}
