using System.Buffers.Binary;

namespace VirtioHw.Drivers.Ism;

/// <summary>
/// The virtio-ism controlq and eventq wire format as the driver sees it (virtio-ism device
/// specification): command classes and commands, ack codes, event types. Little-endian le64
/// fields throughout; class, command and ack are bytes.
/// </summary>
internal static class IsmProtocol
{
    public const int DeviceType = 44;
    public const int FeatureDevMem = 0;
    public const byte ShmIdRegions = 1;
    public const byte ShmIdNotify = 2;

    public const byte ClassAlloc = 0;
    public const byte ClassQuery = 1;
    public const byte ClassAttach = 2;
    public const byte ClassDetach = 3;
    public const byte ClassGrant = 4;
    public const byte ClassEventVector = 5;

    public const byte GrantSetDefault = 0;
    public const byte GrantSetForDevice = 1;

    /// <summary>Ack byte, then token or size, then num.</summary>
    public const int ChunkReplyHeader = 1 + 16;

    /// <summary>struct virtio_ism_event_attach_detach: ev_type, offset, devid, peers.</summary>
    public const int AttachDetachEventSize = 32;

    /// <summary>The largest event structure (attach/detach).</summary>
    public const int MaxEventSize = AttachDetachEventSize;

    /// <summary>struct virtio_ism_event_buffer_free: ev_type and the buffer's bus address.</summary>
    public const int BufferFreeEventSize = 16;

    /// <summary>struct virtio_ism_event_update: ev_type, offset, devid.</summary>
    public const int UpdateEventSize = 24;

    /// <summary>The alignment of a buffer the driver passes without DEV_MEM: a page, as the device asks.</summary>
    public const int BufferAlignment = 4096;
}

/// <summary>The ack codes of virtio-ism commands.</summary>
public enum IsmAck : byte
{
    Ok = 0,
    NoEntry = 2,
    TooBig = 7,
    NoMemory = 12,
    NoSpace = 28,
    AttachDenied = 100,
    ReadDenied = 101,
    WriteDenied = 102,
    Error = 255,
}

/// <summary>Permissions of an ISM region (VIRTIO_ISM_PERM_*).</summary>
[Flags]
public enum IsmPermissions : ulong
{
    None = 0,
    Read = 1 << 0,
    Write = 1 << 1,
    Attach = 1 << 2,
    Manage = 1 << 3,

    /// <summary>With a grant to one device: the default permissions are cleared too.</summary>
    CleanDefault = 1 << 4,
}

/// <summary>What an event reports (ev_type).</summary>
public enum IsmEventType : ulong
{
    Update = 1 << 0,
    Attach = 1 << 1,
    Detach = 1 << 2,
    BufferFree = 1 << 3,
}

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
            int size = type switch
            {
                IsmEventType.Update => IsmProtocol.UpdateEventSize,
                IsmEventType.Attach or IsmEventType.Detach => IsmProtocol.AttachDetachEventSize,
                IsmEventType.BufferFree => IsmProtocol.BufferFreeEventSize,
                _ => 0,
            };
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
