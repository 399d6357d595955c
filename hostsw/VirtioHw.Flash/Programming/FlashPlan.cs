using System.Diagnostics;

namespace VirtioHw.Flash;

/// <summary>One erase: a block of <see cref="Type"/> at <see cref="Address"/> (aligned to its size).</summary>
public sealed record EraseStep(long Address, EraseType Type)
{
    public AddressRange Range => new(Address, Type.Size);
}

/// <summary>One page program: <see cref="Length"/> bytes from <see cref="Address"/>, inside one page.</summary>
public sealed record ProgramStep(long Address, int Length)
{
    public AddressRange Range => new(Address, Length);
}

/// <summary>
/// The minimal work that turns one region of flash from what it holds into what it should hold.
/// </summary>
/// <remarks>
/// The region is split into units of the smallest erase size. A unit needs an erase only if some
/// byte must gain a 1 bit (<c>(current &amp; desired) != desired</c>); a change that only clears
/// bits is programmed over the old data. Units that need an erase are covered by the largest
/// aligned erase blocks whose every unit needs one, so nothing that could be kept is erased.
/// Then each page whose content after the erases differs from the desired content gets one page
/// program, trimmed to the span from its first to its last differing byte.
/// </remarks>
public sealed class FlashPlan
{
    private readonly byte[] _desired;

    private FlashPlan(AddressRange region, byte[] desired, List<EraseStep> erases, List<ProgramStep> programs)
    {
        Region = region;
        _desired = desired;
        Erases = erases;
        Programs = programs;
    }

    /// <summary>The region the plan covers; aligned to the smallest erase size.</summary>
    public AddressRange Region { get; }

    public IReadOnlyList<EraseStep> Erases { get; }

    public IReadOnlyList<ProgramStep> Programs { get; }

    /// <summary>What the region holds once the plan has run.</summary>
    public ReadOnlySpan<byte> Desired => _desired;

    public long EraseBytes => Erases.Sum(e => (long)e.Type.Size);

    public long ProgramBytes => Programs.Sum(p => (long)p.Length);

    public bool IsEmpty => Erases.Count == 0 && Programs.Count == 0;

    /// <summary>Address ranges the plan changes, merged: what verify must read back.</summary>
    public IReadOnlyList<AddressRange> TouchedRanges() =>
        AddressRange.Coalesce(Erases.Select(e => e.Range).Concat(Programs.Select(p => p.Range)));

    /// <summary>The desired bytes of <paramref name="range"/>, which must lie inside the region.</summary>
    public ReadOnlySpan<byte> DesiredAt(AddressRange range)
    {
        Debug.Assert(range.Start >= Region.Start && range.End <= Region.End, "range inside the region");
        return _desired.AsSpan((int)(range.Start - Region.Start), (int)range.Length);
    }

    /// <summary>
    /// Plans a region starting at <paramref name="regionStart"/> that holds <paramref name="current"/>
    /// and should hold <paramref name="desired"/>. <paramref name="eraseTypes"/> lists the usable
    /// erase sizes, smallest first; the region must be aligned to the smallest.
    /// <paramref name="unknownUnits"/> (empty, or one flag per erase unit) marks units whose
    /// contents were not read: they are erased and programmed whole, whatever
    /// <paramref name="current"/> holds for them.
    /// </summary>
    public static FlashPlan Create(long regionStart, ReadOnlySpan<byte> current, ReadOnlySpan<byte> desired,
        int pageSize, IReadOnlyList<EraseType> eraseTypes, ReadOnlySpan<bool> unknownUnits = default)
    {
        ArgumentNullException.ThrowIfNull(eraseTypes);
        if (current.Length != desired.Length)
        {
            throw new ArgumentException("current and desired contents differ in length", nameof(desired));
        }

        if (eraseTypes.Count == 0)
        {
            throw new ArgumentException("at least one erase type is needed", nameof(eraseTypes));
        }

        int unit = eraseTypes[0].Size;
        if (regionStart % unit != 0 || current.Length % unit != 0 || unit % pageSize != 0)
        {
            throw new ArgumentException($"the region must be aligned to the {unit}-byte erase unit", nameof(regionStart));
        }

        int units = current.Length / unit;
        if (!unknownUnits.IsEmpty && unknownUnits.Length != units)
        {
            throw new ArgumentException("one flag per erase unit of the region is needed", nameof(unknownUnits));
        }

        var needsErase = new bool[units];
        for (int u = 0; u < units; u++)
        {
            needsErase[u] = (!unknownUnits.IsEmpty && unknownUnits[u]) || NeedsErase(current.Slice(u * unit, unit), desired.Slice(u * unit, unit));
        }

        var erases = new List<EraseStep>();
        var erased = new bool[units];
        int next = 0;
        while (next < units)
        {
            if (!needsErase[next])
            {
                next++;
                continue;
            }

            EraseType chosen = eraseTypes[0];
            for (int t = eraseTypes.Count - 1; t > 0; t--)
            {
                EraseType candidate = eraseTypes[t];
                int span = candidate.Size / unit;
                long address = regionStart + ((long)next * unit);
                if (address % candidate.Size == 0 && next + span <= units && AllTrue(needsErase.AsSpan(next, span)))
                {
                    chosen = candidate;
                    break;
                }
            }

            int covered = chosen.Size / unit;
            erases.Add(new EraseStep(regionStart + ((long)next * unit), chosen));
            erased.AsSpan(next, covered).Fill(true);
            next += covered;
        }

        var programs = new List<ProgramStep>();
        Span<byte> after = stackalloc byte[pageSize];
        for (int offset = 0; offset < current.Length; offset += pageSize)
        {
            ReadOnlySpan<byte> want = desired.Slice(offset, pageSize);
            if (erased[offset / unit])
            {
                after.Fill(0xff);
            }
            else
            {
                current.Slice(offset, pageSize).CopyTo(after);
            }

            int first = FirstDifference(after, want);
            if (first < 0)
            {
                continue;
            }

            int last = LastDifference(after, want);
            programs.Add(new ProgramStep(regionStart + offset + first, last - first + 1));
        }

        return new FlashPlan(new AddressRange(regionStart, current.Length), desired.ToArray(), erases, programs);
    }

    /// <summary>Runs the plan on a copy of the region in memory: erase sets bytes to 0xff, program ANDs.</summary>
    public void ApplyTo(Span<byte> region)
    {
        if (region.Length != Region.Length)
        {
            throw new ArgumentException("the buffer must be the size of the plan's region", nameof(region));
        }

        foreach (EraseStep e in Erases)
        {
            region.Slice((int)(e.Address - Region.Start), e.Type.Size).Fill(0xff);
        }

        foreach (ProgramStep p in Programs)
        {
            int offset = (int)(p.Address - Region.Start);
            for (int i = 0; i < p.Length; i++)
            {
                region[offset + i] &= _desired[offset + i];
            }
        }
    }

    /// <summary>Whether some byte must gain a 1 bit, which only an erase can give.</summary>
    public static bool NeedsErase(ReadOnlySpan<byte> current, ReadOnlySpan<byte> desired)
    {
        for (int i = 0; i < current.Length; i++)
        {
            if ((current[i] & desired[i]) != desired[i])
            {
                return true;
            }
        }

        return false;
    }

    private static bool AllTrue(ReadOnlySpan<bool> flags) => !flags.Contains(false);

    private static int FirstDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int common = a.CommonPrefixLength(b);
        return common == a.Length ? -1 : common;
    }

    private static int LastDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (int i = a.Length - 1; i >= 0; i--)
        {
            if (a[i] != b[i])
            {
                return i;
            }
        }

        return -1;
    }
}
