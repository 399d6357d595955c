using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Model;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// ISM devices in one domain on a <see cref="ModelPlatform"/>, brought up by the host stack as a
/// host would: PCI enumeration and BAR assignment, the virtio-pci transport, then an
/// <see cref="IsmDevice"/> per function in devid order. Disposing it closes the devices, then the
/// platform, then the domain (which leaves a domain server).
/// </summary>
public sealed class IsmBench : IAsyncDisposable
{
    private IsmBench(IsmModelDomain domain, ModelPlatform platform, IReadOnlyList<PciFunction> functions, IReadOnlyList<IsmDevice> devices)
    {
        Domain = domain;
        Platform = platform;
        Functions = functions;
        Devices = devices;
    }

    public IsmModelDomain Domain { get; }

    public ModelPlatform Platform { get; }

    /// <summary>Every function the host enumerated.</summary>
    public IReadOnlyList<PciFunction> Functions { get; }

    /// <summary>The open ISM devices, in the order of <see cref="IsmModelDomain.Addresses"/>.</summary>
    public IReadOnlyList<IsmDevice> Devices { get; }

    /// <summary>Builds the platform with <paramref name="devices"/> ISM devices and opens each with the host stack.</summary>
    public static Task<IsmBench> StartAsync(int devices, CancellationToken cancellationToken = default) =>
        StartAsync(new IsmModelDomain(devices), cancellationToken);

    /// <summary>Builds the platform of <paramref name="domain"/> and opens each of its devices with the host stack.</summary>
    public static Task<IsmBench> StartAsync(IsmModelDomain domain, CancellationToken cancellationToken = default) =>
        StartAsync(domain, new IsmDeviceSettings(), cancellationToken);

    /// <summary>Builds the platform of <paramref name="domain"/> and opens each of its devices with the host stack and <paramref name="driver"/>.</summary>
    public static async Task<IsmBench> StartAsync(IsmModelDomain domain, IsmDeviceSettings driver, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(driver);
        var platform = new ModelPlatform(domain.PlatformSettings());
        var opened = new List<IsmDevice>();
        try
        {
            IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
            foreach (var address in domain.Addresses)
            {
                opened.Add(await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(address)), driver, cancellationToken).ConfigureAwait(false));
            }

            return new IsmBench(domain, platform, functions, opened);
        }
        catch
        {
            foreach (IsmDevice device in opened)
            {
                await device.DisposeAsync().ConfigureAwait(false);
            }

            await platform.DisposeAsync().ConfigureAwait(false);
            domain.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IsmDevice device in Devices)
        {
            await device.DisposeAsync().ConfigureAwait(false);
        }

        await Platform.DisposeAsync().ConfigureAwait(false);
        Domain.Dispose();
    }
}
