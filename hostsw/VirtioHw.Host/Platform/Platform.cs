using System.Buffers.Binary;

namespace VirtioHw.Host.Platforms;

/// <summary>
/// A PCIe root complex as host software sees it: config space, memory (MMIO and BARs), MSI
/// delivery and DMA memory. The abstract core is the few members below that touch the hardware;
/// everything else is a virtual default built on them, which an implementation may override
/// when it can do the same faster.
/// </summary>
/// <remarks>
/// Implementations check their arguments with <see cref="ValidateMemoryAccess"/> and
/// <see cref="ValidateConfigAccess"/>, which throw <see cref="ArgumentOutOfRangeException"/>.
/// DMA regions and MSI vectors belong to whoever allocated them and are disposed by them;
/// disposing the platform releases those still alive.
/// </remarks>
public abstract class Platform : IAsyncDisposable
{
    /// <summary>Bytes of config space per function (PCIe extended config space).</summary>
    public const int ConfigSpaceSize = 4096;

    /// <summary>
    /// A platform owns what it opens itself (sockets, mappings, simulator instances) and releases
    /// it in <see cref="DisposeAsyncCore"/>. The regions and vectors it hands out are the caller's
    /// to dispose; those still alive when the platform is disposed are released with it.
    /// </summary>
    protected Platform()
    {
    }

    /// <summary>A short name for messages and the registry, such as <c>model</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// One config read of <paramref name="width"/> bytes (1, 2 or 4, naturally aligned) at
    /// <paramref name="offset"/>. An absent function reads all-ones, as on a real bus.
    /// </summary>
    public abstract uint ReadConfig(PciAddress function, int offset, int width);

    /// <summary>One config write; writes to an absent function are dropped.</summary>
    public abstract void WriteConfig(PciAddress function, int offset, int width, uint value);

    /// <summary>
    /// Exactly one memory read of <paramref name="width"/> bytes (1, 2, 4 or 8, naturally
    /// aligned), never split or merged, because a register may react to the access width.
    /// </summary>
    public abstract ulong ReadMemory(ulong address, int width);

    /// <summary>Exactly one memory write of <paramref name="width"/> bytes; see <see cref="ReadMemory(ulong, int)"/>.</summary>
    public abstract void WriteMemory(ulong address, int width, ulong value);

    /// <summary>A message no other live vector has, and the stream its deliveries arrive on.</summary>
    public abstract MsiVector AllocateMsiVector();

    /// <summary>Zeroed memory that devices can reach by DMA; the caller disposes it.</summary>
    /// <param name="length">Size in bytes.</param>
    /// <param name="alignment">Alignment of the bus address, a power of two.</param>
    public abstract DmaRegion AllocateDma(int length, int alignment = 4096);

    /// <summary>
    /// Where host software may place BARs, in the order it should try them. Empty, the default,
    /// means the BARs have been assigned already (by platform firmware or an operating system) and
    /// enumeration keeps them where they are.
    /// </summary>
    public virtual IReadOnlyList<PciMemoryWindow> MemoryWindows => [];

    /// <summary>
    /// The virtio-mmio devices the platform describes, as a device tree would: where each register
    /// window is. Empty, the default, when the platform has none.
    /// </summary>
    public virtual IReadOnlyList<MmioDeviceWindow> VirtioMmioDevices => [];

    public virtual byte Read8(ulong address) => (byte)ReadMemory(address, 1);

    public virtual ushort Read16(ulong address) => (ushort)ReadMemory(address, 2);

    public virtual uint Read32(ulong address) => (uint)ReadMemory(address, 4);

    public virtual ulong Read64(ulong address) => ReadMemory(address, 8);

    public virtual void Write8(ulong address, byte value) => WriteMemory(address, 1, value);

    public virtual void Write16(ulong address, ushort value) => WriteMemory(address, 2, value);

    public virtual void Write32(ulong address, uint value) => WriteMemory(address, 4, value);

    public virtual void Write64(ulong address, ulong value) => WriteMemory(address, 8, value);

    /// <summary>
    /// Reads a block of memory with the widest naturally aligned accesses that fit, for memory
    /// where the access width does not matter (a shared-memory window, say).
    /// </summary>
    public virtual void ReadMemory(ulong address, Span<byte> destination)
    {
        ValidateBlock(address, destination.Length);
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        while (!destination.IsEmpty)
        {
            int width = WidestAccess(address, destination.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(value, ReadMemory(address, width));
            value[..width].CopyTo(destination);
            destination = destination[width..];
            address += (ulong)width;
        }
    }

    /// <summary>Writes a block of memory; the counterpart of <see cref="ReadMemory(ulong, Span{byte})"/>.</summary>
    public virtual void WriteMemory(ulong address, ReadOnlySpan<byte> source)
    {
        ValidateBlock(address, source.Length);
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        while (!source.IsEmpty)
        {
            int width = WidestAccess(address, source.Length);
            value.Clear();
            source[..width].CopyTo(value);
            WriteMemory(address, width, BinaryPrimitives.ReadUInt64LittleEndian(value));
            source = source[width..];
            address += (ulong)width;
        }
    }

    /// <summary>
    /// How many bytes of <paramref name="function"/>'s config space reads return as the device
    /// holds them; past that they read all-ones. Every byte by default; less where the host
    /// hides some (Linux shows only the first 64 bytes of sysfs config files to users other than root).
    /// </summary>
    public virtual int ReadableConfigBytes(PciAddress function) => ConfigSpaceSize;

    public virtual byte ReadConfig8(PciAddress function, int offset) => (byte)ReadConfig(function, offset, 1);

    public virtual ushort ReadConfig16(PciAddress function, int offset) => (ushort)ReadConfig(function, offset, 2);

    public virtual uint ReadConfig32(PciAddress function, int offset) => ReadConfig(function, offset, 4);

    public virtual void WriteConfig8(PciAddress function, int offset, byte value) => WriteConfig(function, offset, 1, value);

    public virtual void WriteConfig16(PciAddress function, int offset, ushort value) => WriteConfig(function, offset, 2, value);

    public virtual void WriteConfig32(PciAddress function, int offset, uint value) => WriteConfig(function, offset, 4, value);

    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the platform's resources; the default has none.</summary>
    protected virtual ValueTask DisposeAsyncCore() => default;

    /// <summary>Throws unless <paramref name="width"/> is 1, 2, 4 or 8 and the address is aligned to it.</summary>
    protected static void ValidateMemoryAccess(ulong address, int width)
    {
        if (width is not (1 or 2 or 4 or 8))
        {
            ThrowHelper.ThrowMemoryWidth(width);
        }

        if ((address & ((ulong)width - 1)) != 0)
        {
            ThrowHelper.ThrowMisalignedAddress(address, width);
        }
    }

    /// <summary>
    /// Throws unless <paramref name="width"/> is 1, 2 or 4 and the access lies inside the config
    /// space, aligned to its width.
    /// </summary>
    protected static void ValidateConfigAccess(int offset, int width)
    {
        if (width is not (1 or 2 or 4))
        {
            ThrowHelper.ThrowConfigWidth(width);
        }

        if ((uint)offset > ConfigSpaceSize - (uint)width || (offset & (width - 1)) != 0)
        {
            ThrowHelper.ThrowConfigOffset(offset, width);
        }
    }

    /// <summary>What a config read of <paramref name="width"/> bytes returns for an absent function.</summary>
    protected static uint AbsentFunctionValue(int width) => uint.MaxValue >> (32 - (8 * width));

    /// <summary>Throws unless a block of <paramref name="length"/> bytes at <paramref name="address"/> stays inside the 64-bit address space.</summary>
    protected static void ValidateBlock(ulong address, int length)
    {
        if (length > 0 && address > ulong.MaxValue - (ulong)(length - 1))
        {
            ThrowHelper.ThrowAddressRange(address, length);
        }
    }

    private static int WidestAccess(ulong address, int remaining)
    {
        int width = sizeof(ulong);
        while (width > remaining || (address & ((ulong)width - 1)) != 0)
        {
            width >>= 1;
        }

        return width;
    }
}
