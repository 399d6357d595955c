using VirtioHw.Firmware;
using VirtioHw.Firmware.Ism;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// ISM devices of one <see cref="ModelPlatform"/> in one communication domain: each a virtio-ism
/// endpoint at 00:01.0, 00:02.0, ... whose BAR2 chunk window maps the same domain memory, each
/// running an <see cref="IsmFirmware"/> joined to <see cref="Domain"/>.
/// </summary>
public sealed class IsmModelDomain
{
    /// <param name="devices">How many ISM devices, 1 to 31.</param>
    /// <param name="description">The endpoint description; null for the built-in virtio-ism.</param>
    /// <param name="cdid">The domain id; null for a new version-4 UUID.</param>
    /// <param name="memory">Bytes of domain memory; null for the description's backing memory (as much as one device's window maps).</param>
    public IsmModelDomain(int devices, EndpointDescription? description = null, Guid? cdid = null, ulong? memory = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(devices, 31);
        Description = description ?? EndpointDescriptions.LoadBuiltin("virtio-ism");
        SharedMemoryRegion regions = Description.FindSharedMemory(IsmWire.ShmIdRegions)
            ?? throw new ArgumentException($"{Description.Name} has no regions area (shmid {IsmWire.ShmIdRegions})", nameof(description));
        SharedMemoryRegion notify = Description.FindSharedMemory(IsmWire.ShmIdNotify)
            ?? throw new ArgumentException($"{Description.Name} has no notify area (shmid {IsmWire.ShmIdNotify})", nameof(description));
        Memory = new SharedMemoryBacking(memory ?? Description.BackingMemory);
        Domain = new IsmDomain(new BackingDomainMemory(Memory), regions.GranuleSize, cdid);
        FirmwareSettings = new IsmFirmwareSettings
        {
            DeviceFeatures = Description.Virtio?.DeviceFeatures ?? 0,
            QueueMaxSizes = [.. Description.Queues.Select(q => q.MaxSize)],
            NotifySize = notify.GranuleSize,
        };
        Addresses = [.. Enumerable.Range(1, devices).Select(d => new PciAddress(0, (byte)d, 0))];
    }

    public IsmDomain Domain { get; }

    /// <summary>The domain memory every device's chunk window maps.</summary>
    public SharedMemoryBacking Memory { get; }

    public EndpointDescription Description { get; }

    public IsmFirmwareSettings FirmwareSettings { get; }

    /// <summary>Where the devices sit, in devid order.</summary>
    public IReadOnlyList<PciAddress> Addresses { get; }

    /// <summary>Platform settings with these devices (and nothing else), their firmware joined to the domain.</summary>
    public ModelPlatformSettings PlatformSettings(bool runFirmware = true) => new()
    {
        PciEndpoints = [.. Addresses.Select(a => new PciEndpointPlacement(a, Description, Memory))],
        Firmware = CreateFirmware,
        RunFirmware = runFirmware,
    };

    /// <summary>An <see cref="IsmFirmware"/> in this domain for an ISM endpoint, the default firmware for any other.</summary>
    public DeviceFirmware CreateFirmware(EndpointModel hardware)
    {
        ArgumentNullException.ThrowIfNull(hardware);
        return hardware.Description.Personality == EndpointPersonality.Ism
            ? new IsmFirmware(hardware.Hal, FirmwareSettings, Domain)
            : DefaultFirmware.Create(hardware);
    }
}
