using VirtioHw.Firmware;
using VirtioHw.Firmware.Ivshmem;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Platforms.Cosim.Personalities;

/// <summary>
/// ivshmem peers of one <see cref="CosimPlatform"/> sharing one memory object, as
/// <see cref="VirtioHw.Personalities.Model.IvshmemModelGroup"/> places them on the model: peer i
/// (IVPosition i) an <c>ivshmem_endpoint_top</c> at 00:(i+1).0, every memory master reaching the
/// same <see cref="Memory"/>, each running an <see cref="IvshmemPeerFirmware"/> of
/// <see cref="Group"/>. Dispose it after the platform.
/// </summary>
public sealed class CosimIvshmemGroup : IDisposable
{
    /// <param name="peers">How many peers, 1 to 31.</param>
    public CosimIvshmemGroup(int peers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(peers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(peers, 31);
        Description = EndpointDescriptions.LoadBuiltin("ivshmem");
        Memory = new DeviceMemory(Description.BackingMemory);
        Addresses = [.. Enumerable.Range(1, peers).Select(d => new PciAddress(0, (byte)d, 0))];
    }

    public IvshmemPeerGroup Group { get; } = new();

    /// <summary>The shared memory object.</summary>
    public DeviceMemory Memory { get; }

    public EndpointDescription Description { get; }

    /// <summary>Where the peers sit; peer i has IVPosition i.</summary>
    public IReadOnlyList<PciAddress> Addresses { get; }

    public CosimPlatformSettings PlatformSettings(string? trace = null) => PlatformSettings([.. Enumerable.Range(0, Addresses.Count)], trace);

    /// <summary>A platform with the peers of <paramref name="positions"/> only; the others may join later on platforms of their own.</summary>
    public CosimPlatformSettings PlatformSettings(int[] positions, string? trace = null) => new()
    {
        PciEndpoints = [.. positions.Select(i => new CosimEndpointPlacement(Addresses[i], Description, Memory, (uint)i))],
        Firmware = CreateFirmware,
        Trace = trace,
    };

    public void Dispose() => Memory.Dispose();

    private DeviceFirmware CreateFirmware(CosimEndpoint endpoint) =>
        endpoint.Description.Personality == EndpointPersonality.Ivshmem
            ? new IvshmemPeerFirmware(endpoint.Hal, Group, (ushort)(endpoint.IvPosition ?? 0))
            : CosimFirmware.Create(endpoint);
}
