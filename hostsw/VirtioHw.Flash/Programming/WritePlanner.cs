namespace VirtioHw.Flash;

/// <summary>
/// Decides what a write has to do, touching the part only to read: the erase units the image
/// reaches, planned from the flash record where one stands that covers them (see
/// <see cref="FlashRecordSettings"/>), otherwise from what the part holds.
/// </summary>
internal sealed class WritePlanner
{
    private readonly SpiNorFlash _flash;
    private readonly IFlashProgress _progress;
    private readonly Action<int> _advance;
    private readonly FlashRecordSettings _record;

    public WritePlanner(SpiNorFlash flash, IFlashProgress progress, FlashRecordSettings record)
    {
        _flash = flash;
        _progress = progress;
        _advance = n => progress.Advance(n);
        _record = record;
    }

    private FlashPart Part => _flash.Part;

    /// <summary>The smallest erase size: the unit plans, records and alignment work in.</summary>
    public int Unit => _flash.UsableEraseTypes[0].Size;

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
    /// Plans the write of <paramref name="image"/> at <paramref name="baseAddress"/>, and returns the
    /// record area it scanned (null with the record off). <paramref name="keepRecord"/> refuses an
    /// image that would overwrite the record area it is to be recorded in.
    /// </summary>
    public (WritePlan Plan, FlashRecordArea? Area) Plan(FlashImage image, long baseAddress, bool fullCompare, bool keepRecord)
    {
        CheckFits(image, baseAddress);
        List<AddressRange> regions = AddressRange.Coalesce(image.Segments.Select(s =>
            new AddressRange(baseAddress + s.Offset, s.Data.Length).AlignedTo(Unit)));

        FlashRecordArea? area = null;
        if (_record.Enabled)
        {
            area = new FlashRecordArea(_flash, _record.AreaOn(Part, Unit));
            AddressRange overlap = regions.FirstOrDefault(r => r.Overlaps(area.Range));
            if (keepRecord && !overlap.IsEmpty)
            {
                throw new FlashException(
                    $"image {image.Source} at offset 0x{baseAddress:x} covers {overlap}, which overlaps the flash record area {area.Range}; place the record elsewhere (--record-area) or switch it off (--no-record)");
            }

            area.Scan();
        }

        FlashRecord? record = area?.Current;
        string? refusal = !_record.Enabled ? _record.OffReason
            : fullCompare ? "a full compare was asked for"
            : record is null ? "no flash record stands"
            : record.SectorSize != Unit || regions.Any(r => !Covers(record, r)) ? "the flash record describes other addresses"
            : null;
        return refusal is null
            ? (FromRecord(image, baseAddress, regions, record!, area!.CurrentAddress), area)
            : (ByReading(image, baseAddress, regions, $"read and compared with the image ({refusal})"), area);
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

    private WritePlan ByReading(FlashImage image, long baseAddress, List<AddressRange> regions, string basis)
    {
        var plans = new List<FlashPlan>();
        _progress.Begin(FlashPhase.Read, regions.Sum(r => r.Length));
        foreach (AddressRange region in regions)
        {
            byte[] current = new byte[region.Length];
            _flash.Read(region.Start, current, _advance);
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
    private WritePlan FromRecord(FlashImage image, long baseAddress, List<AddressRange> regions, FlashRecord record, long recordAddress)
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
                long unitEnd = (a / Unit * Unit) + Unit;
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
}
