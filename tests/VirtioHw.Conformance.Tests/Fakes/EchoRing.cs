using System.Buffers.Binary;

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
    // Split ring layout ("Split Virtqueues"): descriptor = le64 addr, le32 len, le16 flags, le16 next;
    // driver area = le16 flags, le16 idx, le16 ring[size]; device area = le16 flags, le16 idx, {le32 id, le32 len}[size].
    private const int DescriptorSize = 16;
    private const ushort Next = 1;
    private const ushort Write = 2;
    private const ushort NoInterrupt = 1;

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
        ushort published = Read16(driverArea + 2);
        while (LastAvailable != published)
        {
            ushort head = Read16(driverArea + 4 + (2 * (ulong)(LastAvailable % size)));
            Serve(head);
            LastAvailable++;
            served++;
        }

        return served > 0 && (Read16(driverArea) & NoInterrupt) == 0;
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
            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(descriptor);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(descriptor[8..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[12..]);
            if ((flags & Write) != 0)
            {
                writable.Add((address, length));
            }
            else
            {
                byte[] bytes = new byte[length];
                read(address, bytes);
                readable.AddRange(bytes);
            }

            if ((flags & Next) == 0)
            {
                break;
            }

            id = BinaryPrimitives.ReadUInt16LittleEndian(descriptor[14..]);
        }

        byte[] reply = Reply([.. readable]);
        int written = 0;
        foreach ((ulong address, uint length) in writable)
        {
            int part = Math.Min(reply.Length - written, (int)length);
            write(address, reply.AsSpan(written, part));
            written += part;
        }

        ulong entry = deviceArea + 4 + (8 * (ulong)(UsedIndex % size));
        Span<byte> used = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(used, head);
        BinaryPrimitives.WriteUInt32LittleEndian(used[4..], (uint)written);
        write(entry, used);
        UsedIndex++;
        Span<byte> index = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(index, UsedIndex);
        write(deviceArea + 2, index);
    }

    private ushort Read16(ulong address)
    {
        Span<byte> bytes = stackalloc byte[2];
        read(address, bytes);
        return BinaryPrimitives.ReadUInt16LittleEndian(bytes);
    }
}
