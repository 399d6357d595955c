using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// Storage of the six BAR registers (external in pci_header): each implemented BAR keeps the
/// address bits its size allows and reads back its fixed type bits, so writing all-ones and
/// reading back gives the size mask. A 64-bit BAR takes the next register for its high half;
/// unimplemented registers read 0 and ignore writes.
/// </summary>
internal sealed class BarRegisters : IExternalRegister
{
    private readonly BarDescription?[] _bars = new BarDescription?[PciHeader.Bar.Count];
    private readonly ulong[] _base = new ulong[PciHeader.Bar.Count];

    public BarRegisters(EndpointDescription description)
    {
        foreach (BarDescription bar in description.Bars)
        {
            _bars[bar.Index] = bar;
        }
    }

    /// <summary>The address the host assigned to BAR <paramref name="index"/> (both halves for a 64-bit BAR).</summary>
    public ulong Base(int index) => _base[index];

    public BarDescription? Describe(int index) => _bars[index];

    public ulong Read(int element, uint byteMask)
    {
        if (_bars[element] is { } bar)
        {
            return ((uint)_base[element] & (uint)AddressMask(bar)) | TypeBits(bar);
        }

        return HighHalfOf(element) is { } low ? (uint)(_base[low.Index] >> 32) : 0;
    }

    public void Write(int element, ulong value, uint byteMask)
    {
        if (_bars[element] is { } bar)
        {
            ulong low = ByteLanes.Merge((uint)_base[element], value, byteMask) & AddressMask(bar) & uint.MaxValue;
            _base[element] = (_base[element] & ~(ulong)uint.MaxValue) | low;
        }
        else if (HighHalfOf(element) is { } lowBar)
        {
            ulong high = ByteLanes.Merge(_base[lowBar.Index] >> 32, value, byteMask) & (AddressMask(lowBar) >> 32);
            _base[lowBar.Index] = (_base[lowBar.Index] & uint.MaxValue) | (high << 32);
        }
    }

    /// <summary>The 64-bit BAR whose high half register <paramref name="element"/> is, if any.</summary>
    private BarDescription? HighHalfOf(int element) =>
        element > 0 && _bars[element - 1] is { Is64Bit: true } low ? low : null;

    /// <summary>The address bits the host can set: those above the size, within the address field.</summary>
    private static ulong AddressMask(BarDescription bar)
    {
        ulong mask = ~(bar.Size - 1) & (ulong.MaxValue << PciHeader.Bar.Address.Shift);
        return bar.Is64Bit ? mask : mask & uint.MaxValue;
    }

    private static uint TypeBits(BarDescription bar)
    {
        if (bar.Io)
        {
            return (uint)PciHeader.Bar.Io.Mask;
        }

        // mem_type: 0 for a 32-bit BAR, 2 for a 64-bit one.
        uint type = bar.Is64Bit ? (uint)(2UL << PciHeader.Bar.MemType.Shift) : 0;
        return type | (bar.Prefetchable ? (uint)PciHeader.Bar.Prefetchable.Mask : 0);
    }
}
