using System.Buffers.Binary;
using VirtioHw.Wire;

namespace VirtioHw.Drivers.Ism;

/// <summary>
/// One event from the device's eventq: what happened, at which region (its offset in this
/// device's regions area), which device caused it, and, for attach and detach, how many other
/// devices now refer to the region. BUFFER_FREE names only <paramref name="Buffer"/>, the bus
/// address of the buffer an alloc passed, which the driver has freed by the time it hands this on.
/// </summary>
public readonly record struct IsmEvent(IsmEventType Type, ulong Offset, ulong DevId, ulong Peers, ulong Buffer = 0)
{
    /// <summary>
    /// Every event structure in an eventq buffer, in order ("a buffer received from eventq can
    /// contain multiple event structures"); each ev_type gives its structure's size. Decoding
    /// stops at an unknown ev_type or a structure cut short, whose size cannot be trusted.
    /// </summary>
    /// <param name="used">The bytes the device wrote into the buffer.</param>
    /// <param name="into">Receives the events.</param>
    /// <returns>How many bytes were decoded.</returns>
    public static int Parse(ReadOnlySpan<byte> used, ICollection<IsmEvent> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        int at = 0;
        while (used.Length - at >= sizeof(ulong))
        {
            ReadOnlySpan<byte> ev = used[at..];
            var type = (IsmEventType)BinaryPrimitives.ReadUInt64LittleEndian(ev);
            int size = IsmWire.EventSize(type);
            if (size == 0 || ev.Length < size)
            {
                break;
            }

            into.Add(type switch
            {
                IsmEventType.BufferFree => new IsmEvent(type, 0, 0, 0, BinaryPrimitives.ReadUInt64LittleEndian(ev[8..])),
                IsmEventType.Update => new IsmEvent(type, BinaryPrimitives.ReadUInt64LittleEndian(ev[8..]), BinaryPrimitives.ReadUInt64LittleEndian(ev[16..]), 0),
                _ => new IsmEvent(type, BinaryPrimitives.ReadUInt64LittleEndian(ev[8..]), BinaryPrimitives.ReadUInt64LittleEndian(ev[16..]), BinaryPrimitives.ReadUInt64LittleEndian(ev[24..])),
            });
            at += size;
        }

        return at;
    }
}
