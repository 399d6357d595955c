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

    /// <summary>
    /// A programmer for <paramref name="flash"/>. <paramref name="record"/> says where the flash
    /// record is kept (an area the user or the board profile reserved for it); null or
    /// <see cref="FlashRecordSettings.Off"/> keeps none and always plans by reading.
    /// </summary>
    public FlashProgrammer(SpiNorFlash flash, IFlashProgress? progress = null, int retries = 2, FlashRecordSettings? record = null)
    {
        ArgumentNullException.ThrowIfNull(flash);
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        _flash = flash;
        _progress = progress ?? NullFlashProgress.Instance;
        _advance = n => _progress.Advance(n);
        Retries = retries;
        Record = record ?? FlashRecordSettings.Off;
    }

    public FlashRecordSettings Record { get; }

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

    /// <summary>
    /// Plans the write: from the flash record if one stands that covers every sector of the image
    /// (unless <paramref name="fullCompare"/>), otherwise by reading what the image's regions hold.
    /// </summary>
    public WritePlan Plan(FlashImage image, long baseAddress, bool fullCompare = false) =>
        PlanWrite(image, baseAddress, fullCompare, keepRecord: true).Plan;

    private (WritePlan Plan, FlashRecordArea? Area) PlanWrite(FlashImage image, long baseAddress, bool fullCompare, bool keepRecord)
    {
        CheckFits(image, baseAddress);
        List<AddressRange> regions = AddressRange.Coalesce(image.Segments.Select(s =>
        {
            long start = AlignDown(baseAddress + s.Offset, Unit);
            long end = AlignUp(baseAddress + s.End, Unit);
            return new AddressRange(start, end - start);
        }));

        FlashRecordArea? area = null;
        if (Record.Enabled)
        {
            area = new FlashRecordArea(_flash, Record.AreaOn(Part, Unit));
            AddressRange overlap = regions.FirstOrDefault(r => r.Overlaps(area.Range));
            if (keepRecord && !overlap.IsEmpty)
            {
                throw new FlashException(
                    $"image {image.Source} at offset 0x{baseAddress:x} covers {overlap}, which overlaps the flash record area {area.Range}; place the record elsewhere (--record-area) or switch it off (--no-record)");
            }

            area.Scan();
        }

        FlashRecord? record = area?.Current;
        string? refusal = !Record.Enabled ? Record.OffReason
            : fullCompare ? "a full compare was asked for"
            : record is null ? "no flash record stands"
            : record.SectorSize != Unit || regions.Any(r => !Covers(record, r)) ? "the flash record describes other addresses"
            : null;
        return refusal is null
            ? (PlanFromRecord(image, baseAddress, regions, record!, area!.CurrentAddress), area)
            : (PlanByReading(image, baseAddress, regions, $"read and compared with the image ({refusal})"), area);
    }

    private bool Covers(FlashRecord record, AddressRange region)
    {
        for (long a = region.Start; a < region.End; a += Unit)
        {
            if (record.HashAt(a) is null)
            {
                return false;
            }
        }

        return true;
    }

    private WritePlan PlanByReading(FlashImage image, long baseAddress, List<AddressRange> regions, string basis)
    {
        var plans = new List<FlashPlan>();
        _progress.Begin(FlashPhase.Read, regions.Sum(r => r.Length));
        foreach (AddressRange region in regions)
        {
            byte[] current = ReadRange(region, _advance);
            byte[] desired = (byte[])current.Clone();
            Overlay(image, baseAddress, region, desired);
            plans.Add(FlashPlan.Create(region.Start, current, desired, Part.PageSize, _flash.UsableEraseTypes));
        }

        _progress.End();
        return new WritePlan(plans, basis) { ReadBytes = regions.Sum(r => r.Length) };
    }

    /// <summary>
    /// Plans from the record: a sector the image fills whole is taken to hold the image if its
    /// recorded hash is the image's, and is erased and programmed whole if not. A sector the image
    /// fills only in part is read, since the bytes around the image are not in the image.
    /// </summary>
    private WritePlan PlanFromRecord(FlashImage image, long baseAddress, List<AddressRange> regions, FlashRecord record, long recordAddress)
    {
        var plans = new List<FlashPlan>();
        var partial = regions.Select(r => PartialUnits(image, baseAddress, r)).ToList();
        long readBytes = partial.Sum(p => (long)p.Count(x => x) * Unit);
        int changed = 0, sectors = 0;
        _progress.Begin(FlashPhase.Read, readBytes);
        for (int i = 0; i < regions.Count; i++)
        {
            AddressRange region = regions[i];
            byte[] current = new byte[region.Length];
            for (int u = 0; u < partial[i].Length; u++)
            {
                if (partial[i][u])
                {
                    _flash.Read(region.Start + ((long)u * Unit), current.AsSpan(u * Unit, Unit), _advance);
                }
            }

            byte[] desired = (byte[])current.Clone();
            Overlay(image, baseAddress, region, desired);
            bool[] unknown = new bool[partial[i].Length];
            for (int u = 0; u < unknown.Length; u++)
            {
                sectors++;
                if (partial[i][u])
                {
                    continue;
                }

                Span<byte> want = desired.AsSpan(u * Unit, Unit);
                if (FlashRecord.HashOf(want).AsSpan().SequenceEqual(record.HashAt(region.Start + ((long)u * Unit))))
                {
                    want.CopyTo(current.AsSpan(u * Unit, Unit));
                }
                else
                {
                    unknown[u] = true;
                    changed++;
                }
            }

            plans.Add(FlashPlan.Create(region.Start, current, desired, Part.PageSize, _flash.UsableEraseTypes, unknown));
        }

        _progress.End();
        return new WritePlan(plans,
            $"from the flash record at 0x{recordAddress:x6}: {changed} of {sectors} sector(s) differ from it"
            + (readBytes > 0 ? $", {readBytes / Unit} read because the image fills them only in part" : ""))
        {
            FromRecord = true,
            ReadBytes = readBytes,
        };
    }

    /// <summary>One flag per erase unit of <paramref name="region"/>: true where the image fills the unit only in part.</summary>
    private bool[] PartialUnits(FlashImage image, long baseAddress, AddressRange region)
    {
        long[] filled = new long[region.Length / Unit];
        foreach (ImageSegment segment in image.Segments)
        {
            long start = Math.Max(baseAddress + segment.Offset, region.Start);
            long end = Math.Min(baseAddress + segment.End, region.End);
            for (long a = start; a < end;)
            {
                long unitEnd = AlignDown(a, Unit) + Unit;
                long n = Math.Min(end, unitEnd) - a;
                filled[(a - region.Start) / Unit] += n;
                a += n;
            }
        }

        return filled.Select(f => f != Unit).ToArray();
    }

    private static void Overlay(FlashImage image, long baseAddress, AddressRange region, byte[] desired)
    {
        foreach (ImageSegment segment in image.Segments)
        {
            long start = baseAddress + segment.Offset;
            if (region.Contains(start))
            {
                segment.Data.CopyTo(desired.AsSpan((int)(start - region.Start)));
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="image"/> at <paramref name="baseAddress"/> and verifies it. With the
    /// record switched on, a standing record is withdrawn before the first change and a new one is
    /// written once everything is programmed and verified.
    /// </summary>
    public WriteOutcome Write(FlashImage image, long baseAddress, bool dryRun = false, bool unprotect = false, bool fullCompare = false) =>
        WriteCore(image, baseAddress, dryRun, unprotect, fullCompare, keepRecord: true);

    private WriteOutcome WriteCore(FlashImage image, long baseAddress, bool dryRun, bool unprotect, bool fullCompare, bool keepRecord)
    {
        (WritePlan plan, FlashRecordArea? area) = PlanWrite(image, baseAddress, fullCompare, keepRecord);
        FlashRecord? next = null;
        string? note = null;
        if (keepRecord && area is not null)
        {
            next = FlashRecord.Describe(Unit, image.DataLength, plan.Regions.Select(r => (r.Region, r.Desired.ToArray())).ToList());
            if (next.Length > area.Range.Length)
            {
                note = $"no flash record kept: the record of this image ({next.Length} bytes) does not fit the record area {area.Range}";
                next = null;
            }
            else if (plan.IsEmpty && area.Current is FlashRecord standing && Describes(standing, next))
            {
                next = null; // the standing record already says so
            }
        }

        bool changes = !plan.IsEmpty || next is not null;
        var touched = plan.TouchedRanges().ToList();
        FlashRecordArea? earlier = changes ? EarlierRecord(area, touched) : null;
        if (area is not null && changes && (next is not null || area.Current is not null))
        {
            touched.Add(area.Range);
        }

        if (earlier is not null)
        {
            touched.Add(earlier.Range);
        }

        ProtectionState protection = _flash.ReadProtection();
        AddressRange conflict = touched.FirstOrDefault(r => r.Overlaps(protection.Range));
        bool conflicting = !conflict.IsEmpty;
        if (dryRun)
        {
            return new WriteOutcome { Plan = plan, DryRun = true, Protection = protection, ProtectionConflict = conflicting, RecordNote = note };
        }

        bool cleared = ResolveProtection(protection, conflicting, unprotect,
            area is not null && conflict == area.Range ? $"the flash record (see --record-area, --no-record) changes {area.Range}" : $"the image changes {conflict}");
        if (changes)
        {
            // From here until the new record is in place, no record claims what the part holds.
            area?.Invalidate();
            earlier?.Invalidate();
        }

        int retried = Execute(plan.Regions, "verify after programming");
        long? recordAddress = null;
        if (next is not null)
        {
            _progress.Begin(FlashPhase.Program, next.Length);
            recordAddress = area!.Append(next, _advance);
            _progress.End();
        }

        return new WriteOutcome
        {
            Plan = plan,
            DryRun = false,
            Protection = protection,
            ProtectionConflict = conflicting,
            ProtectionCleared = cleared,
            RetriedRanges = retried,
            RecordAddress = recordAddress,
            RecordNote = note,
        };
    }

    /// <summary>
    /// The area of <see cref="FlashRecordSettings.WithdrawFrom"/> when a record stands there that
    /// this run does not keep; null if there is none, if it is this run's own area, or if the plan
    /// (<paramref name="planned"/>) rewrites that area anyway.
    /// </summary>
    private FlashRecordArea? EarlierRecord(FlashRecordArea? area, IReadOnlyList<AddressRange> planned)
    {
        if (Record.WithdrawFrom is not { Enabled: true } other)
        {
            return null;
        }

        AddressRange range = other.AreaOn(Part, Unit);
        if ((area is not null && area.Range.Overlaps(range)) || planned.Any(r => r.Overlaps(range)))
        {
            return null;
        }

        var earlier = new FlashRecordArea(_flash, range);
        return earlier.Scan() is null ? null : earlier;
    }

    /// <summary>Whether <paramref name="standing"/> records every sector of <paramref name="wanted"/> with the same hash.</summary>
    private static bool Describes(FlashRecord standing, FlashRecord wanted) =>
        standing.SectorSize == wanted.SectorSize && wanted.Regions.All(r =>
        {
            for (long a = r.Start; a < r.End; a += wanted.SectorSize)
            {
                if (standing.HashAt(a) is not byte[] hash || !hash.AsSpan().SequenceEqual(wanted.HashAt(a)))
                {
                    return false;
                }
            }

            return true;
        });

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
        // An erase withdraws the flash record like any write but keeps none of its own.
        return WriteCore(new FlashImage("erase", ImageFormat.Raw, [new ImageSegment(0, blank)]), range.Start,
            dryRun: false, unprotect, fullCompare: true, keepRecord: false);
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
