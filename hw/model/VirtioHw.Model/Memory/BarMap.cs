namespace VirtioHw.Model;

/// <summary>
/// What answers where inside each BAR (or inside any other decoded window): a few ranges per BAR,
/// searched in order. Ranges are added while the endpoint is built and never change after.
/// </summary>
internal sealed class BarMap
{
    private readonly Range[][] _bars;

    public BarMap(int bars)
    {
        _bars = new Range[bars][];
        Array.Fill(_bars, []);
    }

    public void Add(int bar, ulong offset, ulong length, IMemoryTarget target) =>
        _bars[bar] = [.. _bars[bar], new Range(offset, length, target)];

    /// <summary>The target whose range holds <paramref name="offset"/>, and the offset inside it; null in a hole.</summary>
    public IMemoryTarget? Find(int bar, ulong offset, out ulong local) => Find(bar, offset, out local, out _);

    /// <summary>As <see cref="Find(int, ulong, out ulong)"/>, with the bytes from <paramref name="local"/> to the end of the range.</summary>
    public IMemoryTarget? Find(int bar, ulong offset, out ulong local, out ulong remaining)
    {
        foreach (Range range in _bars[bar])
        {
            if (offset - range.Offset < range.Length && offset >= range.Offset)
            {
                local = offset - range.Offset;
                remaining = range.Length - local;
                return range.Target;
            }
        }

        local = 0;
        remaining = 0;
        return null;
    }

    private readonly record struct Range(ulong Offset, ulong Length, IMemoryTarget Target);
}
