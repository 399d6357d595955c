using VirtioHw.Firmware;
using VirtioHw.Firmware.Ivshmem;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// ivshmem peers sharing one memory object: peer i (IVPosition i) at 00:(i+1).0, every BAR2
/// mapping the same <see cref="Memory"/>, each running an <see cref="IvshmemPeerFirmware"/> of
/// <see cref="Group"/>. The peers may sit on one <see cref="ModelPlatform"/> or on several (one per
/// guest), built at different times: a peer joins when its platform's firmware boots.
/// </summary>
public sealed class IvshmemModelGroup
{
    /// <param name="peers">How many peers, 1 to 31.</param>
    /// <param name="compat">Whose ivshmem the endpoints are: the seed specification's (1 KiB BAR0, join notification) or QEMU 7.2's (256-byte BAR0, none).</param>
    public IvshmemModelGroup(int peers, IvshmemCompat compat = IvshmemCompat.Specification)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(peers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(peers, 31);
        Description = Describe(compat);
        Memory = new SharedMemoryBacking(Description.BackingMemory);
        Addresses = [.. Enumerable.Range(1, peers).Select(d => new PciAddress(0, (byte)d, 0))];
    }

    public IvshmemPeerGroup Group { get; } = new();

    /// <summary>The shared memory object.</summary>
    public SharedMemoryBacking Memory { get; }

    public EndpointDescription Description { get; }

    /// <summary>Where the peers sit; peer i has IVPosition i.</summary>
    public IReadOnlyList<PciAddress> Addresses { get; }

    /// <summary>The built-in ivshmem description, or QEMU 7.2's variant of it: <c>compat: qemu</c> and BAR0 of 256 bytes.</summary>
    public static EndpointDescription Describe(IvshmemCompat compat)
    {
        EndpointDescription description = EndpointDescriptions.LoadBuiltin("ivshmem");
        if (compat == IvshmemCompat.Specification)
        {
            return description;
        }

        const ulong QemuBar0 = 256;
        IvshmemDescription ivshmem = description.Ivshmem!;
        return description with
        {
            Bars = [.. description.Bars.Select(b => b.Index == ivshmem.Registers.Bar ? b with { Size = QemuBar0 } : b)],
            Ivshmem = ivshmem with { Registers = ivshmem.Registers with { Length = QemuBar0 }, Compat = compat },
        };
    }

    /// <summary>A platform with every peer.</summary>
    public ModelPlatformSettings PlatformSettings() => PlatformSettings([.. Enumerable.Range(0, Addresses.Count)]);

    /// <summary>A platform with the peers of <paramref name="positions"/> only; the others may join later on platforms of their own.</summary>
    public ModelPlatformSettings PlatformSettings(params int[] positions) => new()
    {
        PciEndpoints = [.. positions.Select(i => new PciEndpointPlacement(Addresses[i], Description, Memory, (uint)i))],
        Firmware = CreateFirmware,
    };

    private DeviceFirmware CreateFirmware(EndpointModel hardware) =>
        hardware is IvshmemEndpointModel ivshmem
            ? new IvshmemPeerFirmware(hardware.Hal, Group, (ushort)ivshmem.IvPosition)
            : DefaultFirmware.Create(hardware);
}
