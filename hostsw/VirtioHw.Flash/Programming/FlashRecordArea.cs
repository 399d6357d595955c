namespace VirtioHw.Flash;

/// <summary>
/// The reserved area that holds <see cref="FlashRecord"/>s, written append-only: each record is
/// programmed into erased space after the last one, on a page boundary, and the area is erased
/// only when the next record does not fit (or the area holds something that is not a record).
/// Only the last record in the area counts, and only while it is committed and not withdrawn.
/// </summary>
public sealed class FlashRecordArea
{
    private readonly SpiNorFlash _flash;
    private long? _appendAt;

    public FlashRecordArea(SpiNorFlash flash, AddressRange range)
    {
        ArgumentNullException.ThrowIfNull(flash);
        _flash = flash;
        Range = range;
    }

    public AddressRange Range { get; }

    /// <summary>The standing record found by <see cref="Scan"/>, or null.</summary>
    public FlashRecord? Current { get; private set; }

    /// <summary>Where <see cref="Current"/> starts.</summary>
    public long CurrentAddress { get; private set; } = -1;

    /// <summary>Bytes read to find the record (for progress).</summary>
    public long BytesRead { get; private set; }

    private int PageSize => _flash.Part.PageSize;

    /// <summary>
    /// Walks the record headers from the start of the area to the first erased page; the last
    /// record met is read whole and is <see cref="Current"/> if it is intact and not withdrawn.
    /// </summary>
    public FlashRecord? Scan(Action<int>? progress = null)
    {
        Current = null;
        CurrentAddress = -1;
        _appendAt = null;
        long offset = 0, last = -1;
        int lastLength = 0;
        byte[] header = new byte[FlashRecord.HeaderLength];
        while (true)
        {
            if (offset + header.Length > Range.Length)
            {
                break; // full: the next record needs an erase
            }

            Read(Range.Start + offset, header, progress);
            if (!header.AsSpan().ContainsAnyExcept((byte)0xff))
            {
                _appendAt = Range.Start + offset;
                break;
            }

            if (FlashRecord.AnnouncedLength(header) is not int length || offset + length > Range.Length)
            {
                // Not a record (a cut write, or data from elsewhere): nothing here is trusted,
                // and the next record starts from an erased area.
                return null;
            }

            last = offset;
            lastLength = length;
            offset += (length + PageSize - 1) / PageSize * PageSize;
        }

        if (last < 0)
        {
            return null;
        }

        byte[] record = new byte[lastLength];
        Read(Range.Start + last, record, progress);
        Current = FlashRecord.Parse(record);
        CurrentAddress = Current is null ? -1 : Range.Start + last;
        return Current;
    }

    /// <summary>Withdraws the current record without an erase: its withdrawn flag is programmed 0xff -> 0x00.</summary>
    public void Invalidate()
    {
        if (Current is null)
        {
            return;
        }

        _flash.ProgramPage(CurrentAddress + FlashRecord.FlagOffset, [0x00]);
        Current = null;
        CurrentAddress = -1;
    }

    /// <summary>
    /// Programs <paramref name="record"/> after the last one (erasing the area first if it does not
    /// fit there) and reads it back. Returns its address.
    /// </summary>
    public long Append(FlashRecord record, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        byte[] bytes = record.ToBytes();
        if (bytes.Length > Range.Length)
        {
            throw new FlashException($"the flash record of this image ({bytes.Length} bytes) does not fit the record area {Range}");
        }

        long at = _appendAt is long next && next + bytes.Length <= Range.End ? next : EraseArea();
        if (!ProgramAndCheck(at, bytes, progress))
        {
            // Space that read erased at its first bytes may hold the rest of a cut write: once
            // more into a freshly erased area.
            at = EraseArea();
            if (!ProgramAndCheck(at, bytes, progress))
            {
                _appendAt = null;
                throw new FlashVerifyException(
                    $"the image was written and verified, but the flash record at 0x{at:x6} did not read back right; the next run compares the whole range");
            }
        }

        _appendAt = at + ((bytes.Length + PageSize - 1) / PageSize * PageSize);
        Current = record;
        CurrentAddress = at;
        return at;
    }

    private bool ProgramAndCheck(long at, byte[] bytes, Action<int>? progress)
    {
        for (int offset = 0; offset < bytes.Length;)
        {
            int n = Math.Min(bytes.Length - offset, PageSize - (int)((at + offset) % PageSize));
            _flash.ProgramPage(at + offset, bytes.AsSpan(offset, n));
            offset += n;
            progress?.Invoke(n);
        }

        byte[] back = new byte[bytes.Length];
        _flash.Read(at, back);
        if (back.AsSpan().SequenceEqual(bytes))
        {
            // Whole and right: only now does it count.
            _flash.ProgramPage(at + FlashRecord.CommitOffset, [0x00]);
            byte[] commit = new byte[1];
            _flash.Read(at + FlashRecord.CommitOffset, commit);
            if (commit[0] == 0x00)
            {
                return true;
            }
        }

        // A record that does not read back right must not be trusted by the next run.
        _flash.ProgramPage(at + FlashRecord.FlagOffset, [0x00]);
        return false;
    }

    private long EraseArea()
    {
        long address = Range.Start;
        while (address < Range.End)
        {
            EraseType type = _flash.UsableEraseTypes.Last(t => address % t.Size == 0 && address + t.Size <= Range.End);
            _flash.Erase(address, type);
            address += type.Size;
        }

        return Range.Start;
    }

    private void Read(long address, byte[] into, Action<int>? progress)
    {
        _flash.Read(address, into, progress);
        BytesRead += into.Length;
    }
}
