using System.Collections.Immutable;
using static VirtioHw.Flash.SpiNorOpcodes;

namespace VirtioHw.Flash;

/// <summary>
/// Commands for one identified SPI NOR part over a <see cref="SpiBus"/>: read, page program,
/// erase, status registers and block protection. Every change is followed by a busy poll with a
/// timeout derived from the datasheet maximum. The bus stays the caller's; disposing this leaves
/// 4-byte mode if <see cref="Open"/> entered it.
/// </summary>
public sealed class SpiNorFlash : IDisposable
{
    // Reads are split so progress moves and a transaction never grows without bound.
    private const int ReadChunk = 64 * 1024;

    private readonly SpiBus _bus;
    private bool _inFourByteMode;
    private bool _disposed;

    private SpiNorFlash(SpiBus bus, FlashPart part, int jedecId, SfdpInfo? sfdp)
    {
        _bus = bus;
        Part = part;
        JedecId = jedecId;
        Sfdp = sfdp;
        AddressBytes = part.Size > 16 * PartTable.MiB ? 4 : 3;
        UsableEraseTypes = part.Addressing == FourByteAddressing.DedicatedOpcodes
            ? [.. part.EraseTypes.Where(e => e.Opcode4Byte != 0)]
            : part.EraseTypes;
    }

    public FlashPart Part { get; }

    /// <summary>The JEDEC ID the part answered, as 0xMMTTCC.</summary>
    public int JedecId { get; }

    /// <summary>The part's SFDP table when it was read (parts not in the table, or on request).</summary>
    public SfdpInfo? Sfdp { get; }

    /// <summary>3, or 4 for parts above 16 MiB.</summary>
    public int AddressBytes { get; }

    /// <summary>Erase types that reach every address with the addressing in use, smallest first.</summary>
    public ImmutableArray<EraseType> UsableEraseTypes { get; }

    /// <summary>
    /// Wakes the part, lets any operation left running finish, resets it to its power-up state,
    /// reads its JEDEC ID and identifies it from the table or its SFDP table.
    /// </summary>
    public static SpiNorFlash Open(SpiBus bus, bool readSfdp = false)
    {
        ArgumentNullException.ThrowIfNull(bus);

        // A previous run may have left the part powered down, busy, or in 4-byte mode.
        bus.Command([ReleasePowerDown]);
        bus.Wait(TimeSpan.FromMicroseconds(50));
        byte status = ReadRegister(bus, ReadStatus1);
        if (status != 0xff && (status & StatusBusy) != 0)
        {
            WaitReady(bus, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(400), "an operation left running by an earlier run");
        }

        bus.Command([ResetEnable]);
        bus.Command([Reset]);
        bus.Wait(TimeSpan.FromMicroseconds(50));

        Span<byte> id = stackalloc byte[3];
        bus.CommandRead([ReadJedecId], id);
        int jedecId = (id[0] << 16) | (id[1] << 8) | id[2];
        if (jedecId is 0xffffff or 0x000000)
        {
            throw new FlashException(
                $"no flash answered on the SPI bus (JEDEC ID reads {id[0]:x2} {id[1]:x2} {id[2]:x2}): check power, wiring and that the FPGA is held in reset");
        }

        FlashPart? part = PartTable.Find(jedecId);
        SfdpInfo? sfdp = null;
        if (part is null || readSfdp)
        {
            try
            {
                sfdp = VirtioHw.Flash.Sfdp.Parse((address, destination) => ReadSfdpBytes(bus, address, destination));
                part ??= VirtioHw.Flash.Sfdp.ToPart(sfdp, jedecId);
            }
            catch (FlashException e) when (part is null)
            {
                throw new FlashException(
                    $"the flash with JEDEC ID {jedecId:x6} is not in the part table and its SFDP table cannot be used: {e.Message}", e);
            }
            catch (FlashException)
            {
                // A part the table knows needs no SFDP; a missing table only leaves it unreported.
                sfdp = null;
            }
        }

        // Without a table entry, the SFDP path above either produced a part or threw.
        var flash = new SpiNorFlash(bus, part!, jedecId, sfdp);
        flash.EnterAddressMode();
        return flash;
    }

    private static void ReadSfdpBytes(SpiBus bus, int address, Span<byte> destination)
    {
        ReadOnlySpan<byte> header = [ReadSfdp, (byte)(address >> 16), (byte)(address >> 8), (byte)address, 0];
        bus.CommandRead(header, destination);
    }

    private void EnterAddressMode()
    {
        if (Part.Addressing is FourByteAddressing.EnterMode or FourByteAddressing.EnterModeAfterWriteEnable)
        {
            if (Part.Addressing == FourByteAddressing.EnterModeAfterWriteEnable)
            {
                _bus.Command([WriteEnable]);
            }

            _bus.Command([EnterFourByteMode]);
            _inFourByteMode = true;
        }
    }

    private static byte ReadRegister(SpiBus bus, byte opcode)
    {
        Span<byte> value = stackalloc byte[1];
        bus.CommandRead([opcode], value);
        return value[0];
    }

    public byte ReadStatus(byte opcode = ReadStatus1) => ReadRegister(_bus, opcode);

    private int WriteHeader(Span<byte> header, byte opcode, long address, int dummyBytes)
    {
        header[0] = opcode;
        int n = 1;
        for (int shift = 8 * (AddressBytes - 1); shift >= 0; shift -= 8)
        {
            header[n++] = (byte)(address >> shift);
        }

        header.Slice(n, dummyBytes).Clear();
        return n + dummyBytes;
    }

    private bool UsesDedicatedOpcodes => AddressBytes == 4 && Part.Addressing == FourByteAddressing.DedicatedOpcodes;

    /// <summary>Reads <paramref name="destination"/>.Length bytes from <paramref name="address"/> with fast read.</summary>
    public void Read(long address, Span<byte> destination, Action<int>? progress = null)
    {
        CheckRange(address, destination.Length);
        byte opcode = UsesDedicatedOpcodes ? FastRead4Byte : FastRead;
        Span<byte> header = stackalloc byte[6];
        int chunkLimit = Math.Max(256, Math.Min(ReadChunk, _bus.MaxTransactionBytes - header.Length));
        while (!destination.IsEmpty)
        {
            int n = Math.Min(destination.Length, chunkLimit);
            int headerLength = WriteHeader(header, opcode, address, dummyBytes: 1);
            _bus.CommandRead(header[..headerLength], destination[..n]);
            destination = destination[n..];
            address += n;
            progress?.Invoke(n);
        }
    }

    /// <summary>Programs <paramref name="data"/> at <paramref name="address"/>; it must not cross a page boundary.</summary>
    public void ProgramPage(long address, ReadOnlySpan<byte> data)
    {
        CheckRange(address, data.Length);
        if (data.IsEmpty || (address % Part.PageSize) + data.Length > Part.PageSize)
        {
            throw new ArgumentException($"a page program of {data.Length} bytes at 0x{address:x} crosses a page boundary", nameof(data));
        }

        WriteEnableChecked();
        Span<byte> header = stackalloc byte[5];
        int headerLength = WriteHeader(header, UsesDedicatedOpcodes ? PageProgram4Byte : PageProgram, address, dummyBytes: 0);
        _bus.CommandWrite(header[..headerLength], data);
        WaitDone(Part.Timing.PageProgramTypical, Part.Timing.PageProgramMax, $"the page program at 0x{address:x6}");
    }

    /// <summary>Erases the block of <paramref name="type"/> that starts at <paramref name="address"/>.</summary>
    public void Erase(long address, EraseType type)
    {
        CheckRange(address, type.Size);
        if (address % type.Size != 0)
        {
            throw new ArgumentException($"an erase of {type.Size} bytes must start at a multiple of its size, not 0x{address:x}", nameof(address));
        }

        byte opcode = UsesDedicatedOpcodes ? type.Opcode4Byte : type.Opcode;
        if (opcode == 0)
        {
            throw new ArgumentException($"{Part.Name} has no {type.Size}-byte erase with a 4-byte address", nameof(type));
        }

        WriteEnableChecked();
        Span<byte> header = stackalloc byte[5];
        int headerLength = WriteHeader(header, opcode, address, dummyBytes: 0);
        _bus.Command(header[..headerLength]);
        WaitDone(type.Typical, type.Max, $"the {Units.Size(type.Size)} erase at 0x{address:x6}");
    }

    /// <summary>Erases the whole array.</summary>
    public void EraseChip()
    {
        WriteEnableChecked();
        _bus.Command([ChipErase]);
        WaitDone(Part.Timing.ChipEraseTypical, Part.Timing.ChipEraseMax, "the chip erase");
    }

    /// <summary>Status register values and the range they protect.</summary>
    public ProtectionState ReadProtection()
    {
        byte sr1 = ReadStatus(ReadStatus1);
        byte sr2 = Part.Protection.CmpBit is null ? (byte)0 : ReadStatus(ReadStatus2);
        return new ProtectionState(sr1, sr2, Part.Protection.Decode(sr1, sr2, Part.Size));
    }

    /// <summary>Clears the block-protect bits (and CMP) so the whole part is writable.</summary>
    public void ClearProtection()
    {
        ProtectionScheme scheme = Part.Protection;
        ProtectionState before = ReadProtection();
        byte mask = scheme.Status1ClearMask;
        if ((before.Status1 & mask) != 0)
        {
            WriteEnableChecked();
            byte value = (byte)(before.Status1 & ~mask & ~(StatusBusy | StatusWriteEnableLatch));
            _bus.CommandWrite([WriteStatus1], [value]);
            WaitDone(Part.Timing.WriteStatusTypical, Part.Timing.WriteStatusMax, "the write to status register 1 (it may be locked by SRP and /WP)");
        }

        if (scheme.CmpBit is int cmp && ((before.Status2 >> cmp) & 1) != 0)
        {
            WriteEnableChecked();
            _bus.CommandWrite([WriteStatus2], [(byte)(before.Status2 & ~(1 << cmp))]);
            WaitDone(Part.Timing.WriteStatusTypical, Part.Timing.WriteStatusMax, "the write to status register 2");
        }

        ProtectionState after = ReadProtection();
        if (!after.Range.IsEmpty || (after.Status1 & mask) != 0)
        {
            throw new FlashException(
                $"status register 1 still reads 0x{after.Status1:x2} after clearing its protection bits: it is locked (SRP set with /WP low, or SRL set)");
        }
    }

    private void WriteEnableChecked()
    {
        _bus.Command([WriteEnable]);
        byte status = ReadStatus(ReadStatus1);
        if ((status & StatusWriteEnableLatch) == 0 || status == 0xff)
        {
            throw new FlashException(
                $"the flash did not set its write-enable latch (status register 1 reads 0x{status:x2}): check /WP, /HOLD and the wiring");
        }
    }

    /// <summary>Polls until the operation ends, then checks the part did not ignore it.</summary>
    private void WaitDone(TimeSpan typical, TimeSpan max, string what)
    {
        // No poll before the typical time: it would find the part busy and only cost bus bytes.
        _bus.Wait(typical);
        byte status = WaitReady(_bus, typical, max, what);
        // A part that refuses a command (protected address, locked register) leaves the latch set.
        if ((status & StatusWriteEnableLatch) != 0)
        {
            _bus.Command([WriteDisable]);
            throw new FlashException($"the flash ignored {what}: the range is write-protected or the register is locked");
        }
    }

    private static byte WaitReady(SpiBus bus, TimeSpan typical, TimeSpan max, string what)
    {
        TimeProvider time = bus.Time;
        long start = time.GetTimestamp();
        // Poll about eight times per typical duration, within sane bounds for USB and spidev.
        TimeSpan interval = TimeSpan.FromTicks(Math.Clamp(typical.Ticks / 8, TimeSpan.FromMicroseconds(10).Ticks, TimeSpan.FromMilliseconds(5).Ticks));
        TimeSpan limit = (max * 2) + TimeSpan.FromMilliseconds(100);
        while (true)
        {
            byte status = ReadRegister(bus, ReadStatus1);
            if ((status & StatusBusy) == 0)
            {
                return status;
            }

            TimeSpan elapsed = time.GetElapsedTime(start);
            if (elapsed > limit)
            {
                throw new FlashException(
                    $"the flash stayed busy for {elapsed.TotalSeconds:0.###} s after {what} (datasheet maximum {max.TotalSeconds:0.###} s, status 0x{status:x2}): check its supply and wiring");
            }

            bus.Wait(interval);
        }
    }

    private void CheckRange(long address, long length)
    {
        if (address < 0 || length < 0 || address + length > Part.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(address),
                $"0x{address:x}+{length} is outside the {Units.Size(Part.Size)} part");
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_inFourByteMode)
        {
            return;
        }

        // Leave the part in the 3-byte mode an FPGA boots with. A bus that has already failed
        // (the reason this runs during unwinding) must not hide the original error.
        try
        {
            if (Part.Addressing == FourByteAddressing.EnterModeAfterWriteEnable)
            {
                _bus.Command([WriteEnable]);
            }

            _bus.Command([ExitFourByteMode]);
        }
        catch (FlashException)
        {
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Status register values and the range they protect.</summary>
public readonly record struct ProtectionState(byte Status1, byte Status2, AddressRange Range);
