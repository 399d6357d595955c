using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Host.Virtio;

/// <summary>
/// The PCI configuration access capability (cfg_type 5): a window in config space through which
/// the driver reads and writes BAR contents without mapping the BAR. Each access programs the
/// window's bar, offset and length, then moves the data through pci_cfg_data.
/// </summary>
public sealed class VirtioPciCfgWindow
{
    private readonly Platform _platform;
    private readonly PciAddress _function;
    private readonly int _position;

    internal VirtioPciCfgWindow(Platform platform, PciAddress function, VirtioPciCapabilityInfo capability)
    {
        _platform = platform;
        _function = function;
        _position = capability.Position;
        Capability = capability;
    }

    public VirtioPciCapabilityInfo Capability { get; }

    /// <summary>Reads <paramref name="width"/> bytes (1, 2 or 4) at <paramref name="offset"/> of BAR <paramref name="bar"/>.</summary>
    public uint Read(int bar, uint offset, int width)
    {
        Select(bar, offset, width);
        uint data = _platform.ReadConfig32(_function, _position + (int)VirtioPciCfgCap.PciCfgData.Offset);
        return width == 4 ? data : data & ((1u << (8 * width)) - 1);
    }

    /// <summary>Writes <paramref name="width"/> bytes (1, 2 or 4) at <paramref name="offset"/> of BAR <paramref name="bar"/>.</summary>
    public void Write(int bar, uint offset, int width, uint value)
    {
        Select(bar, offset, width);
        _platform.WriteConfig32(_function, _position + (int)VirtioPciCfgCap.PciCfgData.Offset, value);
    }

    private void Select(int bar, uint offset, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bar);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bar, PciHeader.Bar.Count);
        if (width is not (1 or 2 or 4) || offset % (uint)width != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width,
                $"a PCI configuration access window access is 1, 2 or 4 bytes at an offset aligned to its width (offset 0x{offset:x})");
        }

        _platform.WriteConfig8(_function, _position + (int)VirtioPciCfgCap.Bar.Offset, (byte)bar);
        _platform.WriteConfig32(_function, _position + (int)VirtioPciCfgCap.OffsetRegister.Offset, offset);
        _platform.WriteConfig32(_function, _position + (int)VirtioPciCfgCap.Length.Offset, (uint)width);
    }
}
