namespace VirtioHw.Flash;

/// <summary>
/// Puts images into flash with the least work and proves they arrived: a <see cref="WritePlanner"/>
/// decides what to change, protection and the flash record are settled here, and a
/// <see cref="PlanExecutor"/> erases, programs, verifies and retries.
/// </summary>
public sealed class FlashProgrammer
{
    private readonly SpiNorFlash _flash;
    private readonly IFlashProgress _progress;
    private readonly Action<int> _advance;
    private readonly WritePlanner _planner;
    private readonly PlanExecutor _executor;

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
        _planner = new WritePlanner(flash, _progress, Record);
        _executor = new PlanExecutor(flash, _progress, retries);
    }

    public FlashRecordSettings Record { get; }

    /// <summary>How many times a range that fails verify is planned and programmed again.</summary>
    public int Retries { get; }

    private FlashPart Part => _flash.Part;

    private int Unit => _planner.Unit;

    /// <summary>Refuses an image that does not fit before the flash is touched.</summary>
    public void CheckFits(FlashImage image, long baseAddress) => _planner.CheckFits(image, baseAddress);

    /// <summary>
    /// Plans the write: from the flash record if one stands that covers every sector of the image
    /// (unless <paramref name="fullCompare"/>), otherwise by reading what the image's regions hold.
    /// </summary>
    public WritePlan Plan(FlashImage image, long baseAddress, bool fullCompare = false) =>
        _planner.Plan(image, baseAddress, fullCompare, keepRecord: true).Plan;

    /// <summary>
    /// Writes <paramref name="image"/> at <paramref name="baseAddress"/> and verifies it. With the
    /// record switched on, a standing record is withdrawn before the first change and a new one is
    /// written once everything is programmed and verified.
    /// </summary>
    public WriteOutcome Write(FlashImage image, long baseAddress, WriteOptions? options = null) =>
        Apply(image, baseAddress, options ?? WriteOptions.Default, keepRecord: true);

    private WriteOutcome Apply(FlashImage image, long baseAddress, WriteOptions options, bool keepRecord)
    {
        (WritePlan plan, FlashRecordArea? area) = _planner.Plan(image, baseAddress, options.FullCompare, keepRecord);
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
        if (options.DryRun)
        {
            return new WriteOutcome { Plan = plan, DryRun = true, Protection = protection, ProtectionConflict = conflicting, RecordNote = note };
        }

        bool cleared = ResolveProtection(protection, conflicting, options.Unprotect,
            area is not null && conflict == area.Range ? $"the flash record (see --record-area, --no-record) changes {area.Range}" : $"the image changes {conflict}");
        if (changes)
        {
            // From here until the new record is in place, no record claims what the part holds.
            area?.Invalidate();
            earlier?.Invalidate();
        }

        int retried = _executor.Run(plan.Regions, "verify after programming");
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
            _executor.ThrowMismatches(failures, _ => 0xff, "erase verify");
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
        return Apply(new FlashImage("erase", ImageFormat.Raw, [new ImageSegment(0, blank)]), range.Start,
            new WriteOptions { Unprotect = unprotect, FullCompare = true }, keepRecord: false);
    }

    /// <summary>Reads <paramref name="range"/> with progress.</summary>
    public byte[] Read(AddressRange range)
    {
        if (range.Start < 0 || range.End > Part.Size || range.IsEmpty)
        {
            throw new FlashException($"the read range {range} is outside the {Units.Size(Part.Size)} {Part.Name}");
        }

        _progress.Begin(FlashPhase.Read, range.Length);
        byte[] data = _executor.Read(range, _advance);
        _progress.End();
        return data;
    }

    /// <summary>Compares the flash with the image; throws <see cref="FlashVerifyException"/> naming differing addresses.</summary>
    public void Verify(FlashImage image, long baseAddress)
    {
        _planner.CheckFits(image, baseAddress);
        _progress.Begin(FlashPhase.Verify, image.DataLength);
        var failures = new List<(AddressRange Range, byte[] Expected)>();
        foreach (ImageSegment segment in image.Segments)
        {
            var range = new AddressRange(baseAddress + segment.Offset, segment.Data.Length);
            byte[] actual = _executor.Read(range, _advance);
            if (!actual.AsSpan().SequenceEqual(segment.Data))
            {
                failures.Add((range, segment.Data));
            }
        }

        _progress.End();
        if (failures.Count > 0)
        {
            _executor.ThrowMismatches(failures.Select(f => f.Range).ToList(), a => ExpectedAt(failures, a), "verify");
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
}
