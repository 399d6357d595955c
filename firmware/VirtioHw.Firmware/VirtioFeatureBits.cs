namespace VirtioHw.Firmware;

/// <summary>Transport-independent virtio feature bits the firmware and the hardware act on.</summary>
public static class VirtioFeatureBits
{
    /// <summary>VIRTIO_F_VERSION_1 (bit 32): the device is a virtio 1.x device. Every device here offers it.</summary>
    public const ulong Version1 = 1UL << 32;

    /// <summary>VIRTIO_F_RING_RESET (bit 40): the driver may reset one queue through queue_reset.</summary>
    public const ulong RingReset = 1UL << 40;
}
