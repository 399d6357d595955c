using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace VirtioHw.Host.Pci;

/// <summary>
/// The PCI ID database in the format of pciutils' <c>pci.ids</c>: vendors with their devices and
/// subsystems, classes with their sub-classes and programming interfaces. Immutable once read.
/// </summary>
/// <remarks>
/// Lines are <c>vvvv  Vendor</c>, tab <c>dddd  Device</c>, two tabs <c>ssss ssss  Subsystem</c>,
/// <c>C cc  Class</c>, tab <c>ss  Sub-class</c>, two tabs <c>pp  Programming interface</c>; <c>#</c>
/// starts a comment. Lines that do not fit are skipped, as pciutils skips them.
/// </remarks>
public sealed class PciIds
{
    /// <summary>Where distributions install the database (pciutils' default first).</summary>
    public static IReadOnlyList<string> SystemPaths { get; } = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids"];

    private readonly Dictionary<ushort, string> _vendors = [];
    private readonly Dictionary<uint, string> _devices = [];
    private readonly Dictionary<(uint Device, uint Subsystem), string> _subsystems = [];
    private readonly Dictionary<int, string> _classes = [];

    private PciIds(string source) => Source = source;

    /// <summary>The file the names came from.</summary>
    public string Source { get; }

    /// <summary>Reads the first database of <see cref="SystemPaths"/> that exists; null when none does.</summary>
    public static PciIds? LoadSystem()
    {
        foreach (string path in SystemPaths)
        {
            if (File.Exists(path))
            {
                return Load(path);
            }
        }

        return null;
    }

    /// <summary>Reads a database file.</summary>
    /// <exception cref="IOException">The file cannot be read; one line naming it.</exception>
    public static PciIds Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var reader = new StreamReader(path);
            return Parse(reader, path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException($"cannot read the PCI ID database {path}: {e.Message}", e);
        }
    }

    /// <summary>Reads a database from text; <paramref name="source"/> names it in messages.</summary>
    public static PciIds Parse(TextReader reader, string source = "pci.ids")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var ids = new PciIds(source);
        int vendor = -1, device = -1, baseClass = -1, subClass = -1;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int depth = line.Length - line.TrimStart('\t').Length;
            ReadOnlySpan<char> text = line.AsSpan(depth);
            if (depth == 0 && text.StartsWith("C ") && TrySplit(text[2..], 2, out uint cls, out string? className))
            {
                (vendor, baseClass, subClass) = (-1, (int)cls, -1);
                ids._classes[ClassKey(baseClass, -1, -1)] = className;
            }
            else if (depth == 0 && TrySplit(text, 4, out uint v, out string? vendorName))
            {
                (vendor, device, baseClass) = ((int)v, -1, -1);
                ids._vendors[(ushort)v] = vendorName;
            }
            else if (depth == 0)
            {
                // Another top-level section (the device classes' "C" aside, pci.ids has none the listing uses).
                (vendor, baseClass) = (-1, -1);
            }
            else if (depth == 1 && vendor >= 0 && TrySplit(text, 4, out uint d, out string? deviceName))
            {
                device = (int)d;
                ids._devices[((uint)vendor << 16) | d] = deviceName;
            }
            else if (depth == 1 && baseClass >= 0 && TrySplit(text, 2, out uint s, out string? subName))
            {
                subClass = (int)s;
                ids._classes[ClassKey(baseClass, subClass, -1)] = subName;
            }
            else if (depth == 2 && vendor >= 0 && device >= 0 && TrySubsystem(text, out uint subsystem, out string? name))
            {
                ids._subsystems[(((uint)vendor << 16) | (uint)device, subsystem)] = name;
            }
            else if (depth == 2 && baseClass >= 0 && subClass >= 0 && TrySplit(text, 2, out uint p, out string? progName))
            {
                ids._classes[ClassKey(baseClass, subClass, (int)p)] = progName;
            }
        }

        return ids;
    }

    public string? Vendor(ushort vendor) => _vendors.GetValueOrDefault(vendor);

    public string? Device(ushort vendor, ushort device) => _devices.GetValueOrDefault(((uint)vendor << 16) | device);

    /// <summary>The name listed under the device for this subsystem, or null.</summary>
    public string? Subsystem(ushort vendor, ushort device, ushort subsystemVendor, ushort subsystem) =>
        _subsystems.GetValueOrDefault((((uint)vendor << 16) | device, ((uint)subsystemVendor << 16) | subsystem));

    /// <summary>The base class's name, or null.</summary>
    public string? Class(byte baseClass) => _classes.GetValueOrDefault(ClassKey(baseClass, -1, -1));

    public string? SubClass(byte baseClass, byte subClass) => _classes.GetValueOrDefault(ClassKey(baseClass, subClass, -1));

    public string? ProgIf(byte baseClass, byte subClass, byte progIf) => _classes.GetValueOrDefault(ClassKey(baseClass, subClass, progIf));

    private static int ClassKey(int baseClass, int subClass, int progIf) => (baseClass << 18) | ((subClass + 1) << 9) | (progIf + 1);

    // "hhhh  Name": an id of exactly `digits` hexadecimal digits, blanks, then the name.
    private static bool TrySplit(ReadOnlySpan<char> text, int digits, out uint id, [NotNullWhen(true)] out string? name)
    {
        name = null;
        id = 0;
        if (text.Length <= digits + 1 || !char.IsWhiteSpace(text[digits])
            || !uint.TryParse(text[..digits], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out id))
        {
            return false;
        }

        name = text[digits..].Trim().ToString();
        return name.Length > 0;
    }

    private static bool TrySubsystem(ReadOnlySpan<char> text, out uint subsystem, [NotNullWhen(true)] out string? name)
    {
        subsystem = 0;
        name = null;
        if (!TrySplit(text, 4, out uint vendor, out string? rest) || !TrySplit(rest, 4, out uint device, out name))
        {
            return false;
        }

        subsystem = (vendor << 16) | device;
        return true;
    }
}
