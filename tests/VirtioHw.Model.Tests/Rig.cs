using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

/// <summary>
/// A model platform as host software would find it after enumeration: BARs assigned from the
/// platform's windows, memory space and bus mastering on. Firmware is booted but left for the
/// test to drive (<see cref="ModelPlatformSettings.RunFirmware"/> false) unless asked otherwise.
/// </summary>
internal sealed class Rig : IAsyncDisposable
{
    public static readonly PciAddress IsmAddress = new(0, 1, 0);
    public static readonly PciAddress IvshmemAddress = new(0, 2, 0);
    public static readonly PciAddress DmabufAddress = new(0, 3, 0);

    private readonly Dictionary<ulong, ulong> _nextFree = [];
    private readonly Dictionary<PciAddress, ulong[]> _assigned = [];

    private Rig(ModelPlatform platform) => Platform = platform;

    public ModelPlatform Platform { get; }

    /// <summary>A rig over a platform the test built itself (and disposes).</summary>
    public static Rig Wrap(ModelPlatform platform) => new(platform);

    public static Rig Create(ModelPlatformSettings? settings = null) =>
        new(new ModelPlatform((settings ?? ModelPlatformSettings.Default) with { RunFirmware = false }));

    /// <summary>A platform with one endpoint built from <paramref name="yaml"/> at 00:01.0 and nothing else.</summary>
    public static Rig WithEndpoint(string yaml) => Create(new ModelPlatformSettings
    {
        PciEndpoints = [new PciEndpointPlacement(IsmAddress, EndpointDescriptions.Parse("test.yaml", yaml))],
    });

    public ModelEndpoint Endpoint(PciAddress address) => Platform.FindEndpoint(address)!;

    public VirtioFirmware Firmware(PciAddress address) => (VirtioFirmware)Endpoint(address).Firmware!;

    public FirmwareCsr Csr(PciAddress address) => new(Endpoint(address).Hardware.Hal);

    /// <summary>Places every BAR of the function in a window (64-bit prefetchable ones high), then turns on memory space and bus mastering.</summary>
    public ulong[] Setup(PciAddress address, bool busMaster = true)
    {
        ulong[] bars = AssignBars(address);
        Command(address, memorySpace: true, busMaster);
        return bars;
    }

    /// <summary>Places the function's BARs once; later calls return the same addresses.</summary>
    public ulong[] AssignBars(PciAddress address)
    {
        if (_assigned.TryGetValue(address, out ulong[]? assigned))
        {
            return assigned;
        }

        var bars = new ulong[PciHeader.Bar.Count];
        _assigned[address] = bars;
        foreach (BarDescription bar in Endpoint(address).Hardware.Description.Bars.Where(b => !b.Io))
        {
            PciMemoryWindow window = Platform.MemoryWindows.First(w => w.Is64Bit == (bar.Is64Bit && bar.Prefetchable));
            ulong next = _nextFree.GetValueOrDefault(window.BaseAddress, window.BaseAddress);
            ulong at = (next + bar.Size - 1) & ~(bar.Size - 1);
            _nextFree[window.BaseAddress] = at + bar.Size;
            Platform.WriteConfig32(address, (int)PciHeader.Bar.OffsetOf(bar.Index), (uint)at);
            if (bar.Is64Bit)
            {
                Platform.WriteConfig32(address, (int)PciHeader.Bar.OffsetOf(bar.Index + 1), (uint)(at >> 32));
            }

            bars[bar.Index] = at;
        }

        return bars;
    }

    public void Command(PciAddress address, bool memorySpace, bool busMaster) =>
        Platform.WriteConfig16(address, (int)PciHeader.Command.Offset, (ushort)(
            (memorySpace ? PciHeader.Command.MemorySpace.Mask : 0) | (busMaster ? PciHeader.Command.BusMaster.Mask : 0)));

    /// <summary>Config space offset of the first capability with <paramref name="capId"/> (and cfg_type, id), following the chain as a host does; -1 if none.</summary>
    public int FindCapability(PciAddress address, byte capId, byte? cfgType = null, byte? id = null)
    {
        int offset = Platform.ReadConfig8(address, (int)PciHeader.CapabilitiesPtr.Offset);
        while (offset != 0)
        {
            bool match = Platform.ReadConfig8(address, offset + (int)VirtioPciCap.CapVndr.Offset) == capId
                && (cfgType is null || Platform.ReadConfig8(address, offset + (int)VirtioPciCap.CfgType.Offset) == cfgType)
                && (id is null || Platform.ReadConfig8(address, offset + (int)VirtioPciCap.Id.Offset) == id);
            if (match)
            {
                return offset;
            }

            offset = Platform.ReadConfig8(address, offset + (int)VirtioPciCap.CapNext.Offset);
        }

        return -1;
    }

    public ValueTask DisposeAsync() => Platform.DisposeAsync();
}
