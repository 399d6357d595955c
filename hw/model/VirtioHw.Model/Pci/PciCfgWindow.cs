using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>A BAR as the PCI cfg access capability reaches it: by BAR number, whether or not memory space is on.</summary>
internal interface IBarAccess
{
    ulong ReadBar(int bar, ulong offset, int width);

    void WriteBar(int bar, ulong offset, int width, ulong value);
}

/// <summary>
/// pci_cfg_data of the virtio PCI cfg access capability: a config access to it moves
/// <c>length</c> (1, 2 or 4) bytes to or from BAR <c>bar</c> at <c>offset</c>, in its low bytes.
/// Any other length, or an offset not aligned to it, does nothing and reads 0.
/// </summary>
internal sealed class PciCfgWindow(VirtioPciCfgCapModel cap, IBarAccess bars) : IExternalRegister
{
    public ulong Read(int element, uint byteMask) =>
        TryWindow(out int width) ? bars.ReadBar(cap.Bar, cap.Offset, width) : 0;

    public void Write(int element, ulong value, uint byteMask)
    {
        if (TryWindow(out int width))
        {
            bars.WriteBar(cap.Bar, cap.Offset, width, value & ByteLanes.Ones(width));
        }
    }

    private bool TryWindow(out int width)
    {
        width = (int)cap.Length;
        return width is 1 or 2 or 4 && cap.Offset % (uint)width == 0 && cap.Bar < PciHeader.Bar.Count;
    }
}
