using VirtioHw.Domain;
using VirtioHw.Firmware;
using VirtioHw.Firmware.Ism;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// ISM devices of one <see cref="ModelPlatform"/> in one communication domain: each a virtio-ism
/// endpoint at 00:01.0, 00:02.0, ... whose BAR2 chunk window maps the same domain memory, each
/// running an <see cref="IsmFirmware"/> joined to <see cref="Authority"/>: a domain held in this
/// process (<see cref="Domain"/>), or one a domain server holds (<see cref="Join"/>), whose memory
/// other processes map too.
/// </summary>
/// <remarks>Disposing it closes the connection to a domain server (the server detaches the devices); a local domain needs nothing.</remarks>
public sealed class IsmModelDomain : IDisposable
{
    /// <summary>The platform option that names a domain server's socket: <c>--platform model -o domain=PATH</c>.</summary>
    public const string DomainOption = "domain";

    private readonly IsmDomain? _local;
    private readonly RemoteIsmDomain? _remote;

    /// <param name="devices">How many ISM devices, 1 to 31.</param>
    /// <param name="description">The endpoint description; null for the built-in virtio-ism.</param>
    /// <param name="cdid">The domain id; null for a new version-4 UUID.</param>
    /// <param name="memory">Bytes of domain memory; null for the description's backing memory (as much as one device's window maps).</param>
    /// <param name="deviceMemory">Whether the firmware offers VIRTIO_ISM_F_DEV_MEM (<see cref="IsmFirmwareSettings.DeviceMemory"/>).</param>
    public IsmModelDomain(int devices, EndpointDescription? description = null, Guid? cdid = null, ulong? memory = null, bool deviceMemory = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(devices, 31);
        Description = description ?? EndpointDescriptions.LoadBuiltin("virtio-ism");
        SharedMemoryRegion regions = Description.FindSharedMemory(IsmWire.ShmIdRegions)
            ?? throw new ArgumentException($"{Description.Name} has no regions area (shmid {IsmWire.ShmIdRegions})", nameof(description));
        SharedMemoryRegion notify = Description.FindSharedMemory(IsmWire.ShmIdNotify)
            ?? throw new ArgumentException($"{Description.Name} has no notify area (shmid {IsmWire.ShmIdNotify})", nameof(description));
        Memory = new SharedMemoryBacking(memory ?? Description.BackingMemory);
        _local = new IsmDomain(new BackingDomainMemory(Memory), regions.GranuleSize, cdid);
        Authority = _local;
        FirmwareSettings = new IsmFirmwareSettings
        {
            DeviceFeatures = Description.Virtio?.DeviceFeatures ?? 0,
            QueueMaxSizes = [.. Description.Queues.Select(q => q.MaxSize)],
            NotifySize = notify.GranuleSize,
            DeviceMemory = deviceMemory,
        };
        Addresses = [.. Enumerable.Range(1, devices).Select(d => new PciAddress(0, (byte)d, 0))];
    }

    private IsmModelDomain(RemoteIsmDomain remote, int devices, EndpointDescription? description, bool deviceMemory)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(devices, 31);
        Description = description ?? EndpointDescriptions.LoadBuiltin("virtio-ism");
        SharedMemoryRegion regions = Description.FindSharedMemory(IsmWire.ShmIdRegions)
            ?? throw new ArgumentException($"{Description.Name} has no regions area (shmid {IsmWire.ShmIdRegions})", nameof(description));
        SharedMemoryRegion notify = Description.FindSharedMemory(IsmWire.ShmIdNotify)
            ?? throw new ArgumentException($"{Description.Name} has no notify area (shmid {IsmWire.ShmIdNotify})", nameof(description));
        if (remote.ChunkSize != regions.GranuleSize || (ulong)remote.Memory.Length < Description.BackingMemory)
        {
            throw new ArgumentException(
                $"the domain has {remote.Memory.Length} bytes in chunks of {remote.ChunkSize}; {Description.Name} needs {Description.BackingMemory} bytes in chunks of {regions.GranuleSize}",
                nameof(remote));
        }

        _remote = remote;
        Authority = remote;
        Memory = new SharedMemoryBacking(remote.Memory);
        FirmwareSettings = new IsmFirmwareSettings
        {
            DeviceFeatures = Description.Virtio?.DeviceFeatures ?? 0,
            QueueMaxSizes = [.. Description.Queues.Select(q => q.MaxSize)],
            NotifySize = notify.GranuleSize,
            DeviceMemory = deviceMemory,
        };
        Addresses = [.. Enumerable.Range(1, devices).Select(d => new PciAddress(0, (byte)d, 0))];
    }

    /// <summary>The domain the devices' firmware joins: <see cref="Domain"/>, or the connection to a domain server.</summary>
    public IIsmDomain Authority { get; }

    /// <summary>The domain held in this process.</summary>
    /// <exception cref="InvalidOperationException">The domain is held by a domain server (see <see cref="Server"/>).</exception>
    public IsmDomain Domain => _local ?? throw new InvalidOperationException("the domain is held by a domain server, not in this process");

    /// <summary>The connection to the domain server, or null for a domain in this process.</summary>
    public RemoteIsmDomain? Server => _remote;

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
            ? new IsmFirmware(hardware.Hal, FirmwareSettings, Authority)
            : DefaultFirmware.Create(hardware);
    }

    /// <summary>
    /// <paramref name="devices"/> ISM devices joined to the domain a <see cref="DomainServer"/>
    /// serves at <paramref name="socketPath"/>; their chunk windows map the server's memory.
    /// </summary>
    /// <exception cref="IOException">No domain is served there.</exception>
    /// <exception cref="ArgumentException">The served domain does not fit the endpoint (chunk size, memory).</exception>
    public static IsmModelDomain Join(string socketPath, int devices, EndpointDescription? description = null, bool deviceMemory = true)
    {
        RemoteIsmDomain remote = RemoteIsmDomain.Connect(socketPath);
        try
        {
            return new IsmModelDomain(remote, devices, description, deviceMemory);
        }
        catch
        {
            remote.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The domain that platform options ask for: <c>domain=PATH</c> joins the server there,
    /// otherwise a new domain in this process. Other options are the platform's own and ignored here.
    /// </summary>
    public static IsmModelDomain FromOptions(PlatformOptions options, int devices)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.GetParameter(DomainOption) is { } path ? Join(path, devices) : new IsmModelDomain(devices);
    }

    public void Dispose() => _remote?.Dispose();
}
