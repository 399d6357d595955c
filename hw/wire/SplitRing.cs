namespace VirtioHw.Wire;

/// <summary>
/// The split virtqueue's layout in memory (virtio 1.x, "Split Virtqueues"): the descriptor table,
/// the driver area (available ring) and the device area (used ring), every field little-endian.
/// The driver's queue, the device's queue and the tests' fake rings all read it from here.
/// </summary>
public static class SplitRing
{
    /// <summary>struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next.</summary>
    public const int DescriptorSize = 16;
    public const int DescriptorAddressOffset = 0;
    public const int DescriptorLengthOffset = 8;
    public const int DescriptorFlagsOffset = 12;
    public const int DescriptorNextOffset = 14;

    /// <summary>VIRTQ_DESC_F_NEXT: the chain goes on at <c>next</c>.</summary>
    public const ushort DescriptorNext = 1;

    /// <summary>VIRTQ_DESC_F_WRITE: the device writes the buffer.</summary>
    public const ushort DescriptorWrite = 2;

    /// <summary>VIRTQ_DESC_F_INDIRECT: the buffer is a table of descriptors.</summary>
    public const ushort DescriptorIndirect = 4;

    /// <summary>Both rings start with le16 flags and le16 idx, then their entries.</summary>
    public const int FlagsOffset = 0;
    public const int IndexOffset = 2;
    public const int EntriesOffset = 4;

    /// <summary>An available ring entry: le16 head.</summary>
    public const int AvailableEntrySize = 2;

    /// <summary>struct virtq_used_elem: le32 id, le32 len.</summary>
    public const int UsedEntrySize = 8;

    /// <summary>VIRTQ_AVAIL_F_NO_INTERRUPT.</summary>
    public const ushort AvailableNoInterrupt = 1;

    /// <summary>VIRTQ_USED_F_NO_NOTIFY.</summary>
    public const ushort UsedNoNotify = 1;

    /// <summary>The used ring's alignment (the legacy layout's; any larger alignment is also valid).</summary>
    public const int UsedAlignment = 4;

    /// <summary>Offset in the driver area of available entry <paramref name="slot"/>.</summary>
    public static int AvailableEntryOffset(int slot) => EntriesOffset + (AvailableEntrySize * slot);

    /// <summary>Offset in the device area of used entry <paramref name="slot"/>.</summary>
    public static int UsedEntryOffset(int slot) => EntriesOffset + (UsedEntrySize * slot);

    /// <summary>used_event (VIRTIO_F_EVENT_IDX): right after the available ring of <paramref name="size"/> entries.</summary>
    public static int UsedEventOffset(int size) => AvailableEntryOffset(size);

    /// <summary>avail_event (VIRTIO_F_EVENT_IDX): right after the used ring of <paramref name="size"/> entries.</summary>
    public static int AvailableEventOffset(int size) => UsedEntryOffset(size);

    /// <summary>Bytes of the driver area of a queue of <paramref name="size"/> entries, used_event included.</summary>
    public static int DriverAreaSize(int size) => UsedEventOffset(size) + sizeof(ushort);

    /// <summary>Bytes of the device area of a queue of <paramref name="size"/> entries, avail_event included.</summary>
    public static int DeviceAreaSize(int size) => AvailableEventOffset(size) + sizeof(ushort);
}
