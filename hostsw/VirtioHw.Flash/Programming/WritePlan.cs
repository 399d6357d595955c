using System.Text;

namespace VirtioHw.Flash;

/// <summary>The plans for every region an image touches, and how to describe them.</summary>
public sealed class WritePlan
{
    public WritePlan(IReadOnlyList<FlashPlan> regions, string basis = "read and compared with the image")
    {
        Regions = regions;
        Basis = basis;
    }

    public IReadOnlyList<FlashPlan> Regions { get; }

    /// <summary>How the plan knows what the flash holds: read and compared, or from the flash record (and why).</summary>
    public string Basis { get; }

    /// <summary>Whether the plan trusts the flash record for the sectors it did not read.</summary>
    public bool FromRecord { get; init; }

    /// <summary>Bytes read from the image's regions to plan.</summary>
    public long ReadBytes { get; init; }

    public IEnumerable<EraseStep> Erases => Regions.SelectMany(r => r.Erases);

    public IEnumerable<ProgramStep> Programs => Regions.SelectMany(r => r.Programs);

    public long EraseBytes => Regions.Sum(r => r.EraseBytes);

    public long ProgramBytes => Regions.Sum(r => r.ProgramBytes);

    public int PageCount => Regions.Sum(r => r.Programs.Count);

    public bool IsEmpty => Regions.All(r => r.IsEmpty);

    public IReadOnlyList<AddressRange> TouchedRanges() =>
        AddressRange.Coalesce(Regions.SelectMany(r => r.TouchedRanges()));

    /// <summary>The plan as lines a person can check: what is read, each erase, the programmed pages.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (FlashPlan region in Regions)
        {
            text.Append($"plan    {region.Region} ({Units.Size(region.Region.Length)}): {Basis}\n");
        }

        if (IsEmpty)
        {
            text.Append("nothing to do: the flash already holds the image\n");
            return text.ToString();
        }

        foreach (EraseStep erase in Erases.OrderBy(e => e.Address))
        {
            text.Append($"erase   {erase.Range} ({Units.Size(erase.Type.Size)} block, opcode 0x{erase.Type.Opcode:x2})\n");
        }

        // Consecutive page programs are shown as one line per run of pages.
        var runs = AddressRange.Coalesce(Programs.Select(p => p.Range));
        foreach (AddressRange run in runs)
        {
            int pages = Programs.Count(p => run.Contains(p.Address));
            text.Append($"program {run} ({pages} page{(pages == 1 ? "" : "s")}, {run.Length} bytes)\n");
        }

        text.Append($"total: {Erases.Count()} erase(s) covering {Units.Size(EraseBytes)}, {PageCount} page program(s) of {ProgramBytes} bytes\n");
        return text.ToString();
    }
}

/// <summary>How <see cref="FlashProgrammer.Write"/> goes about a write.</summary>
public sealed record WriteOptions
{
    public static WriteOptions Default { get; } = new();

    /// <summary>Plan and check protection, change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>Clear the status register's protection bits when the write needs a protected range.</summary>
    public bool Unprotect { get; init; }

    /// <summary>Plan by reading even when a flash record stands that covers the image.</summary>
    public bool FullCompare { get; init; }
}

/// <summary>What a write did (or, for a dry run, would do).</summary>
public sealed class WriteOutcome
{
    public required WritePlan Plan { get; init; }

    public required bool DryRun { get; init; }

    /// <summary>Protection found before the write, and whether it stands in the way.</summary>
    public required ProtectionState Protection { get; init; }

    public required bool ProtectionConflict { get; init; }

    /// <summary>Whether --unprotect cleared protection bits.</summary>
    public bool ProtectionCleared { get; init; }

    /// <summary>Ranges that failed verify once and were programmed again successfully.</summary>
    public int RetriedRanges { get; init; }

    /// <summary>Where this run wrote the flash record, or null.</summary>
    public long? RecordAddress { get; init; }

    /// <summary>Why no record was written although the record is switched on, or null.</summary>
    public string? RecordNote { get; init; }
}
