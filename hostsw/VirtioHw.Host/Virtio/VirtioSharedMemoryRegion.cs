using System.Diagnostics.CodeAnalysis;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Virtio;

/// <summary>
/// A shared memory region of a virtio device ("Shared Memory Regions"): a range of physical
/// addresses the device owns and the driver reads and writes in place, identified by its shmid.
/// Found by <see cref="VirtioTransport.GetSharedMemoryRegions"/> on either transport.
/// </summary>
/// <remarks>
/// Offsets are relative to the start of the region, as references into shared memory are.
/// Accesses go through the platform; each typed access is one access of that width.
/// </remarks>
public sealed class VirtioSharedMemoryRegion
{
    /// <param name="platform">The platform the region is reached through.</param>
    /// <param name="id">The shmid.</param>
    /// <param name="physicalAddress">Bus address of the first byte.</param>
    /// <param name="length">Size in bytes.</param>
    /// <param name="bar">On virtio-pci, the BAR holding the region; null on virtio-mmio.</param>
    /// <param name="barOffset">On virtio-pci, the region's offset in that BAR.</param>
    public VirtioSharedMemoryRegion(Platform platform, byte id, ulong physicalAddress, ulong length, int? bar = null, ulong barOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (length > 0 && length - 1 > ulong.MaxValue - physicalAddress)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"a {length}-byte region at 0x{physicalAddress:x} runs past the end of the address space");
        }

        Platform = platform;
        Id = id;
        PhysicalAddress = physicalAddress;
        Length = length;
        Bar = bar;
        BarOffset = barOffset;
    }

    public Platform Platform { get; }

    /// <summary>The shmid; its meaning belongs to the device type.</summary>
    public byte Id { get; }

    /// <summary>Bus address of the first byte of the region.</summary>
    public ulong PhysicalAddress { get; }

    /// <summary>Bytes in the region.</summary>
    public ulong Length { get; }

    /// <summary>The BAR holding the region on virtio-pci; null on virtio-mmio.</summary>
    public int? Bar { get; }

    /// <summary>Offset of the region in <see cref="Bar"/>.</summary>
    public ulong BarOffset { get; }

    public void Read(ulong offset, Span<byte> destination)
    {
        Check(offset, (ulong)destination.Length);
        Platform.ReadMemory(PhysicalAddress + offset, destination);
    }

    public void Write(ulong offset, ReadOnlySpan<byte> source)
    {
        Check(offset, (ulong)source.Length);
        Platform.WriteMemory(PhysicalAddress + offset, source);
    }

    public byte Read8(ulong offset)
    {
        Check(offset, sizeof(byte));
        return Platform.Read8(PhysicalAddress + offset);
    }

    public uint Read32(ulong offset)
    {
        Check(offset, sizeof(uint));
        return Platform.Read32(PhysicalAddress + offset);
    }

    public ulong Read64(ulong offset)
    {
        Check(offset, sizeof(ulong));
        return Platform.Read64(PhysicalAddress + offset);
    }

    public void Write8(ulong offset, byte value)
    {
        Check(offset, sizeof(byte));
        Platform.Write8(PhysicalAddress + offset, value);
    }

    public void Write32(ulong offset, uint value)
    {
        Check(offset, sizeof(uint));
        Platform.Write32(PhysicalAddress + offset, value);
    }

    public void Write64(ulong offset, ulong value)
    {
        Check(offset, sizeof(ulong));
        Platform.Write64(PhysicalAddress + offset, value);
    }

    public override string ToString() =>
        Bar is { } bar
            ? $"shmid {Id}: 0x{PhysicalAddress:x}, {Length} bytes (BAR {bar} + 0x{BarOffset:x})"
            : $"shmid {Id}: 0x{PhysicalAddress:x}, {Length} bytes";

    private void Check(ulong offset, ulong length)
    {
        if (offset > Length || length > Length - offset)
        {
            ThrowRange(offset, length);
        }
    }

    [DoesNotReturn]
    private void ThrowRange(ulong offset, ulong length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset,
            $"{length} bytes at offset 0x{offset:x} do not fit in shared memory region {Id} of {Length} bytes");
}
