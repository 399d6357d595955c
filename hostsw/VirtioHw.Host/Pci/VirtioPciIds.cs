namespace VirtioHw.Host.Pci;

/// <summary>
/// PCI ids of virtio devices, from the virtio specification ("PCI Device Discovery"). These are
/// identifiers, not registers, so they are not in the register descriptions.
/// </summary>
public static class VirtioPciIds
{
    /// <summary>The PCI vendor id of every virtio device (Red Hat, Inc.).</summary>
    public const ushort VendorId = 0x1af4;

    /// <summary>First device id of a transitional device; its type is in the subsystem id.</summary>
    public const ushort TransitionalDeviceIdFirst = 0x1000;

    /// <summary>A modern device's id is this plus its virtio device type (ISM, 44: 0x106c).</summary>
    public const ushort ModernDeviceIdBase = 0x1040;

    /// <summary>The last device id a virtio device can have.</summary>
    public const ushort ModernDeviceIdLast = 0x107f;

    /// <summary>The ivshmem device (not virtio, same vendor).</summary>
    public const ushort IvshmemDeviceId = 0x1110;
}
