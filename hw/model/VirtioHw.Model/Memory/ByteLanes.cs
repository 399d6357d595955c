namespace VirtioHw.Model;

/// <summary>Byte-lane arithmetic of the register bus: strobes, widths and merges.</summary>
internal static class ByteLanes
{
    /// <summary>All-ones of <paramref name="width"/> bytes (1 to 8).</summary>
    public static ulong Ones(int width) => width >= sizeof(ulong) ? ulong.MaxValue : (1UL << (width * 8)) - 1;

    /// <summary>Bit mask of the bytes selected by <paramref name="byteMask"/> (bit i = byte i).</summary>
    public static ulong Expand(uint byteMask)
    {
        ulong bits = 0;
        for (int i = 0; i < sizeof(ulong); i++)
        {
            if ((byteMask & (1u << i)) != 0)
            {
                bits |= 0xFFUL << (i * 8);
            }
        }

        return bits;
    }

    /// <summary>
    /// <paramref name="old"/> with the bytes selected by <paramref name="byteMask"/> taken from
    /// <paramref name="value"/>: what an external register's storage does with a write.
    /// </summary>
    public static ulong Merge(ulong old, ulong value, uint byteMask)
    {
        ulong bits = Expand(byteMask);
        return (old & ~bits) | (value & bits);
    }
}
