using VirtioHw.Firmware;
using VirtioHw.Firmware.Ism;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Wire;

namespace VirtioHw.Platforms.Cosim.Personalities;

/// <summary>
/// ISM devices of one <see cref="CosimPlatform"/> in one communication domain, as
/// <see cref="VirtioHw.Personalities.Model.IsmModelDomain"/> places them on the model: each an
/// <c>ism_endpoint_top</c> at 00:01.0, 00:02.0, ... whose memory master reaches the same
/// <see cref="Memory"/>, each running an <see cref="IsmFirmware"/> joined to <see cref="Domain"/>.
/// Dispose it after the platform: the instances hold the memory's address.
/// </summary>
public sealed class CosimIsmDomain : IDisposable
{
    /// <param name="devices">How many ISM devices, 1 to 31.</param>
    /// <param name="description">The endpoint description; null for the built-in virtio-ism.</param>
    /// <param name="cdid">The domain id; null for a new version-4 UUID.</param>
    /// <param name="memory">Bytes of domain memory; null for the description's backing memory.</param>
    /// <param name="deviceMemory">Whether the firmware offers VIRTIO_ISM_F_DEV_MEM (<see cref="IsmFirmwareSettings.DeviceMemory"/>).</param>
    public CosimIsmDomain(int devices, EndpointDescription? description = null, Guid? cdid = null, ulong? memory = null, bool deviceMemory = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(devices, 31);
        Description = description ?? EndpointDescriptions.LoadBuiltin("virtio-ism");
        SharedMemoryRegion regions = Description.FindSharedMemory(IsmWire.ShmIdRegions)
            ?? throw new ArgumentException($"{Description.Name} has no regions area (shmid {IsmWire.ShmIdRegions})", nameof(description));
        SharedMemoryRegion notify = Description.FindSharedMemory(IsmWire.ShmIdNotify)
            ?? throw new ArgumentException($"{Description.Name} has no notify area (shmid {IsmWire.ShmIdNotify})", nameof(description));
        Memory = new DeviceMemory(memory ?? Description.BackingMemory);
        Domain = new IsmDomain(Memory, regions.GranuleSize, cdid);
        FirmwareSettings = new IsmFirmwareSettings
        {
            DeviceFeatures = Description.Virtio?.DeviceFeatures ?? 0,
            QueueMaxSizes = [.. Description.Queues.Select(q => q.MaxSize)],
            NotifySize = notify.GranuleSize,
            DeviceMemory = deviceMemory,
        };
        Addresses = [.. Enumerable.Range(1, devices).Select(d => new PciAddress(0, (byte)d, 0))];
    }

    public IsmDomain Domain { get; }

    /// <summary>The domain memory every device's memory master reaches.</summary>
    public DeviceMemory Memory { get; }

    public EndpointDescription Description { get; }

    public IsmFirmwareSettings FirmwareSettings { get; }

    /// <summary>Where the devices sit, in devid order.</summary>
    public IReadOnlyList<PciAddress> Addresses { get; }

    /// <summary>Platform settings with these devices (and nothing else), their firmware joined to the domain.</summary>
    /// <param name="trace">A waveform path, or null for none.</param>
    /// <param name="runFirmware">Whether the platform runs each firmware's event loop (false leaves the CSR port to the caller).</param>
    public CosimPlatformSettings PlatformSettings(string? trace = null, bool runFirmware = true) => new()
    {
        PciEndpoints = [.. Addresses.Select(a => new CosimEndpointPlacement(a, Description, Memory))],
        Firmware = CreateFirmware,
        Trace = trace,
        RunFirmware = runFirmware,
    };

    /// <summary>An <see cref="IsmFirmware"/> in this domain for an ISM endpoint, the default firmware for any other.</summary>
    public DeviceFirmware CreateFirmware(CosimEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.Description.Personality == EndpointPersonality.Ism
            ? new IsmFirmware(endpoint.Hal, FirmwareSettings, Domain)
            : CosimFirmware.Create(endpoint);
    }

    public void Dispose() => Memory.Dispose();
}
