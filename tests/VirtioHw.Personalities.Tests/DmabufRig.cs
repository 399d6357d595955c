using VirtioHw.Cosim;
using VirtioHw.Drivers.Dmabuf;
using VirtioHw.Firmware.Dmabuf;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim;

namespace VirtioHw.Personalities.Tests;

/// <summary>
/// A virtio-dmabuf endpoint running a <see cref="DmabufFirmware"/>, on the model (<see cref="DmabufBench"/>)
/// or as <c>dmabuf_endpoint_top</c> in co-simulation (ignored, saying why, when it is not built),
/// opened by the host stack as a <see cref="DmabufDevice"/> unless a test drives the transport itself.
/// </summary>
internal sealed class DmabufRig : IAsyncDisposable
{
    private readonly DmabufBench? _bench;

    private DmabufRig(Platform platform, DmabufFirmware firmware, DmabufDevice? device, DmabufBench? bench)
    {
        Platform = platform;
        Firmware = firmware;
        Device = device!;
        _bench = bench;
    }

    public Platform Platform { get; }

    public DmabufFirmware Firmware { get; }

    /// <summary>The driver; null when the rig was started without one.</summary>
    public DmabufDevice Device { get; }

    public static async Task<DmabufRig> StartAsync(PlatformKind kind, uint vmId = 7, bool openDriver = true, CancellationToken cancellationToken = default)
    {
        if (kind == PlatformKind.Model && openDriver)
        {
            DmabufBench bench = await DmabufBench.StartAsync(vmId, cancellationToken);
            return new DmabufRig(bench.Platform, bench.Firmware, bench.Device, bench);
        }

        EndpointDescription description = EndpointDescriptions.LoadBuiltin("virtio-dmabuf");
        Platform platform;
        DmabufFirmware firmware;
        if (kind == PlatformKind.Model)
        {
            var model = new ModelPlatform(new ModelPlatformSettings
            {
                PciEndpoints = [new PciEndpointPlacement(DmabufBench.Address, description)],
                Firmware = hardware => new DmabufFirmware(hardware.Hal, vmId, [.. hardware.Description.Queues.Select(q => q.MaxSize)]),
            });
            platform = model;
            firmware = (DmabufFirmware)model.FindEndpoint(DmabufBench.Address)!.Firmware!;
        }
        else
        {
            CosimPlatform cosim;
            try
            {
                cosim = new CosimPlatform(new CosimPlatformSettings
                {
                    PciEndpoints = [new CosimEndpointPlacement(DmabufBench.Address, description)],
                    Firmware = endpoint => new DmabufFirmware(endpoint.Hal, vmId, [.. endpoint.Description.Queues.Select(q => q.MaxSize)]),
                });
            }
            catch (CosimLibraryException e)
            {
                Assert.Ignore($"co-simulation: {e.Message}");
                throw;
            }

            platform = cosim;
            firmware = (DmabufFirmware)cosim.FindEndpoint(DmabufBench.Address)!.Firmware!;
        }

        try
        {
            DmabufDevice? device = openDriver
                ? await DmabufDevice.OpenAsync(VirtioPciTransport.Open(PciBus.Scan(platform).Find(DmabufBench.Address)), description.Virtio!.DeviceId, cancellationToken)
                : null;
            return new DmabufRig(platform, firmware, device, null);
        }
        catch
        {
            await platform.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_bench is not null)
        {
            await _bench.DisposeAsync();
            return;
        }

        if (Device is not null)
        {
            await Device.DisposeAsync();
        }

        await Platform.DisposeAsync();
    }
}
