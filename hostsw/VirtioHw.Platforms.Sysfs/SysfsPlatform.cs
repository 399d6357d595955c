using System.Globalization;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Platforms.Sysfs;

/// <summary>
/// A <see cref="Platform"/> made of this Linux machine's real PCI functions, as the kernel lists
/// them under /sys/bus/pci/devices: config space through each function's <c>config</c> file (one
/// pread or pwrite of the access width), BARs through mmap of its <c>resourceN</c> files, at the
/// addresses the kernel's <c>resource</c> file gives. Registers are little-endian, as PCI is and
/// as every host this kit targets (x86-64, arm64) is, so values pass through unswapped.
/// </summary>
/// <remarks>
/// <para>
/// Read-only unless opted in per function (<see cref="SysfsPlatformSettings.AllowWrite"/>): for
/// any other function nothing is ever written, and config or BAR writes that would change it are
/// refused with one line. So that the host stack's enumeration can run unchanged, BAR sizing and
/// the decode-bit toggling around it are answered from a shadow (see <see cref="SysfsFunction.Write"/>).
/// </para>
/// <para>
/// BARs are where the kernel put them, so <see cref="Platform.MemoryWindows"/> is empty. Interrupts
/// and DMA need a kernel driver such as vfio-pci, which this platform does not use: allocating an
/// MSI vector or DMA memory throws <see cref="NotSupportedException"/>. Reading beyond the first
/// 64 bytes of config space needs root (the kernel hides the rest from other users), as does mapping BARs.
/// </para>
/// </remarks>
public sealed class SysfsPlatform : Platform
{
    /// <summary>The name the platform registers under.</summary>
    public const string PlatformName = "sysfs";

    private static int s_registered;

    private readonly Dictionary<PciAddress, SysfsFunction> _functions = [];

    /// <summary>Lists the functions of the chosen domain; nothing is opened until it is used.</summary>
    /// <exception cref="IOException">The devices directory does not exist; one line.</exception>
    public SysfsPlatform(SysfsPlatformSettings? settings = null)
    {
        Settings = settings ?? SysfsPlatformSettings.Default;
        if (!Directory.Exists(Settings.DevicesDirectory))
        {
            throw new IOException($"sysfs: {Settings.DevicesDirectory} does not exist; this machine has no PCI bus the kernel exposes");
        }

        foreach (string entry in Directory.EnumerateFileSystemEntries(Settings.DevicesDirectory))
        {
            if (SysfsPlatformSettings.TryParseFunction(Path.GetFileName(entry), Settings.Domain, out PciAddress address))
            {
                _functions.Add(address, new SysfsFunction(address, Settings.Domain, entry, Settings.AllowWrite.Contains(address)));
            }
        }
    }

    public override string Name => PlatformName;

    public SysfsPlatformSettings Settings { get; }

    /// <summary>The functions of the domain, by address, with their sysfs directories.</summary>
    public IReadOnlyDictionary<PciAddress, string> Functions =>
        _functions.ToDictionary(f => f.Key, f => f.Value.Directory);

    /// <summary>The PCI domains (segments) with functions under <paramref name="devicesDirectory"/>, in order; empty when it does not exist.</summary>
    public static IReadOnlyList<int> Domains(string devicesDirectory)
    {
        ArgumentNullException.ThrowIfNull(devicesDirectory);
        var domains = new SortedSet<int>();
        if (Directory.Exists(devicesDirectory))
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(devicesDirectory))
            {
                string name = Path.GetFileName(entry);
                if (name.Length == 12 && name[4] == ':'
                    && int.TryParse(name.AsSpan(0, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int domain)
                    && SysfsPlatformSettings.TryParseFunction(name, domain, out _))
                {
                    domains.Add(domain);
                }
            }
        }

        return [.. domains];
    }

    /// <summary>Makes <c>sysfs</c> available to <see cref="PlatformFactory"/>; calling it again does nothing.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            PlatformFactory.Register(PlatformName, options =>
            {
                // The registry reports what keeps a platform from being created as one-line ArgumentExceptions.
                try
                {
                    return new SysfsPlatform(SysfsPlatformSettings.FromOptions(options));
                }
                catch (IOException e)
                {
                    throw new ArgumentException(e.Message, e);
                }
            });
        }
    }

    public override uint ReadConfig(PciAddress function, int offset, int width)
    {
        ValidateConfigAccess(offset, width);
        return _functions.TryGetValue(function, out SysfsFunction? found) ? found.Read(offset, width) : AbsentFunctionValue(width);
    }

    /// <summary>What the function's <c>config</c> file yields: 64 bytes to users other than root, else 256 or 4096.</summary>
    public override int ReadableConfigBytes(PciAddress function) =>
        _functions.TryGetValue(function, out SysfsFunction? found) ? found.ReadableLength() : 0;

    /// <exception cref="InvalidOperationException">The function is read-only and the write would change it; one line.</exception>
    public override void WriteConfig(PciAddress function, int offset, int width, uint value)
    {
        ValidateConfigAccess(offset, width);
        if (_functions.TryGetValue(function, out SysfsFunction? found))
        {
            found.Write(offset, width, value);
        }
    }

    /// <exception cref="InvalidOperationException">No function's memory BAR holds the address; one line.</exception>
    /// <exception cref="IOException">The BAR cannot be mapped; one line.</exception>
    public override ulong ReadMemory(ulong address, int width)
    {
        ValidateMemoryAccess(address, width);
        (SysfsFunction function, int bar, ulong offset) = Locate(address, width);
        return function.Map(bar).Read((long)offset, width);
    }

    /// <exception cref="InvalidOperationException">
    /// No function's memory BAR holds the address, or the function is read-only; one line.
    /// </exception>
    /// <exception cref="IOException">The BAR cannot be mapped; one line.</exception>
    public override void WriteMemory(ulong address, int width, ulong value)
    {
        ValidateMemoryAccess(address, width);
        (SysfsFunction function, int bar, ulong offset) = Locate(address, width);
        if (!function.Writable)
        {
            throw new InvalidOperationException(
                $"sysfs: {function} is read-only; writing its BAR {bar} at 0x{address:x} needs allow-write={function}");
        }

        function.Map(bar).Write((long)offset, width, value);
    }

    /// <exception cref="NotSupportedException">Always: interrupts need a kernel driver.</exception>
    public override MsiVector AllocateMsiVector() => throw new NotSupportedException(
        "sysfs: MSI vectors need a kernel driver such as vfio-pci to deliver interrupts to this process; the sysfs platform has none");

    /// <exception cref="NotSupportedException">Always: DMA memory needs an IOMMU mapping.</exception>
    public override DmaRegion AllocateDma(int length, int alignment = 4096) => throw new NotSupportedException(
        "sysfs: DMA memory needs an IOMMU mapping through a driver such as vfio-pci; the sysfs platform has none");

    protected override ValueTask DisposeAsyncCore()
    {
        foreach (SysfsFunction function in _functions.Values)
        {
            function.Dispose();
        }

        return default;
    }

    private (SysfsFunction Function, int Bar, ulong Offset) Locate(ulong address, int width)
    {
        foreach (SysfsFunction function in _functions.Values)
        {
            for (int bar = 0; bar < function.Resources.Count; bar++)
            {
                SysfsResource resource = function.Resources[bar];
                if (resource.Contains(address, width))
                {
                    return (function, bar, address - resource.Start);
                }
            }
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"sysfs: address 0x{address:x} is in no memory BAR of a function under {Settings.DevicesDirectory} (domain {Settings.Domain:x4})"));
    }
}
