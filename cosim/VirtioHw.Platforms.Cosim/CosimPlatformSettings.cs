using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Platforms.Cosim;

/// <summary>An RTL endpoint placed at a function address on bus 0.</summary>
/// <param name="Address">The function address.</param>
/// <param name="Description">What the endpoint is (hw/endpoints); it picks the RTL top.</param>
/// <param name="Memory">Device memory shared with other endpoints (an ISM domain, ivshmem peers), not owned by the platform; null for memory of its own.</param>
/// <param name="IvPosition">An ivshmem peer's id; null for the description's <c>iv_position</c>.</param>
public sealed record CosimEndpointPlacement(PciAddress Address, EndpointDescription Description, DeviceMemory? Memory = null, uint? IvPosition = null);

/// <summary>
/// What a <see cref="CosimPlatform"/> is built with: which RTL endpoints sit where (laid out as
/// <see cref="ModelPlatformSettings"/> lays out the model's), the firmware each runs, waveforms and
/// the bus timeout. Taken at construction, not changed after.
/// </summary>
public sealed record CosimPlatformSettings
{
    /// <summary>As the model's default: virtio-ism at 00:01.0, ivshmem at 00:02.0, virtio-dmabuf at 00:03.0 and a virtio-mmio virtio-ism.</summary>
    public static CosimPlatformSettings Default { get; } = new()
    {
        PciEndpoints = [.. ModelPlatformSettings.Default.PciEndpoints.Select(p => new CosimEndpointPlacement(p.Address, p.Description, IvPosition: p.IvPosition))],
        MmioDevices = ModelPlatformSettings.Default.MmioDevices,
    };

    public IReadOnlyList<CosimEndpointPlacement> PciEndpoints { get; init; } = [];

    /// <summary>Virtio devices placed behind virtio-mmio at their description's <c>mmio</c> addresses.</summary>
    public IReadOnlyList<EndpointDescription> MmioDevices { get; init; } = [];

    /// <summary>Builds the firmware of an endpoint; null for none. The platform boots it.</summary>
    public Func<CosimEndpoint, DeviceFirmware?> Firmware { get; init; } = CosimFirmware.Create;

    /// <summary>Run each firmware's event loop on a task of its own (true), or leave it to the caller (false).</summary>
    public bool RunFirmware { get; init; } = true;

    /// <summary>
    /// An FST waveform path, or null for none: each instance writes its own file beside it, the
    /// instance's name added to the file name (<c>run.fst</c> gives <c>run-virtio-ism-00.01.0.fst</c>).
    /// </summary>
    public string? Trace { get; init; }

    /// <summary>Clock cycles one bus access may take before the instance counts as not responding.</summary>
    public uint TimeoutCycles { get; init; } = 10_000;

    /// <summary>
    /// Fault injection, or null for none: from this clock cycle of each instance on, its host ports
    /// take no request (<see cref="CosimEndpoint.Stall"/> with <see cref="StalledPorts.Host"/>), so
    /// the host stack meets a device that stopped responding.
    /// </summary>
    public ulong? StallAtCycle { get; init; }

    /// <summary>The waveform file of instance <paramref name="instance"/> for <paramref name="trace"/>.</summary>
    public static string TracePath(string trace, string instance)
    {
        ArgumentException.ThrowIfNullOrEmpty(trace);
        string directory = Path.GetDirectoryName(Path.GetFullPath(trace))!;
        return Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(trace)}-{instance}{Path.GetExtension(trace)}");
    }

    /// <summary>
    /// Settings from platform options: <c>endpoints=NAME@bb:dd.f,...</c> (or <c>none</c>),
    /// <c>mmio=NAME,...</c> (or <c>none</c>), <c>firmware=run|manual</c>, <c>trace=FILE.fst</c>,
    /// <c>timeout=CYCLES</c>, <c>stall=CYCLES</c>. Options not given keep the defaults.
    /// </summary>
    /// <exception cref="ArgumentException">An option is malformed; the message is one line naming it.</exception>
    /// <exception cref="EndpointDescriptionException">A named description cannot be read or is invalid.</exception>
    public static CosimPlatformSettings FromOptions(PlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CosimPlatformSettings settings = Default;
        foreach (string name in options.Parameters.Keys)
        {
            if (name.ToLowerInvariant() is not ("endpoints" or "mmio" or "firmware" or "trace" or "timeout" or "stall"))
            {
                throw new ArgumentException($"unknown rtl platform option '{name}' (known: endpoints, mmio, firmware, trace, timeout, stall)");
            }
        }

        if (options.GetParameter("endpoints") is { } endpoints)
        {
            settings = settings with { PciEndpoints = ParseEndpoints(endpoints) };
        }

        if (options.GetParameter("mmio") is { } mmio)
        {
            settings = settings with { MmioDevices = [.. Items(mmio).Select(EndpointDescriptions.Resolve)] };
        }

        settings = options.GetParameter("firmware") switch
        {
            null or "run" => settings,
            "manual" => settings with { RunFirmware = false },
            string other => throw new ArgumentException($"rtl platform option firmware={other}: expected run or manual"),
        };
        if (options.GetParameter("trace") is { } trace)
        {
            settings = settings with { Trace = CheckTrace(trace) };
        }

        if (options.GetParameter("timeout") is { } timeout)
        {
            settings = settings with
            {
                TimeoutCycles = uint.TryParse(timeout, out uint cycles) && cycles > 0
                    ? cycles
                    : throw new ArgumentException($"rtl platform option timeout={timeout}: expected a number of clock cycles above 0"),
            };
        }

        if (options.GetParameter("stall") is { } stall)
        {
            settings = settings with
            {
                StallAtCycle = ulong.TryParse(stall, out ulong cycle)
                    ? cycle
                    : throw new ArgumentException($"rtl platform option stall={stall}: expected the clock cycle from which the host ports stop answering"),
            };
        }

        return settings;
    }

    /// <summary>
    /// Returns <paramref name="trace"/> if it names a waveform this platform writes: FST, or VCD
    /// when <see cref="Waveforms.VcdConversion.Converter"/> is installed to convert the FST.
    /// </summary>
    /// <exception cref="ArgumentException">It names another format, or VCD without the converter.</exception>
    public static string CheckTrace(string trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        if (Waveforms.VcdConversion.IsVcd(trace))
        {
            return Waveforms.VcdConversion.FindConverter() is not null
                ? trace
                : throw new ArgumentException($"waveform '{trace}': a VCD is converted from the FST the RTL writes by {Waveforms.VcdConversion.Converter}, which is not installed (Debian package gtkwave)");
        }

        if (!string.Equals(Path.GetExtension(trace), ".fst", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"waveform '{trace}': FST and VCD waveforms are written (a file name ending in .fst or .vcd)");
        }

        return trace;
    }

    private static List<CosimEndpointPlacement> ParseEndpoints(string text)
    {
        var placements = new List<CosimEndpointPlacement>();
        foreach (string item in Items(text))
        {
            int at = item.LastIndexOf('@');
            if (at <= 0 || !PciAddress.TryParse(item.AsSpan(at + 1), out PciAddress address))
            {
                throw new ArgumentException($"rtl platform option endpoints: '{item}' is not NAME@bb:dd.f (for example virtio-ism@00:01.0)");
            }

            placements.Add(new CosimEndpointPlacement(address, EndpointDescriptions.Resolve(item[..at])));
        }

        return placements;
    }

    private static IEnumerable<string> Items(string text) =>
        text.Trim() == "none" ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
