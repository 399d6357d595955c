using VirtioHw.Registers;

namespace VirtioHw.Cosim.Tests.Lockstep;

/// <summary>
/// The hand-written storage behind every external register of a block, the same on both sides of
/// the lockstep (each side has its own store, built from the same seed): every element starts at a
/// value derived from the seed, a write changes the bytes it enables, a read returns the whole
/// element so that each side has to pick the bytes of the addressed word itself.
/// </summary>
internal sealed class ExternalStore(BlockInfo block, int seed)
{
    private readonly Dictionary<(int Register, int Element), ulong> _values = [];

    public ulong Read(int register, int element) =>
        _values.TryGetValue((register, element), out ulong v) ? v : Initial(register, element);

    public void Write(int register, int element, ulong value, uint byteMask)
    {
        ulong bits = Bits.OfBytes(byteMask);
        _values[(register, element)] = (Read(register, element) & ~bits) | (value & bits);
    }

    private ulong Initial(int register, int element)
    {
        // SplitMix64 of (seed, register, element): varied bytes, the same on both sides.
        ulong z = (ulong)(uint)seed * 0x9e3779b97f4a7c15UL + (ulong)register * 0xbf58476d1ce4e5b9UL + (ulong)element * 0x94d049bb133111ebUL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        z ^= z >> 31;
        return z & Bits.Ones(block.Registers[register].Width);
    }
}

internal static class Bits
{
    public static ulong Ones(int width) => width >= 64 ? ulong.MaxValue : (1UL << width) - 1;

    /// <summary>Bit mask of the bytes set in <paramref name="byteMask"/> (bit i = byte i).</summary>
    public static ulong OfBytes(uint byteMask)
    {
        ulong bits = 0;
        for (int i = 0; i < 8; i++)
        {
            if ((byteMask & (1u << i)) != 0) bits |= 0xffUL << (i * 8);
        }
        return bits;
    }
}
