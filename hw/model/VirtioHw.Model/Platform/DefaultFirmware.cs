using VirtioHw.Firmware;

namespace VirtioHw.Model;

/// <summary>
/// The firmware an endpoint of the model runs unless told otherwise: a <see cref="VirtioFirmware"/>
/// programmed from the description (features, queue sizes, the ISM device configuration) for
/// virtio personalities, an <see cref="IvshmemFirmware"/> for ivshmem.
/// </summary>
public static class DefaultFirmware
{
    public static DeviceFirmware Create(EndpointModel hardware)
    {
        ArgumentNullException.ThrowIfNull(hardware);
        EndpointDescription d = hardware.Description;
        if (d.Virtio is null)
        {
            return new IvshmemFirmware(hardware.Hal);
        }

        return new VirtioFirmware(hardware.Hal, SettingsFor(d));
    }

    /// <summary>What a virtio firmware programs at boot for <paramref name="description"/>.</summary>
    public static VirtioFirmwareSettings SettingsFor(EndpointDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        return new VirtioFirmwareSettings
        {
            DeviceFeatures = description.Virtio?.DeviceFeatures ?? 0,
            QueueMaxSizes = [.. description.Queues.Select(q => q.MaxSize)],
            DeviceConfig = description.Personality == EndpointPersonality.Ism ? IsmConfigImage.Build(description) : default,
        };
    }
}
