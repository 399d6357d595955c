namespace VirtioHw.Firmware.Ism;

/// <summary>What an ISM firmware is built with; taken at construction and not changed after.</summary>
public sealed record IsmFirmwareSettings
{
    /// <summary>Feature bits to offer besides VIRTIO_F_VERSION_1; VIRTIO_ISM_F_DEV_MEM among them is ignored, <see cref="DeviceMemory"/> decides it.</summary>
    public ulong DeviceFeatures { get; init; }

    /// <summary>
    /// Whether the device offers VIRTIO_ISM_F_DEV_MEM (regions in device memory). Without it, or
    /// when the driver does not accept it, regions live in the memory the driver passes with alloc.
    /// </summary>
    public bool DeviceMemory { get; init; } = true;

    /// <summary>Largest size of controlq and eventq.</summary>
    public IReadOnlyList<ushort> QueueMaxSizes { get; init; } = [256, 256];

    /// <summary>Size of each region's notify-address in the notify area (shmid 2).</summary>
    public ulong NotifySize { get; init; } = 4096;

    /// <summary>
    /// Events kept for the eventq while the driver has no buffer posted. One more sets
    /// DEVICE_NEEDS_RESET (with a configuration change) rather than lose an event unseen.
    /// </summary>
    public int PendingEventLimit { get; init; } = 1024;
}
