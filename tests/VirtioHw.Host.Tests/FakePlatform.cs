using System.Buffers.Binary;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Tests;

/// <summary>
/// A platform in memory: a flat block of MMIO-like memory, config space for the functions a
/// test adds, DMA regions from <see cref="HostDmaAllocator"/> and MSI routing from
/// <see cref="MsiRouter"/>. Device-side code reaches DMA memory through <see cref="DeviceRead"/>
/// and <see cref="DeviceWrite"/>, by bus address, as hardware would.
/// </summary>
internal sealed class FakePlatform : Platform
{
    public const ulong MemoryBase = 0x1000_0000;
    public const int MemoryLength = 0x1_0000;
    public const ulong MsiAddress = 0xfee0_0000;
    public const ulong DmaWindowBase = 0x40_0000_0000;

    private readonly byte[] _memory = new byte[MemoryLength];
    private readonly Dictionary<PciAddress, byte[]> _config = [];

    public HostDmaAllocator Dma { get; } = new(DmaWindowBase, 1UL << 32);

    public MsiRouter Msi { get; } = new(MsiAddress);

    /// <summary>Every single memory access, in order: (is a write, address, width).</summary>
    public List<(bool Write, ulong Address, int Width)> Accesses { get; } = [];

    public override string Name => "fake";

    public void AddFunction(PciAddress function) => _config[function] = new byte[ConfigSpaceSize];

    public override uint ReadConfig(PciAddress function, int offset, int width)
    {
        ValidateConfigAccess(offset, width);
        if (!_config.TryGetValue(function, out byte[]? space))
        {
            return AbsentFunctionValue(width);
        }

        Span<byte> value = stackalloc byte[4];
        space.AsSpan(offset, width).CopyTo(value);
        return BinaryPrimitives.ReadUInt32LittleEndian(value);
    }

    public override void WriteConfig(PciAddress function, int offset, int width, uint value)
    {
        ValidateConfigAccess(offset, width);
        if (_config.TryGetValue(function, out byte[]? space))
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
            bytes[..width].CopyTo(space.AsSpan(offset));
        }
    }

    public override ulong ReadMemory(ulong address, int width)
    {
        ValidateMemoryAccess(address, width);
        Accesses.Add((false, address, width));
        Span<byte> value = stackalloc byte[8];
        value.Fill(0xff);
        if (address >= MemoryBase && address - MemoryBase + (ulong)width <= MemoryLength)
        {
            value.Clear();
            _memory.AsSpan((int)(address - MemoryBase), width).CopyTo(value);
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(value) & (ulong.MaxValue >> (64 - (8 * width)));
    }

    public override void WriteMemory(ulong address, int width, ulong value)
    {
        ValidateMemoryAccess(address, width);
        Accesses.Add((true, address, width));
        if (width == 4 && Msi.TryDeliver(address, (uint)value))
        {
            return;
        }

        if (address >= MemoryBase && address - MemoryBase + (ulong)width <= MemoryLength)
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
            bytes[..width].CopyTo(_memory.AsSpan((int)(address - MemoryBase)));
        }
    }

    public override MsiVector AllocateMsiVector() => Msi.Allocate();

    public override DmaRegion AllocateDma(int length, int alignment = 4096) => Dma.Allocate(length, alignment);

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
