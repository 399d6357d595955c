using VirtioHw.Firmware;
using VirtioHw.Firmware.Ivshmem;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// ivshmem peers of one <see cref="ModelPlatform"/> sharing one memory object: peer i (IVPosition
/// i) at 00:(i+1).0, every BAR2 mapping the same <see cref="Memory"/>, each running an
/// <see cref="IvshmemPeerFirmware"/> of <see cref="Group"/>.
/// </summary>
public sealed class IvshmemModelGroup
{
    /// <param name="peers">How many peers, 1 to 31.</param>
    public IvshmemModelGroup(int peers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(peers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(peers, 31);
        Description = EndpointDescriptions.LoadBuiltin("ivshmem");
        Memory = new SharedMemoryBacking(Description.BackingMemory);
        Addresses = [.. Enumerable.Range(1, peers).Select(d => new PciAddress(0, (byte)d, 0))];
    }

    public IvshmemPeerGroup Group { get; } = new();

    /// <summary>The shared memory object.</summary>
    public SharedMemoryBacking Memory { get; }

    public EndpointDescription Description { get; }

    /// <summary>Where the peers sit; peer i has IVPosition i.</summary>
    public IReadOnlyList<PciAddress> Addresses { get; }

    public ModelPlatformSettings PlatformSettings() => new()
    {
        PciEndpoints = [.. Addresses.Select((a, i) => new PciEndpointPlacement(a, Description, Memory, (uint)i))],
        Firmware = CreateFirmware,
    };

    private DeviceFirmware CreateFirmware(EndpointModel hardware) =>
        hardware is IvshmemEndpointModel ivshmem
            ? new IvshmemPeerFirmware(hardware.Hal, Group, (ushort)ivshmem.IvPosition)
            : DefaultFirmware.Create(hardware);
}
