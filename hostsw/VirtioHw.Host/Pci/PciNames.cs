using System.Globalization;

namespace VirtioHw.Host.Pci;

/// <summary>How a listing shows ids: names (lspci), numbers (<c>lspci -n</c>) or both (<c>lspci -nn</c>).</summary>
public enum PciNumbers
{
    Names,
    Numbers,
    Both,
}

/// <summary>
/// Names for ids and classes in the words and forms lspci uses: from a <see cref="PciIds"/>
/// database where it has the entry, else from the few this kit knows itself (virtio devices by
/// type, ivshmem, the classes and vendors it meets), else the number.
/// </summary>
public sealed class PciNames
{
    /// <summary>Only the built-in names.</summary>
    public static PciNames Builtin { get; } = new(null);

    /// <summary>Names from <paramref name="ids"/> first, the built-in ones after.</summary>
    public PciNames(PciIds? ids) => Ids = ids;

    /// <summary>The database consulted first, or null.</summary>
    public PciIds? Ids { get; }

    /// <summary>The vendor's name, or null when neither the database nor the built-in table has it.</summary>
    public string? Vendor(ushort vendor) => Ids?.Vendor(vendor) ?? BuiltinVendor(vendor);

    /// <summary>The device's name, or null.</summary>
    public string? Device(PciIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return Ids?.Device(identity.VendorId, identity.DeviceId) ?? BuiltinDevice(identity);
    }

    /// <summary>The sub-class's name, or null.</summary>
    public string? SubClass(byte baseClass, byte subClass) => Ids?.SubClass(baseClass, subClass) ?? BuiltinClass(baseClass, subClass);

    /// <summary>The base class's name, or null.</summary>
    public string? Class(byte baseClass) => Ids?.Class(baseClass) ?? BuiltinClass(baseClass, null);

    /// <summary>
    /// The class as lspci writes it: <c>Ethernet controller</c>, <c>0200</c> or
    /// <c>Ethernet controller [0200]</c>; with only the base class known, <c>Bridge [0680]</c>;
    /// with neither, <c>Class 0680</c>.
    /// </summary>
    public string ClassText(byte baseClass, byte subClass, PciNumbers numbers)
    {
        string code = Invariant($"{baseClass:x2}{subClass:x2}");
        if (numbers == PciNumbers.Numbers)
        {
            return code;
        }

        if (SubClass(baseClass, subClass) is { } name)
        {
            return numbers == PciNumbers.Both ? $"{name} [{code}]" : name;
        }

        return Class(baseClass) is { } baseName ? $"{baseName} [{code}]"
            : numbers == PciNumbers.Both ? $"Class [{code}]" : $"Class {code}";
    }

    /// <summary>
    /// Vendor and device as lspci writes them: <c>Red Hat, Inc. Virtio 1.0 block device</c>,
    /// <c>1af4:1042</c>, or both with the ids in brackets; an unknown device is <c>Device 1042</c>,
    /// an unknown vendor <c>Device 1af4:1042</c>.
    /// </summary>
    public string DeviceText(PciIdentity identity, PciNumbers numbers)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return Pair(identity.VendorId, identity.DeviceId, Vendor(identity.VendorId), Device(identity), numbers);
    }

    /// <summary>The subsystem as lspci's <c>Subsystem:</c> line writes it.</summary>
    public string SubsystemText(PciIdentity identity, PciNumbers numbers)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ushort vendor = identity.SubsystemVendorId, device = identity.SubsystemId;
        string? name = Ids?.Subsystem(identity.VendorId, identity.DeviceId, vendor, device);

        // A subsystem that repeats the function's own ids is named like the function (pciutils does the same).
        if (name is null && vendor == identity.VendorId && device == identity.DeviceId)
        {
            name = Device(identity);
        }

        return Pair(vendor, device, Vendor(vendor), name, numbers);
    }

    private static string Pair(ushort vendor, ushort device, string? vendorName, string? deviceName, PciNumbers numbers)
    {
        string ids = Invariant($"{vendor:x4}:{device:x4}");
        return (numbers, vendorName, deviceName) switch
        {
            (PciNumbers.Numbers, _, _) => ids,
            (PciNumbers.Both, null, _) => $"Device [{ids}]",
            (PciNumbers.Both, _, null) => Invariant($"{vendorName} Device [{ids}]"),
            (PciNumbers.Both, _, _) => $"{vendorName} {deviceName} [{ids}]",
            (_, null, _) => $"Device {ids}",
            (_, _, null) => Invariant($"{vendorName} Device {device:x4}"),
            _ => $"{vendorName} {deviceName}",
        };
    }

    private static string? BuiltinVendor(ushort vendor) => vendor switch
    {
        VirtioPciIds.VendorId => "Red Hat, Inc.",
        0x8086 => "Intel Corporation",
        0x10ee => "Xilinx Corporation",
        0x1d0f => "Amazon.com, Inc.",
        0x15b3 => "Mellanox Technologies",
        _ => null,
    };

    // Virtio devices by type, ivshmem by its id.
    private static string? BuiltinDevice(PciIdentity identity)
    {
        if (identity.VirtioDeviceType is { } type)
        {
            return $"Virtio {Virtio.VirtioDeviceTypes.Name(type)} device";
        }

        return identity.VendorId == VirtioPciIds.VendorId && identity.DeviceId == VirtioPciIds.IvshmemDeviceId
            ? "Inter-VM shared memory"
            : null;
    }

    private static string? BuiltinClass(byte baseClass, byte? subClass) => subClass is { } sub
        ? (baseClass, sub) switch
        {
            (0x00, 0x00) => "Non-VGA unclassified device",
            (0x01, 0x00) => "SCSI storage controller",
            (0x01, 0x08) => "Non-Volatile memory controller",
            (0x01, 0x80) => "Mass storage controller",
            (0x02, 0x00) => "Ethernet controller",
            (0x02, 0x80) => "Network controller",
            (0x05, 0x00) => "RAM memory",
            (0x06, 0x00) => "Host bridge",
            (0x06, 0x04) => "PCI bridge",
            (0x06, 0x80) => "Bridge",
            (0x07, 0x80) => "Communication controller",
            (0x08, 0x80) => "System peripheral",
            (0x12, 0x00) => "Processing accelerators",
            _ => null,
        }
        : baseClass switch
        {
            0x00 => "Unclassified device",
            0x01 => "Mass storage controller",
            0x02 => "Network controller",
            0x03 => "Display controller",
            0x05 => "Memory controller",
            0x06 => "Bridge",
            0x07 => "Communication controller",
            0x08 => "Generic system peripheral",
            0x09 => "Input device controller",
            0x10 => "Encryption controller",
            0x12 => "Processing accelerators",
            0xff => "Unassigned class",
            _ => null,
        };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
