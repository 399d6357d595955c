using VirtioHw.Firmware;
using VirtioHw.Model;

namespace VirtioHw.Platforms.Cosim;

/// <summary>
/// The firmware an RTL endpoint runs unless told otherwise, the same the model's endpoints run
/// (<see cref="DefaultFirmware"/>): a <see cref="VirtioFirmware"/> programmed from the description
/// for virtio personalities, an <see cref="IvshmemFirmware"/> for ivshmem.
/// </summary>
public static class CosimFirmware
{
    public static DeviceFirmware Create(CosimEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        EndpointDescription d = endpoint.Description;
        return d.Virtio is null
            ? new IvshmemFirmware(endpoint.Hal)
            : new VirtioFirmware(endpoint.Hal, DefaultFirmware.SettingsFor(d));
    }
}
