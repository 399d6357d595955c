using VirtioHw.Cosim;
using VirtioHw.Firmware;
using VirtioHw.Firmware.Ivshmem;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Personalities.Tests;

/// <summary>
/// ivshmem peers sharing one memory, on the model (<see cref="IvshmemModelGroup"/>) or on
/// <c>ivshmem_endpoint_top</c> in co-simulation (<see cref="CosimIvshmemGroup"/>): a first platform
/// with some peers, and later ones with the peers that join after. The RTL runs only the seed
/// specification's device; a test that cannot run says why.
/// </summary>
internal sealed class IvshmemRig : IAsyncDisposable
{
    private readonly PlatformKind _kind;
    private readonly IvshmemModelGroup? _model;
    private readonly CosimIvshmemGroup? _cosim;
    private readonly List<Platform> _platforms = [];
    private readonly Dictionary<int, (Platform Platform, PciFunction Function)> _peers = [];

    private IvshmemRig(PlatformKind kind, int peers, IvshmemCompat compat)
    {
        _kind = kind;
        if (kind == PlatformKind.Model)
        {
            _model = new IvshmemModelGroup(peers, compat);
        }
        else
        {
            _cosim = new CosimIvshmemGroup(peers);
        }
    }

    public IvshmemPeerGroup Group => _model?.Group ?? _cosim!.Group;

    /// <summary>Starts the peers of <paramref name="positions"/> (all when empty) on a first platform.</summary>
    public static IvshmemRig Start(PlatformKind kind, int peers, IvshmemCompat compat = IvshmemCompat.Specification, params int[] positions)
    {
        if (kind == PlatformKind.Cosim && compat == IvshmemCompat.Qemu)
        {
            Assert.Ignore("the RTL is built from hw/endpoints/ivshmem.yaml, the seed specification's device; QEMU compatibility is checked on the model");
        }

        var rig = new IvshmemRig(kind, peers, compat);
        rig.Join(positions.Length == 0 ? [.. Enumerable.Range(0, peers)] : positions);
        return rig;
    }

    /// <summary>Peers joining later: a platform of their own (another guest), their firmware booting now.</summary>
    public void Join(params int[] positions)
    {
        Platform platform;
        if (_model is not null)
        {
            platform = new ModelPlatform(_model.PlatformSettings(positions));
        }
        else
        {
            try
            {
                platform = new CosimPlatform(_cosim!.PlatformSettings(positions));
            }
            catch (CosimLibraryException e)
            {
                Assert.Ignore($"co-simulation: {e.Message}");
                throw;
            }
        }

        _platforms.Add(platform);
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        IReadOnlyList<PciAddress> addresses = _model?.Addresses ?? _cosim!.Addresses;
        foreach (int position in positions)
        {
            _peers[position] = (platform, functions.Find(addresses[position]));
        }
    }

    public PciFunction Function(int position) => _peers[position].Function;

    public Platform PlatformOf(int position) => _peers[position].Platform;

    /// <summary>Reads an ivshmem register of peer <paramref name="position"/> (IntrStatus clears as it is read).</summary>
    public uint ReadRegister(int position, uint offset) => PlatformOf(position).Read32(Function(position).GetBar(0)!.Address + offset);

    public void WriteRegister(int position, uint offset, uint value) => PlatformOf(position).Write32(Function(position).GetBar(0)!.Address + offset, value);

    /// <summary>Reads IntrStatus of <paramref name="position"/> until it is not 0 (firmware routes on its own task); the test's token bounds the wait.</summary>
    public async Task<uint> NextIntrStatusAsync(int position, CancellationToken cancellationToken)
    {
        while (true)
        {
            uint status = ReadRegister(position, VirtioHw.Registers.Ivshmem.IntrStatus.Offset);
            if (status != 0)
            {
                return status;
            }

            await Task.Delay(1, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _platforms.Count - 1; i >= 0; i--)
        {
            await _platforms[i].DisposeAsync();
        }

        _cosim?.Dispose();
    }
}
