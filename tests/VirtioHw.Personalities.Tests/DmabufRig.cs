using VirtioHw.Cosim;
using VirtioHw.Drivers.Dmabuf;
using VirtioHw.Firmware;
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

    /// <param name="kind">Model or co-simulated RTL.</param>
    /// <param name="vmId">The VM id the device answers with.</param>
    /// <param name="openDriver">Whether to open a <see cref="DmabufDevice"/> on the endpoint.</param>
    /// <param name="firmware">The device firmware from its HAL, VM id and queue sizes; a <see cref="DmabufFirmware"/> when null.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<DmabufRig> StartAsync(
        PlatformKind kind,
        uint vmId = 7,
        bool openDriver = true,
        Func<IDeviceHal, uint, IReadOnlyList<ushort>, DmabufFirmware>? firmware = null,
        CancellationToken cancellationToken = default)
    {
        if (kind == PlatformKind.Model && openDriver && firmware is null)
        {
            DmabufBench bench = await DmabufBench.StartAsync(vmId, cancellationToken);
            return new DmabufRig(bench.Platform, bench.Firmware, bench.Device, bench);
        }

        firmware ??= (hal, id, sizes) => new DmabufFirmware(hal, id, sizes);
        EndpointDescription description = EndpointDescriptions.LoadBuiltin("virtio-dmabuf");
        Platform platform;
        DmabufFirmware device;
        if (kind == PlatformKind.Model)
        {
            var model = new ModelPlatform(new ModelPlatformSettings
            {
                PciEndpoints = [new PciEndpointPlacement(DmabufBench.Address, description)],
                Firmware = hardware => firmware(hardware.Hal, vmId, [.. hardware.Description.Queues.Select(q => q.MaxSize)]),
            });
            platform = model;
            device = (DmabufFirmware)model.FindEndpoint(DmabufBench.Address)!.Firmware!;
        }
        else
        {
            CosimPlatform cosim;
            try
            {
                cosim = new CosimPlatform(new CosimPlatformSettings
                {
                    PciEndpoints = [new CosimEndpointPlacement(DmabufBench.Address, description)],
                    Firmware = endpoint => firmware(endpoint.Hal, vmId, [.. endpoint.Description.Queues.Select(q => q.MaxSize)]),
                });
            }
            catch (CosimLibraryException e)
            {
                Assert.Ignore($"co-simulation: {e.Message}");
                throw;
            }

            platform = cosim;
            device = (DmabufFirmware)cosim.FindEndpoint(DmabufBench.Address)!.Firmware!;
        }

        try
        {
            DmabufDevice? driver = openDriver
                ? await DmabufDevice.OpenAsync(VirtioPciTransport.Open(PciBus.Scan(platform).Find(DmabufBench.Address)), description.Virtio!.DeviceId, cancellationToken)
                : null;
            return new DmabufRig(platform, device, driver, null);
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
