using System.Text;

namespace VirtioHw.Flash;

/// <summary>The plans for every region an image touches, and how to describe them.</summary>
public sealed class WritePlan
{
    public WritePlan(IReadOnlyList<FlashPlan> regions) => Regions = regions;

    public IReadOnlyList<FlashPlan> Regions { get; }

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
            text.Append($"read    {region.Region} ({Units.Size(region.Region.Length)})\n");
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
}

/// <summary>
/// Puts images into flash with the least work and proves they arrived: read what is there, plan
/// (see <see cref="FlashPlan"/>), refuse protected ranges, erase, program, read back every range
/// it changed, redo a range that does not match, and name the addresses that still differ.
/// </summary>
public sealed class FlashProgrammer
{
    private readonly SpiNorFlash _flash;
    private readonly IFlashProgress _progress;
    private readonly Action<int> _advance;

    public FlashProgrammer(SpiNorFlash flash, IFlashProgress? progress = null, int retries = 2)
    {
        ArgumentNullException.ThrowIfNull(flash);
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        _flash = flash;
        _progress = progress ?? NullFlashProgress.Instance;
        _advance = n => _progress.Advance(n);
        Retries = retries;
    }

    /// <summary>How many times a range that fails verify is planned and programmed again.</summary>
    public int Retries { get; }

    private FlashPart Part => _flash.Part;

    private int Unit => _flash.UsableEraseTypes[0].Size;

    /// <summary>Refuses an image that does not fit before the flash is touched.</summary>
    public void CheckFits(FlashImage image, long baseAddress)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (baseAddress < 0 || baseAddress >= Part.Size)
        {
            throw new FlashException(
                $"offset 0x{baseAddress:x} is past the end of the {Units.Size(Part.Size)} {Part.Name} (last address 0x{Part.Size - 1:x})");
        }

        if (baseAddress + image.End > Part.Size)
        {
            throw new FlashException(
                $"image {image.Source} at offset 0x{baseAddress:x} ends at 0x{baseAddress + image.End:x}, past the end of the {Units.Size(Part.Size)} {Part.Name} (0x{Part.Size:x})");
        }
    }

    /// <summary>Reads what the image's regions hold now and plans the write.</summary>
    public WritePlan Plan(FlashImage image, long baseAddress)
    {
        CheckFits(image, baseAddress);
        List<AddressRange> regions = AddressRange.Coalesce(image.Segments.Select(s =>
        {
            long start = AlignDown(baseAddress + s.Offset, Unit);
            long end = AlignUp(baseAddress + s.End, Unit);
            return new AddressRange(start, end - start);
        }));

        var plans = new List<FlashPlan>();
        _progress.Begin(FlashPhase.Read, regions.Sum(r => r.Length));
        foreach (AddressRange region in regions)
        {
            byte[] current = ReadRange(region, _advance);
            byte[] desired = (byte[])current.Clone();
            foreach (ImageSegment segment in image.Segments)
            {
                long start = baseAddress + segment.Offset;
                if (region.Contains(start))
                {
                    segment.Data.CopyTo(desired.AsSpan((int)(start - region.Start)));
                }
            }

            plans.Add(FlashPlan.Create(region.Start, current, desired, Part.PageSize, _flash.UsableEraseTypes));
        }

        _progress.End();
        return new WritePlan(plans);
    }

    /// <summary>Writes <paramref name="image"/> at <paramref name="baseAddress"/> and verifies it.</summary>
    public WriteOutcome Write(FlashImage image, long baseAddress, bool dryRun = false, bool unprotect = false)
    {
        WritePlan plan = Plan(image, baseAddress);
        ProtectionState protection = _flash.ReadProtection();
        AddressRange conflict = plan.TouchedRanges().FirstOrDefault(r => r.Overlaps(protection.Range));
        bool conflicting = !conflict.IsEmpty;
        if (dryRun)
        {
            return new WriteOutcome { Plan = plan, DryRun = true, Protection = protection, ProtectionConflict = conflicting };
        }

        bool cleared = ResolveProtection(protection, conflicting, unprotect, $"the image changes {conflict}");
        int retried = Execute(plan.Regions, "verify after programming");
        return new WriteOutcome
        {
            Plan = plan,
            DryRun = false,
            Protection = protection,
            ProtectionConflict = conflicting,
            ProtectionCleared = cleared,
            RetriedRanges = retried,
        };
    }

    /// <summary>Erases the whole part (chip erase) and checks it reads blank.</summary>
    public void EraseAll(bool unprotect = false)
    {
        ProtectionState protection = _flash.ReadProtection();
        ResolveProtection(protection, !protection.Range.IsEmpty, unprotect, "a chip erase changes the whole part");
        _progress.Begin(FlashPhase.Erase, Part.Size);
        _flash.EraseChip();
        _progress.Advance(Part.Size);
        _progress.End();

        _progress.Begin(FlashPhase.Verify, Part.Size);
        var failures = new List<AddressRange>();
        byte[] buffer = new byte[64 * 1024];
        for (long a = 0; a < Part.Size; a += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, Part.Size - a);
            _flash.Read(a, buffer.AsSpan(0, n), _advance);
            if (buffer.AsSpan(0, n).ContainsAnyExcept((byte)0xff))
            {
                failures.Add(new AddressRange(a, n));
            }
        }

        _progress.End();
        if (failures.Count > 0)
        {
            ThrowMismatches(failures, _ => 0xff, "erase verify");
        }
    }

    /// <summary>Erases <paramref name="range"/>, which must be aligned to the smallest erase size; blank units are skipped.</summary>
    public WriteOutcome Erase(AddressRange range, bool unprotect = false)
    {
        if (range.Start < 0 || range.End > Part.Size || range.IsEmpty)
        {
            throw new FlashException($"the erase range {range} is outside the {Units.Size(Part.Size)} {Part.Name}");
        }

        if (range.Start % Unit != 0 || range.Length % Unit != 0)
        {
            throw new FlashException(
                $"--offset 0x{range.Start:x} and --length 0x{range.Length:x} must be multiples of the {Units.Size(Unit)} erase size");
        }

        byte[] blank = new byte[range.Length];
        blank.AsSpan().Fill(0xff);
        return Write(new FlashImage("erase", ImageFormat.Raw, [new ImageSegment(0, blank)]), range.Start, dryRun: false, unprotect);
    }

    /// <summary>Reads <paramref name="range"/> with progress.</summary>
    public byte[] Read(AddressRange range)
    {
        if (range.Start < 0 || range.End > Part.Size || range.IsEmpty)
        {
            throw new FlashException($"the read range {range} is outside the {Units.Size(Part.Size)} {Part.Name}");
        }

        _progress.Begin(FlashPhase.Read, range.Length);
        byte[] data = ReadRange(range, _advance);
        _progress.End();
        return data;
    }

    /// <summary>Compares the flash with the image; throws <see cref="FlashVerifyException"/> naming differing addresses.</summary>
    public void Verify(FlashImage image, long baseAddress)
    {
        CheckFits(image, baseAddress);
        _progress.Begin(FlashPhase.Verify, image.DataLength);
        var failures = new List<(AddressRange Range, byte[] Expected)>();
        foreach (ImageSegment segment in image.Segments)
        {
            var range = new AddressRange(baseAddress + segment.Offset, segment.Data.Length);
            byte[] actual = ReadRange(range, _advance);
            if (!actual.AsSpan().SequenceEqual(segment.Data))
            {
                failures.Add((range, segment.Data));
            }
        }

        _progress.End();
        if (failures.Count > 0)
        {
            ThrowMismatches(failures.Select(f => f.Range).ToList(), a => ExpectedAt(failures, a), "verify");
        }
    }

    private static byte ExpectedAt(List<(AddressRange Range, byte[] Expected)> segments, long address)
    {
        foreach ((AddressRange range, byte[] expected) in segments)
        {
            if (range.Contains(address))
            {
                return expected[address - range.Start];
            }
        }

        throw new ArgumentOutOfRangeException(nameof(address), "the address is in none of the compared segments");
    }

    private bool ResolveProtection(ProtectionState protection, bool conflicting, bool unprotect, string what)
    {
        if (protection.Range.IsEmpty)
        {
            return false;
        }

        if (!unprotect)
        {
            if (!conflicting)
            {
                return false;
            }

            throw new FlashException(
                $"{what}, but {protection.Range} is write-protected (status register 1 = 0x{protection.Status1:x2}); pass --unprotect to clear the protection bits first");
        }

        _flash.ClearProtection();
        return true;
    }

    /// <summary>Runs plans, verifies what they touched, and retries failed ranges. Returns the number retried.</summary>
    private int Execute(IReadOnlyList<FlashPlan> plans, string what)
    {
        long eraseTotal = plans.Sum(p => p.EraseBytes);
        if (eraseTotal > 0)
        {
            _progress.Begin(FlashPhase.Erase, eraseTotal);
            foreach (EraseStep erase in plans.SelectMany(p => p.Erases))
            {
                _flash.Erase(erase.Address, erase.Type);
                _progress.Advance(erase.Type.Size);
            }

            _progress.End();
        }

        long programTotal = plans.Sum(p => p.ProgramBytes);
        if (programTotal > 0)
        {
            _progress.Begin(FlashPhase.Program, programTotal);
            foreach (FlashPlan plan in plans)
            {
                foreach (ProgramStep step in plan.Programs)
                {
                    _flash.ProgramPage(step.Address, plan.DesiredAt(step.Range));
                    _progress.Advance(step.Length);
                }
            }

            _progress.End();
        }

        var touched = plans.SelectMany(p => p.TouchedRanges().Select(r => (Plan: p, Range: r))).ToList();
        _progress.Begin(FlashPhase.Verify, touched.Sum(t => t.Range.Length));
        List<(FlashPlan Plan, AddressRange Range)> failed = touched.Where(t => !Matches(t.Plan, t.Range, _advance)).ToList();
        _progress.End();

        int retried = 0;
        for (int attempt = 0; attempt < Retries && failed.Count > 0; attempt++)
        {
            var stillFailed = new List<(FlashPlan Plan, AddressRange Range)>();
            foreach ((FlashPlan plan, AddressRange range) in failed)
            {
                // Plan the failed range again from what it holds now: a read glitch needs nothing,
                // a byte that did not take is programmed again, erased first if it has to be.
                long start = AlignDown(range.Start, Unit);
                var hull = new AddressRange(start, AlignUp(range.End, Unit) - start);
                byte[] current = ReadRange(hull);
                FlashPlan again = FlashPlan.Create(hull.Start, current, plan.DesiredAt(hull), Part.PageSize, _flash.UsableEraseTypes);
                foreach (EraseStep erase in again.Erases)
                {
                    _flash.Erase(erase.Address, erase.Type);
                }

                foreach (ProgramStep step in again.Programs)
                {
                    _flash.ProgramPage(step.Address, again.DesiredAt(step.Range));
                }

                if (Matches(plan, hull, null))
                {
                    retried++;
                }
                else
                {
                    stillFailed.Add((plan, hull));
                }
            }

            failed = stillFailed;
        }

        if (failed.Count > 0)
        {
            ThrowMismatches(failed.Select(f => f.Range).ToList(),
                a => failed.First(f => f.Range.Contains(a)).Plan.DesiredAt(new AddressRange(a, 1))[0], what);
        }

        return retried;
    }

    private bool Matches(FlashPlan plan, AddressRange range, Action<int>? progress)
    {
        byte[] actual = new byte[range.Length];
        _flash.Read(range.Start, actual, progress);
        return actual.AsSpan().SequenceEqual(plan.DesiredAt(range));
    }

    /// <summary>Reads the failed ranges once more and throws with the exact differing addresses.</summary>
    private void ThrowMismatches(List<AddressRange> ranges, Func<long, byte> expected, string what)
    {
        var listed = new List<long>();
        var runs = new List<AddressRange>();
        long total = 0, totalRuns = 0, runStart = -1, previous = -2;
        void CloseRun()
        {
            if (runStart >= 0)
            {
                totalRuns++;
                if (runs.Count < FlashVerifyException.MaxListed)
                {
                    runs.Add(new AddressRange(runStart, previous - runStart + 1));
                }
            }
        }

        foreach (AddressRange range in ranges)
        {
            byte[] actual = ReadRange(range);
            for (int i = 0; i < actual.Length; i++)
            {
                long address = range.Start + i;
                if (actual[i] == expected(address))
                {
                    continue;
                }

                total++;
                if (listed.Count < FlashVerifyException.MaxListed)
                {
                    listed.Add(address);
                }

                if (address != previous + 1)
                {
                    CloseRun();
                    runStart = address;
                }

                previous = address;
            }
        }

        CloseRun();

        // A range can read right on this last pass (an intermittent fault); it still failed
        // every verify, so the run is not reported as a success.
        if (total == 0)
        {
            throw new FlashVerifyException(
                $"{what} failed for {string.Join(", ", ranges)} and the range reads differently each time: check the wiring and lower the SPI clock");
        }

        throw new FlashVerifyException(listed, runs, total, totalRuns, what);
    }

    private byte[] ReadRange(AddressRange range, Action<int>? progress = null)
    {
        byte[] data = new byte[range.Length];
        _flash.Read(range.Start, data, progress);
        return data;
    }

    private static long AlignDown(long value, long alignment) => value / alignment * alignment;

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
