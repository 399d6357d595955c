using System.Buffers.Binary;
using VirtioHw.Wire;

namespace VirtioHw.Firmware;

/// <summary>One descriptor of a chain: where it is, how long, and whether the device writes it.</summary>
public readonly record struct DeviceBuffer(ulong Address, uint Length, bool DeviceWritable);

/// <summary>
/// The device side of a split virtqueue, through DMA only: takes the chains the driver made
/// available and returns them on the used ring. A chain that loops, runs past the queue, points
/// outside the table or uses an indirect table (not offered) is returned with nothing written.
/// An available index more than the queue size ahead of the device cannot come from a working
/// driver: the queue stops taking chains and the device sets DEVICE_NEEDS_RESET, so the work per
/// notification stays bounded by the queue size.
/// </summary>
/// <remarks>Not thread-safe; the owner serialises calls.</remarks>
public sealed class DeviceVirtqueue
{
    private readonly IDeviceHal _hal;
    private readonly QueueSetup _setup;
    private ushort _lastAvail;
    private bool _broken;
    private ushort _usedIdx;

    /// <param name="hal">The CSR and DMA port; not owned.</param>
    /// <param name="setup">The queue as the driver enabled it.</param>
    public DeviceVirtqueue(IDeviceHal hal, QueueSetup setup)
    {
        ArgumentNullException.ThrowIfNull(hal);
        ArgumentNullException.ThrowIfNull(setup);
        _hal = hal;
        _setup = setup;
    }

    /// <summary>The driver moved the available index impossibly far; nothing is taken until the device is reset.</summary>
    public bool Broken => _broken;

    /// <summary>Takes the next available chain; false when the driver made none available (or DMA was refused, or the queue is <see cref="Broken"/>).</summary>
    /// <param name="head">The head descriptor index, to hand back to <see cref="Complete"/>.</param>
    /// <param name="chain">The chain's buffers, or empty when the chain is malformed.</param>
    public bool TryTake(out ushort head, List<DeviceBuffer> chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        chain.Clear();
        head = 0;
        Span<byte> word = stackalloc byte[sizeof(ushort)];
        if (_broken || !_hal.DmaRead(_setup.DriverArea + SplitRing.IndexOffset, word) || BinaryPrimitives.ReadUInt16LittleEndian(word) == _lastAvail)
        {
            return false;
        }

        if ((ushort)(BinaryPrimitives.ReadUInt16LittleEndian(word) - _lastAvail) > _setup.Size)
        {
            _broken = true;
            new FirmwareCsr(_hal).SetNeedsReset();
            return false;
        }

        if (!_hal.DmaRead(_setup.DriverArea + (ulong)SplitRing.AvailableEntryOffset(_lastAvail % _setup.Size), word))
        {
            return false;
        }

        _lastAvail++;
        head = BinaryPrimitives.ReadUInt16LittleEndian(word);
        if (!ReadChain(head, chain))
        {
            chain.Clear();
        }

        return true;
    }

    /// <summary>Returns chain <paramref name="head"/> with <paramref name="written"/> bytes written; true when the driver wants an interrupt.</summary>
    public bool Complete(ushort head, uint written)
    {
        Span<byte> element = stackalloc byte[SplitRing.UsedEntrySize];
        BinaryPrimitives.WriteUInt32LittleEndian(element, head);
        BinaryPrimitives.WriteUInt32LittleEndian(element[4..], written);
        _hal.DmaWrite(_setup.DeviceArea + (ulong)SplitRing.UsedEntryOffset(_usedIdx % _setup.Size), element);
        _usedIdx++;
        Span<byte> word = stackalloc byte[sizeof(ushort)];
        BinaryPrimitives.WriteUInt16LittleEndian(word, _usedIdx);
        _hal.DmaWrite(_setup.DeviceArea + SplitRing.IndexOffset, word);
        return !_hal.DmaRead(_setup.DriverArea + SplitRing.FlagsOffset, word) || (BinaryPrimitives.ReadUInt16LittleEndian(word) & SplitRing.AvailableNoInterrupt) == 0;
    }

    /// <summary>Copies the device-readable bytes of <paramref name="chain"/> into <paramref name="destination"/>; returns how many (at most its length).</summary>
    public int Gather(List<DeviceBuffer> chain, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(chain);
        int copied = 0;
        foreach (DeviceBuffer buffer in chain)
        {
            if (buffer.DeviceWritable || copied == destination.Length)
            {
                continue;
            }

            int length = (int)Math.Min(buffer.Length, (uint)(destination.Length - copied));
            if (!_hal.DmaRead(buffer.Address, destination.Slice(copied, length)))
            {
                return copied;
            }

            copied += length;
        }

        return copied;
    }

    /// <summary>Copies <paramref name="source"/> into the device-writable buffers; returns how many bytes fit.</summary>
    public int Scatter(List<DeviceBuffer> chain, ReadOnlySpan<byte> source)
    {
        ArgumentNullException.ThrowIfNull(chain);
        int copied = 0;
        foreach (DeviceBuffer buffer in chain)
        {
            if (!buffer.DeviceWritable || copied == source.Length)
            {
                continue;
            }

            int length = (int)Math.Min(buffer.Length, (uint)(source.Length - copied));
            if (!_hal.DmaWrite(buffer.Address, source.Slice(copied, length)))
            {
                return copied;
            }

            copied += length;
        }

        return copied;
    }

    /// <summary>Total length of the device-writable buffers of <paramref name="chain"/>.</summary>
    public static long WritableLength(List<DeviceBuffer> chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        long total = 0;
        foreach (DeviceBuffer buffer in chain)
        {
            total += buffer.DeviceWritable ? buffer.Length : 0;
        }

        return total;
    }

    private bool ReadChain(ushort head, List<DeviceBuffer> chain)
    {
        Span<byte> descriptor = stackalloc byte[SplitRing.DescriptorSize];
        ushort index = head;

        // A chain has at most Size descriptors; one more means a loop.
        for (int seen = 0; seen < _setup.Size; seen++)
        {
            if (index >= _setup.Size || !_hal.DmaRead(_setup.DescriptorArea + ((ulong)index * SplitRing.DescriptorSize), descriptor))
            {
                return false;
            }

            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[SplitRing.DescriptorFlagsOffset..]);
            if ((flags & SplitRing.DescriptorIndirect) != 0)
            {
                return false;
            }

            chain.Add(new DeviceBuffer(
                BinaryPrimitives.ReadUInt64LittleEndian(descriptor[SplitRing.DescriptorAddressOffset..]),
                BinaryPrimitives.ReadUInt32LittleEndian(descriptor[SplitRing.DescriptorLengthOffset..]),
                (flags & SplitRing.DescriptorWrite) != 0));
            if ((flags & SplitRing.DescriptorNext) == 0)
            {
                return true;
            }

            index = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[SplitRing.DescriptorNextOffset..]);
        }

        return false;
    }
}
