namespace VirtioHw.Host.Pci;

/// <summary>Names for ids and classes, the few this kit meets, in the words lspci uses.</summary>
public static class PciNames
{
    public static string Vendor(ushort vendor) => vendor switch
    {
        VirtioPciIds.VendorId => "Red Hat, Inc.",
        0x8086 => "Intel Corporation",
        0x10ee => "Xilinx Corporation",
        0x1d0f => "Amazon.com, Inc.",
        0x15b3 => "Mellanox Technologies",
        _ => $"Vendor {vendor:x4}",
    };

    /// <summary>The device's name: virtio devices by type, ivshmem, else its id.</summary>
    public static string Device(PciIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (identity.VirtioDeviceType is { } type)
        {
            return $"Virtio {Virtio.VirtioDeviceTypes.Name(type)} device";
        }

        return identity.VendorId == VirtioPciIds.VendorId && identity.DeviceId == VirtioPciIds.IvshmemDeviceId
            ? "Inter-VM shared memory"
            : $"Device {identity.DeviceId:x4}";
    }

    /// <summary>The class name from the base class and sub-class.</summary>
    public static string Class(byte baseClass, byte subClass) => (baseClass, subClass) switch
    {
        (0x00, _) => "Non-VGA unclassified device",
        (0x01, 0x00) => "SCSI storage controller",
        (0x01, 0x08) => "Non-Volatile memory controller",
        (0x01, _) => "Mass storage controller",
        (0x02, 0x00) => "Ethernet controller",
        (0x02, _) => "Network controller",
        (0x03, _) => "Display controller",
        (0x05, 0x00) => "RAM memory",
        (0x05, _) => "Memory controller",
        (0x06, 0x00) => "Host bridge",
        (0x06, 0x04) => "PCI bridge",
        (0x06, _) => "Bridge",
        (0x07, _) => "Communication controller",
        (0x08, _) => "System peripheral",
        (0x09, _) => "Input device controller",
        (0x10, _) => "Encryption controller",
        (0x12, _) => "Processing accelerators",
        (0xff, _) => "Unassigned class",
        _ => $"Class {baseClass:x2}{subClass:x2}",
    };
}
