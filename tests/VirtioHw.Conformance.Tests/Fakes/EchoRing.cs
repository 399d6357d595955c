using System.Buffers.Binary;
using static VirtioHw.Wire.SplitRing;

namespace VirtioHw.Conformance.Tests.Fakes;

/// <summary>Reads device-visible memory at a bus address.</summary>
internal delegate void DmaRead(ulong busAddress, Span<byte> destination);

/// <summary>Writes device-visible memory at a bus address.</summary>
internal delegate void DmaWrite(ulong busAddress, ReadOnlySpan<byte> source);

/// <summary>
/// The device side of one split virtqueue, written from the specification's ring layout: takes
/// every available chain and answers it with its device-readable bytes in reverse order, written
/// into its device-writable buffers. Used by the fake device and by the test firmware on real
/// device models alike, so both answer the same way.
/// </summary>
internal sealed class EchoRing(ulong descriptors, ulong driverArea, ulong deviceArea, ushort size, DmaRead read, DmaWrite write)
{
    public ushort LastAvailable { get; private set; }

    public ushort UsedIndex { get; private set; }

    /// <summary>The reply to a request: its bytes reversed.</summary>
    public static byte[] Reply(ReadOnlySpan<byte> request)
    {
        byte[] reply = request.ToArray();
        Array.Reverse(reply);
        return reply;
    }

    /// <summary>Serves every available chain; true when the driver wants an interrupt for them.</summary>
    public bool ServeAvailable(out int served)
    {
        served = 0;
        ushort published = Read16(driverArea + IndexOffset);
        while (LastAvailable != published)
        {
            ushort head = Read16(driverArea + (ulong)AvailableEntryOffset(LastAvailable % size));
            Serve(head);
            LastAvailable++;
            served++;
        }

        return served > 0 && (Read16(driverArea + FlagsOffset) & AvailableNoInterrupt) == 0;
    }

    private void Serve(ushort head)
    {
        var readable = new List<byte>();
        var writable = new List<(ulong Address, uint Length)>();
        Span<byte> descriptor = stackalloc byte[DescriptorSize];
        ushort id = head;
        for (int hops = 0; hops < size; hops++)
        {
            read(descriptors + (DescriptorSize * (ulong)id), descriptor);
            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(descriptor[DescriptorAddressOffset..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(descriptor[DescriptorLengthOffset..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[DescriptorFlagsOffset..]);
            if ((flags & DescriptorWrite) != 0)
            {
                writable.Add((address, length));
            }
            else
            {
                byte[] bytes = new byte[length];
                read(address, bytes);
                readable.AddRange(bytes);
            }

            if ((flags & DescriptorNext) == 0)
            {
                break;
            }

            id = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[DescriptorNextOffset..]);
        }

        byte[] reply = Reply([.. readable]);
        int written = 0;
        foreach ((ulong address, uint length) in writable)
        {
            int part = Math.Min(reply.Length - written, (int)length);
            write(address, reply.AsSpan(written, part));
            written += part;
        }

        ulong entry = deviceArea + (ulong)UsedEntryOffset(UsedIndex % size);
        Span<byte> used = stackalloc byte[UsedEntrySize];
        BinaryPrimitives.WriteUInt32LittleEndian(used, head);
        BinaryPrimitives.WriteUInt32LittleEndian(used[4..], (uint)written);
        write(entry, used);
        UsedIndex++;
        Span<byte> index = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(index, UsedIndex);
        write(deviceArea + IndexOffset, index);
    }

    private ushort Read16(ulong address)
    {
        Span<byte> bytes = stackalloc byte[2];
        read(address, bytes);
        return BinaryPrimitives.ReadUInt16LittleEndian(bytes);
    }
}
