using System.Globalization;

namespace VirtioHw.Host.Platforms;

/// <summary>
/// A PCI function's routing id: bus 0-255, device 0-31, function 0-7, written <c>00:1f.3</c>.
/// </summary>
public readonly record struct PciAddress
{
    /// <summary>Creates an address, rejecting a component outside its range.</summary>
    public PciAddress(int bus, int device, int function)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bus);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bus, 255);
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(device, 31);
        ArgumentOutOfRangeException.ThrowIfNegative(function);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(function, 7);
        Bus = (byte)bus;
        Device = (byte)device;
        Function = (byte)function;
    }

    public byte Bus { get; }

    public byte Device { get; }

    public byte Function { get; }

    /// <summary>The form lspci prints: <c>bb:dd.f</c> in lower-case hexadecimal.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Bus:x2}:{Device:x2}.{Function:x}");

    /// <summary>
    /// Parses <c>bb:dd.f</c>, or the sysfs form with PCI domain 0 in front (<c>0000:bb:dd.f</c>).
    /// </summary>
    /// <exception cref="FormatException">The text is not such an address.</exception>
    public static PciAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text, out PciAddress address))
        {
            throw new FormatException($"'{text}' is not a PCI address of the form bb:dd.f (for example 00:1f.3)");
        }

        return address;
    }

    /// <summary>Parses like <see cref="Parse"/>, reporting failure instead of throwing.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out PciAddress address)
    {
        address = default;
        if (text.Length == 12 && text[4] == ':')
        {
            // Only domain 0 exists on the platforms this kit drives.
            if (!text[..4].SequenceEqual("0000"))
            {
                return false;
            }

            text = text[5..];
        }

        if (text.Length != 7 || text[2] != ':' || text[5] != '.'
            || !TryHex(text[..2], out int bus)
            || !TryHex(text[3..5], out int device)
            || !TryHex(text[6..], out int function)
            || device > 31 || function > 7)
        {
            return false;
        }

        address = new PciAddress(bus, device, function);
        return true;
    }

    private static bool TryHex(ReadOnlySpan<char> digits, out int value) =>
        int.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
