using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Model;

/// <summary>One device of a <see cref="ModelPlatform"/>: its hardware, where it sits, and the firmware driving it.</summary>
public sealed class ModelEndpoint
{
    internal ModelEndpoint(PciAddress? address, EndpointModel hardware, DeviceFirmware? firmware)
    {
        Address = address;
        Hardware = hardware;
        Firmware = firmware;
    }

    /// <summary>The function address on bus 0, or null for a virtio-mmio device.</summary>
    public PciAddress? Address { get; }

    public EndpointModel Hardware { get; }

    /// <summary>The booted firmware, or null when the endpoint runs none.</summary>
    public DeviceFirmware? Firmware { get; }

    /// <summary>The firmware's event loop while the platform runs it; a firmware failure shows here.</summary>
    public Task? FirmwareTask { get; internal set; }
}
