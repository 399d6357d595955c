namespace VirtioHw.Firmware.Ism;

/// <summary>What an ISM firmware is built with; taken at construction and not changed after.</summary>
public sealed record IsmFirmwareSettings
{
    /// <summary>Feature bits to offer besides VIRTIO_ISM_F_DEV_MEM (always offered) and VIRTIO_F_VERSION_1.</summary>
    public ulong DeviceFeatures { get; init; }

    /// <summary>Largest size of controlq and eventq.</summary>
    public IReadOnlyList<ushort> QueueMaxSizes { get; init; } = [256, 256];

    /// <summary>Size of each region's notify-address in the notify area (shmid 2).</summary>
    public ulong NotifySize { get; init; } = 4096;

    /// <summary>Events kept for the eventq while the driver has no buffer posted; older ones beyond it are dropped.</summary>
    public int PendingEventLimit { get; init; } = 1024;
}
