using VirtioHw.Drivers.Dmabuf;
using VirtioHw.Firmware;
using VirtioHw.Firmware.Dmabuf;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Model;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// A virtio-dmabuf endpoint at 00:01.0 of a <see cref="ModelPlatform"/> running a
/// <see cref="DmabufFirmware"/>, opened by the host stack as a <see cref="DmabufDevice"/>.
/// </summary>
public sealed class DmabufBench : IAsyncDisposable
{
    private DmabufBench(ModelPlatform platform, DmabufFirmware firmware, DmabufDevice device)
    {
        Platform = platform;
        Firmware = firmware;
        Device = device;
    }

    public static PciAddress Address { get; } = new(0, 1, 0);

    public ModelPlatform Platform { get; }

    /// <summary>The device side: what was exported, and <see cref="DmabufFirmware.Release"/>.</summary>
    public DmabufFirmware Firmware { get; }

    public DmabufDevice Device { get; }

    /// <param name="vmId">The VM id the device reports.</param>
    /// <param name="cancellationToken">Cancels the bring-up.</param>
    public static async Task<DmabufBench> StartAsync(uint vmId = 7, CancellationToken cancellationToken = default)
    {
        EndpointDescription description = EndpointDescriptions.LoadBuiltin("virtio-dmabuf");
        var platform = new ModelPlatform(new ModelPlatformSettings
        {
            PciEndpoints = [new PciEndpointPlacement(Address, description)],
            Firmware = hardware => new DmabufFirmware(hardware.Hal, vmId, [.. hardware.Description.Queues.Select(q => q.MaxSize)]),
        });
        try
        {
            var firmware = (DmabufFirmware)platform.FindEndpoint(Address)!.Firmware!;
            IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
            DmabufDevice device = await DmabufDevice.OpenAsync(
                VirtioPciTransport.Open(functions.Find(Address)), description.Virtio!.DeviceId, cancellationToken).ConfigureAwait(false);
            return new DmabufBench(platform, firmware, device);
        }
        catch
        {
            await platform.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Device.DisposeAsync().ConfigureAwait(false);
        await Platform.DisposeAsync().ConfigureAwait(false);
    }
}
