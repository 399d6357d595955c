using System.Text;

namespace VirtioHw.Host.Virtio;

/// <summary>
/// Feature bits reserved for the transport and the queues (virtio 1.x, "Reserved Feature Bits").
/// Bit numbers, not register fields, so they live here rather than in the register descriptions.
/// Bits 0-23 and 50-127 belong to the device type.
/// </summary>
public static class VirtioFeatures
{
    /// <summary>VIRTIO_F_INDIRECT_DESC: indirect descriptor tables.</summary>
    public const int IndirectDescriptors = SplitVirtqueueOptions.IndirectDescriptorsFeatureBit;

    /// <summary>VIRTIO_F_EVENT_IDX: used_event and avail_event suppress notifications.</summary>
    public const int EventIndex = SplitVirtqueueOptions.EventIndexFeatureBit;

    /// <summary>VIRTIO_F_VERSION_1: a virtio 1.x device; every driver here requires it.</summary>
    public const int Version1 = 32;

    /// <summary>VIRTIO_F_ACCESS_PLATFORM: the device reaches memory through the platform's translation.</summary>
    public const int AccessPlatform = 33;

    /// <summary>VIRTIO_F_RING_PACKED: packed virtqueues (not implemented here).</summary>
    public const int RingPacked = 34;

    /// <summary>VIRTIO_F_IN_ORDER: buffers are used in the order they were made available.</summary>
    public const int InOrder = 35;

    /// <summary>VIRTIO_F_ORDER_PLATFORM: memory accesses are ordered as the platform orders them.</summary>
    public const int OrderPlatform = 36;

    /// <summary>VIRTIO_F_SR_IOV: single-root I/O virtualization.</summary>
    public const int SrIov = 37;

    /// <summary>VIRTIO_F_NOTIFICATION_DATA: notifications carry ring positions.</summary>
    public const int NotificationData = 38;

    /// <summary>VIRTIO_F_NOTIF_CONFIG_DATA: the driver notifies with queue_notify_data.</summary>
    public const int NotifConfigData = 39;

    /// <summary>VIRTIO_F_RING_RESET: single queues can be reset.</summary>
    public const int RingReset = 40;

    /// <summary>The mask of one feature bit.</summary>
    public static ulong Bit(int bit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bit, 63);
        return 1UL << bit;
    }

    /// <summary>True when <paramref name="features"/> has <paramref name="bit"/>.</summary>
    public static bool Has(ulong features, int bit) => (features & Bit(bit)) != 0;

    /// <summary>The name of a reserved feature bit, or null for a device-type bit.</summary>
    public static string? Name(int bit) => bit switch
    {
        IndirectDescriptors => "INDIRECT_DESC",
        EventIndex => "EVENT_IDX",
        Version1 => "VERSION_1",
        AccessPlatform => "ACCESS_PLATFORM",
        RingPacked => "RING_PACKED",
        InOrder => "IN_ORDER",
        OrderPlatform => "ORDER_PLATFORM",
        SrIov => "SR_IOV",
        NotificationData => "NOTIFICATION_DATA",
        NotifConfigData => "NOTIF_CONFIG_DATA",
        RingReset => "RING_RESET",
        _ => null,
    };

    /// <summary>The set bits as names where known and numbers otherwise: "VERSION_1 RING_RESET bit0".</summary>
    public static string Describe(ulong features)
    {
        var text = new StringBuilder();
        for (int bit = 0; bit < 64; bit++)
        {
            if ((features & (1UL << bit)) == 0)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(Name(bit) ?? $"bit{bit}");
        }

        return text.Length == 0 ? "none" : text.ToString();
    }
}
