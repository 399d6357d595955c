using System.Globalization;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Platforms.Sysfs;

/// <summary>
/// Which PCI functions a <see cref="SysfsPlatform"/> sees and which of them it may change.
/// Immutable once built.
/// </summary>
public sealed class SysfsPlatformSettings
{
    /// <summary>Where the kernel lists PCI functions.</summary>
    public const string DefaultDevicesDirectory = "/sys/bus/pci/devices";

    private static readonly string[] KnownOptions = ["root", "domain", "allow-write"];

    /// <summary>This machine's PCI domain 0, nothing writable.</summary>
    public static SysfsPlatformSettings Default { get; } = new();

    /// <summary>The directory of <c>DDDD:BB:DD.F</c> entries. Default <see cref="DefaultDevicesDirectory"/>.</summary>
    public string DevicesDirectory { get; init; } = DefaultDevicesDirectory;

    /// <summary>The PCI domain (segment) whose functions appear, as bus:device.function. Default 0.</summary>
    public int Domain { get; init; }

    /// <summary>
    /// Functions of <see cref="Domain"/> whose config space and BARs may be written. Every other
    /// function is read-only: nothing is ever written to it.
    /// </summary>
    public IReadOnlySet<PciAddress> AllowWrite { get; init; } = new HashSet<PciAddress>();

    /// <summary>
    /// Settings from the <c>--platform sysfs</c> options: <c>root=DIR</c>, <c>domain=N</c> (hex,
    /// as in sysfs names), <c>allow-write=DDDD:BB:DD.F[,...]</c> (or bb:dd.f in the chosen domain).
    /// </summary>
    /// <exception cref="ArgumentException">An option is unknown or its value unusable; one line.</exception>
    public static SysfsPlatformSettings FromOptions(PlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (string name in options.Parameters.Keys)
        {
            if (!KnownOptions.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"unknown sysfs platform option '{name}'; known: {string.Join(", ", KnownOptions)}");
            }
        }

        int domain = 0;
        if (options.GetParameter("domain") is { } domainText
            && (!int.TryParse(domainText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out domain) || domain is < 0 or > 0xffff))
        {
            throw new ArgumentException($"domain={domainText}: expected a PCI domain in hexadecimal, 0 to ffff");
        }

        var writable = new HashSet<PciAddress>();
        foreach (string item in (options.GetParameter("allow-write") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryParseFunction(item, domain, out PciAddress address))
            {
                throw new ArgumentException(
                    $"allow-write={item}: expected a function of domain {domain:x4} as DDDD:BB:DD.F or BB:DD.F, for example {domain:x4}:00:05.0");
            }

            writable.Add(address);
        }

        return new SysfsPlatformSettings
        {
            DevicesDirectory = options.GetParameter("root") ?? DefaultDevicesDirectory,
            Domain = domain,
            AllowWrite = writable,
        };
    }

    /// <summary>
    /// Reads a sysfs name, <c>DDDD:BB:DD.F</c>; the address when its domain is <paramref name="domain"/>.
    /// A bare <c>BB:DD.F</c> is taken to be in <paramref name="domain"/>.
    /// </summary>
    public static bool TryParseFunction(string name, int domain, out PciAddress address)
    {
        ArgumentNullException.ThrowIfNull(name);
        address = default;
        ReadOnlySpan<char> text = name;
        if (text.Length == 12 && text[4] == ':')
        {
            if (!int.TryParse(text[..4], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int named) || named != domain)
            {
                return false;
            }

            text = text[5..];
        }

        return text.Length == 7 && PciAddress.TryParse(text, out address);
    }
}
