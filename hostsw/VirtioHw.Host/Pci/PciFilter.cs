using System.Globalization;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Pci;

/// <summary>
/// Which functions a listing shows, in the forms pciutils accepts: <c>-s</c>
/// <c>[[[[domain]:]bus]:][device][.[function]]</c> and <c>-d [vendor]:[device][:class[:prog-if]]</c>,
/// all hexadecimal, an empty or <c>*</c> part matching anything. Immutable.
/// </summary>
public sealed record PciFilter
{
    /// <summary>Matches every function.</summary>
    public static PciFilter All { get; } = new();

    public int? Domain { get; init; }

    public int? Bus { get; init; }

    public int? Device { get; init; }

    public int? Function { get; init; }

    public ushort? VendorId { get; init; }

    public ushort? DeviceId { get; init; }

    /// <summary>Base class and sub-class, as <c>-d ::0200</c> gives them.</summary>
    public ushort? Class { get; init; }

    public byte? ProgIf { get; init; }

    /// <summary>True when the filter names no part, so it matches every function.</summary>
    public bool IsAll => this == All;

    /// <summary>Whether the function at <paramref name="address"/> of PCI domain <paramref name="domain"/> passes.</summary>
    public bool Matches(int domain, PciAddress address, PciIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return (Domain is null || Domain == domain)
            && (Bus is null || Bus == address.Bus)
            && (Device is null || Device == address.Device)
            && (Function is null || Function == address.Function)
            && (VendorId is null || VendorId == identity.VendorId)
            && (DeviceId is null || DeviceId == identity.DeviceId)
            && (Class is null || Class == (identity.ClassCode >> 8))
            && (ProgIf is null || ProgIf == identity.ProgIf);
    }

    /// <summary>This filter narrowed by an <c>-s</c> slot, as <c>lspci -s</c> reads it.</summary>
    /// <exception cref="FormatException">The text is not such a slot; the message names the part at fault.</exception>
    public PciFilter WithSlot(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string rest = text;
        int? domain = null, bus = null;
        int colon = rest.LastIndexOf(':');
        if (colon >= 0)
        {
            string head = rest[..colon];
            rest = rest[(colon + 1)..];
            int first = head.IndexOf(':', StringComparison.Ordinal);
            if (first >= 0)
            {
                domain = Part(head[..first], 0xffff, "domain", text);
                head = head[(first + 1)..];
            }

            bus = Part(head, 0xff, "bus", text);
        }

        int dot = rest.IndexOf('.', StringComparison.Ordinal);
        int? device = Part(dot >= 0 ? rest[..dot] : rest, 0x1f, "device", text);
        int? function = dot >= 0 ? Part(rest[(dot + 1)..], 7, "function", text) : null;
        return this with { Domain = domain, Bus = bus, Device = device, Function = function };
    }

    /// <summary>This filter narrowed by a <c>-d</c> id, as <c>lspci -d</c> reads it.</summary>
    /// <exception cref="FormatException">The text is not such an id; the message names the part at fault.</exception>
    public PciFilter WithId(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(':');
        if (parts.Length is < 2 or > 4)
        {
            throw new FormatException($"-d '{text}': expected [vendor]:[device][:class[:prog-if]] in hexadecimal, for example 1af4: or 1af4:1041 or ::0200");
        }

        return this with
        {
            VendorId = (ushort?)Part(parts[0], 0xffff, "vendor id", text, "-d"),
            DeviceId = (ushort?)Part(parts[1], 0xffff, "device id", text, "-d"),
            Class = parts.Length > 2 ? (ushort?)Part(parts[2], 0xffff, "class", text, "-d") : null,
            ProgIf = parts.Length > 3 ? (byte?)Part(parts[3], 0xff, "programming interface", text, "-d") : null,
        };
    }

    private static int? Part(string part, int max, string what, string text, string option = "-s")
    {
        if (part.Length == 0 || part == "*")
        {
            return null;
        }

        if (part.Length > 8 || !int.TryParse(part, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value) || value > max)
        {
            string form = option == "-s"
                ? "[[[[domain]:]bus]:][device][.[function]]"
                : "[vendor]:[device][:class[:prog-if]]";
            throw new FormatException(string.Create(CultureInfo.InvariantCulture,
                $"{option} '{text}': '{part}' is not a {what} (hexadecimal, at most {max:x}); expected {form}"));
        }

        return value;
    }
}
