using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Model;

/// <summary>An endpoint description placed at a function address on bus 0.</summary>
/// <param name="Address">The function address.</param>
/// <param name="Description">What the endpoint is.</param>
/// <param name="Backing">Device memory shared with other endpoints (an ISM domain, ivshmem peers); null for memory of its own.</param>
/// <param name="IvPosition">An ivshmem peer's id; null for the description's <c>iv_position</c>.</param>
public sealed record PciEndpointPlacement(PciAddress Address, EndpointDescription Description, SharedMemoryBacking? Backing = null, uint? IvPosition = null);

/// <summary>
/// What a <see cref="ModelPlatform"/> is built with: which endpoints sit where, which devices are
/// placed behind virtio-mmio, and the firmware each runs. Taken at construction, not changed after.
/// </summary>
public sealed record ModelPlatformSettings
{
    /// <summary>One virtio-ism at 00:01.0, one ivshmem at 00:02.0, one virtio-dmabuf at 00:03.0, and a virtio-mmio virtio-ism.</summary>
    public static ModelPlatformSettings Default { get; } = new()
    {
        PciEndpoints =
        [
            new(new PciAddress(0, 1, 0), EndpointDescriptions.LoadBuiltin("virtio-ism")),
            new(new PciAddress(0, 2, 0), EndpointDescriptions.LoadBuiltin("ivshmem")),
            new(new PciAddress(0, 3, 0), EndpointDescriptions.LoadBuiltin("virtio-dmabuf")),
        ],
        MmioDevices = [EndpointDescriptions.LoadBuiltin("virtio-ism")],
    };

    public IReadOnlyList<PciEndpointPlacement> PciEndpoints { get; init; } = [];

    /// <summary>Virtio devices placed behind virtio-mmio at their description's <c>mmio</c> addresses.</summary>
    public IReadOnlyList<EndpointDescription> MmioDevices { get; init; } = [];

    /// <summary>Builds the firmware of an endpoint; return null for none. The platform boots it.</summary>
    public Func<EndpointModel, DeviceFirmware?> Firmware { get; init; } = DefaultFirmware.Create;

    /// <summary>
    /// Run each firmware's event loop on a task of its own (true), or leave the booted firmware
    /// for the caller to drive with <see cref="DeviceFirmware.ProcessPendingEvents"/> (false).
    /// </summary>
    public bool RunFirmware { get; init; } = true;

    /// <summary>
    /// Settings from platform options: <c>endpoints=NAME@bb:dd.f,...</c> (NAME a built-in
    /// description or a path to one; <c>none</c> for none), <c>mmio=NAME,...</c> (or <c>none</c>),
    /// and <c>firmware=run|manual</c>. Options not given keep the defaults.
    /// </summary>
    /// <exception cref="ArgumentException">An option is malformed; the message is one line naming it.</exception>
    /// <exception cref="EndpointDescriptionException">A named description cannot be read or is invalid.</exception>
    public static ModelPlatformSettings FromOptions(PlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ModelPlatformSettings settings = Default;
        foreach (string name in options.Parameters.Keys)
        {
            if (name.ToLowerInvariant() is not ("endpoints" or "mmio" or "firmware"))
            {
                throw new ArgumentException($"unknown model platform option '{name}' (known: endpoints, mmio, firmware)");
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
            string other => throw new ArgumentException($"model platform option firmware={other}: expected run or manual"),
        };
        return settings;
    }

    private static List<PciEndpointPlacement> ParseEndpoints(string text)
    {
        var placements = new List<PciEndpointPlacement>();
        foreach (string item in Items(text))
        {
            int at = item.LastIndexOf('@');
            if (at <= 0 || !PciAddress.TryParse(item.AsSpan(at + 1), out PciAddress address))
            {
                throw new ArgumentException($"model platform option endpoints: '{item}' is not NAME@bb:dd.f (for example virtio-ism@00:01.0)");
            }

            placements.Add(new PciEndpointPlacement(address, EndpointDescriptions.Resolve(item[..at])));
        }

        return placements;
    }

    private static IEnumerable<string> Items(string text) =>
        text.Trim() == "none" ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
