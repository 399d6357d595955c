using System.Buffers.Binary;

namespace VirtioHw.Wire;

/// <summary>
/// The virtio-ism wire format: controlq classes and commands, ack codes, permissions, event
/// types and the sizes of the structures, as the virtio-ism device specification lays them out,
/// for the device (firmware) and the driver alike. Every field is little-endian; 64-bit fields
/// throughout except class, command and ack (bytes).
/// </summary>
public static class IsmWire
{
    /// <summary>virtio device id of virtio-ism.</summary>
    public const int DeviceId = 44;

    /// <summary>VIRTIO_ISM_F_DEV_MEM: the device provides the memory of the regions.</summary>
    public const int FeatureDevMem = 0;

    public const ushort ControlQueue = 0;
    public const ushort EventQueue = 1;

    /// <summary>The shared memory region ids (enum virtio_ism_shm_id).</summary>
    public const byte ShmIdRegions = 1;
    public const byte ShmIdNotify = 2;

    // Command classes, each with its commands.
    public const byte ClassAlloc = 0;
    public const byte AllocRegion = 0;
    public const byte ClassQuery = 1;
    public const byte QueryInfo = 0;
    public const byte ClassAttach = 2;
    public const byte AttachRegion = 0;
    public const byte ClassDetach = 3;
    public const byte DetachRegion = 0;
    public const byte ClassGrant = 4;
    public const byte GrantSetDefault = 0;
    public const byte GrantSetForDevice = 1;
    public const byte ClassEventVector = 5;
    public const byte EventVectorSet = 0;

    // Event types (ev_type) as the numbers the device writes.
    public const ulong EventUpdate = (ulong)IsmEventType.Update;
    public const ulong EventAttach = (ulong)IsmEventType.Attach;
    public const ulong EventDetach = (ulong)IsmEventType.Detach;
    public const ulong EventBufferFree = (ulong)IsmEventType.BufferFree;

    /// <summary>struct virtio_ism_event_update: ev_type, offset, devid.</summary>
    public const int UpdateEventSize = 24;

    /// <summary>struct virtio_ism_event_attach_detach: ev_type, offset, devid, peers.</summary>
    public const int AttachDetachEventSize = 32;

    /// <summary>struct virtio_ism_event_buffer_free: ev_type, buffer (a 64-bit bus address).</summary>
    public const int BufferFreeEventSize = 16;

    /// <summary>
    /// Alignment the device requires of a driver's buffer (alloc and attach without
    /// VIRTIO_ISM_F_DEV_MEM): a page, the unit the chunk table keeps a system-memory address in.
    /// </summary>
    public const ulong BufferAlignment = 4096;

    /// <summary>One past the highest system-memory address a chunk slot reaches (fw_csr chunk_perm.system).</summary>
    public const ulong SystemAddressLimit = 1UL << 48;

    /// <summary>The header of a command: class and command bytes.</summary>
    public const int CommandHeaderSize = 2;

    /// <summary>struct virtio_ism_ctrl_alloc_reply and _attach_reply without chunks: two le64.</summary>
    public const int ChunkReplyHeaderSize = 16;

    /// <summary>The largest event structure (attach/detach): the least an eventq buffer holds.</summary>
    public const int MaxEventSize = AttachDetachEventSize;

    /// <summary>The size of the structure of an event of <paramref name="type"/>; 0 for a type this format does not know.</summary>
    public static int EventSize(IsmEventType type) => type switch
    {
        IsmEventType.Update => UpdateEventSize,
        IsmEventType.Attach or IsmEventType.Detach => AttachDetachEventSize,
        IsmEventType.BufferFree => BufferFreeEventSize,
        _ => 0,
    };

    /// <summary>struct virtio_ism_event_update.</summary>
    public static byte[] UpdateEvent(ulong offset, ulong devid)
    {
        var ev = new byte[UpdateEventSize];
        BinaryPrimitives.WriteUInt64LittleEndian(ev, EventUpdate);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(8), offset);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(16), devid);
        return ev;
    }

    /// <summary>struct virtio_ism_event_attach_detach of <paramref name="type"/> (<see cref="EventAttach"/> or <see cref="EventDetach"/>).</summary>
    public static byte[] AttachDetachEvent(ulong type, ulong offset, ulong devid, ulong peers)
    {
        var ev = new byte[AttachDetachEventSize];
        BinaryPrimitives.WriteUInt64LittleEndian(ev, type);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(8), offset);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(16), devid);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(24), peers);
        return ev;
    }

    /// <summary>struct virtio_ism_event_buffer_free.</summary>
    public static byte[] BufferFreeEvent(ulong buffer)
    {
        var ev = new byte[BufferFreeEventSize];
        BinaryPrimitives.WriteUInt64LittleEndian(ev, EventBufferFree);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(8), buffer);
        return ev;
    }
}

/// <summary>The ack byte the device sets for a command.</summary>
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

/// <summary>Permissions of a region (VIRTIO_ISM_PERM_*).</summary>
[Flags]
public enum IsmPermissions : ulong
{
    None = 0,
    Read = 1 << 0,
    Write = 1 << 1,
    Attach = 1 << 2,
    Manage = 1 << 3,

    /// <summary>With a per-device grant: clears the default permissions as well.</summary>
    CleanDefault = 1 << 4,

    /// <summary>What a new region grants every device by default.</summary>
    Default = Read | Write | Attach,

    /// <summary>What the allocating device holds on its region.</summary>
    Owner = Read | Write | Attach | Manage,
}

/// <summary>What an event reports (ev_type).</summary>
public enum IsmEventType : ulong
{
    Update = 1 << 0,
    Attach = 1 << 1,
    Detach = 1 << 2,
    BufferFree = 1 << 3,
}
