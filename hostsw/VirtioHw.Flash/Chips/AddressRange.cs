namespace VirtioHw.Flash;

/// <summary>A half-open byte range [Start, Start + Length) of the flash.</summary>
public readonly record struct AddressRange(long Start, long Length)
{
    public long End => Start + Length;

    public bool IsEmpty => Length <= 0;

    public bool Overlaps(AddressRange other) =>
        !IsEmpty && !other.IsEmpty && Start < other.End && other.Start < End;

    public bool Contains(long address) => address >= Start && address < End;

    /// <summary>The smallest range of whole <paramref name="unit"/>-sized blocks that holds this one.</summary>
    public AddressRange AlignedTo(long unit)
    {
        long start = Start / unit * unit;
        long end = (End + unit - 1) / unit * unit;
        return new AddressRange(start, end - start);
    }

    public override string ToString() => IsEmpty ? "nothing" : $"0x{Start:x6}-0x{End - 1:x6}";

    /// <summary>Merges touching or overlapping ranges of an address-ordered list.</summary>
    public static List<AddressRange> Coalesce(IEnumerable<AddressRange> ranges)
    {
        var merged = new List<AddressRange>();
        foreach (AddressRange r in ranges.Where(r => !r.IsEmpty).OrderBy(r => r.Start))
        {
            if (merged.Count > 0 && merged[^1].End >= r.Start)
            {
                AddressRange last = merged[^1];
                merged[^1] = new AddressRange(last.Start, Math.Max(last.End, r.End) - last.Start);
            }
            else
            {
                merged.Add(r);
            }
        }

        return merged;
    }
}
