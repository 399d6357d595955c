using VirtioHw.Registers;

namespace VirtioHw.Host.Virtio;

/// <summary>
/// The device status bits, the same on every transport. The values come from the register
/// description of virtio-pci's device_status; virtio-mmio's Status uses the same encoding.
/// </summary>
[Flags]
#pragma warning disable CA1711 // "Status" is the specification's name for this register.
public enum VirtioStatus : byte
#pragma warning restore CA1711
{
    /// <summary>Written to reset the device; what a reset device reads.</summary>
    Reset = 0,

    /// <summary>The driver has found the device and recognised it as a virtio device.</summary>
    Acknowledge = VirtioCommonCfg.VirtioDeviceStatus.Acknowledge,

    /// <summary>The driver knows how to drive the device.</summary>
    Driver = VirtioCommonCfg.VirtioDeviceStatus.Driver,

    /// <summary>The driver is set up and ready to drive the device.</summary>
    DriverOk = VirtioCommonCfg.VirtioDeviceStatus.DriverOk,

    /// <summary>Feature negotiation is complete.</summary>
    FeaturesOk = VirtioCommonCfg.VirtioDeviceStatus.FeaturesOk,

    /// <summary>The device has met an error it cannot recover from without a reset.</summary>
    DeviceNeedsReset = VirtioCommonCfg.VirtioDeviceStatus.DeviceNeedsReset,

    /// <summary>The driver has given up on the device.</summary>
    Failed = VirtioCommonCfg.VirtioDeviceStatus.Failed,
}
