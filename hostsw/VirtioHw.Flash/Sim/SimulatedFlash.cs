using System.Diagnostics.CodeAnalysis;
using static VirtioHw.Flash.SpiNorOpcodes;

namespace VirtioHw.Flash;

/// <summary>Kinds of internal operation that keep the model busy (status bit 0 set).</summary>
public enum SimOperationKind
{
    PageProgram,
    SectorErase,
    BlockErase32K,
    BlockErase64K,
    ChipErase,
    WriteStatus,
}

/// <summary>One busy operation the model started: what, where, when (model time).</summary>
public sealed record SimOperation(SimOperationKind Kind, long Address, int Length, TimeSpan Start, TimeSpan Duration);

/// <summary>Raised by the model's bus once simulated power is gone, until <see cref="SimulatedFlash.RestorePower"/>.</summary>
public sealed class SimulatedPowerLossException : FlashException
{
    public SimulatedPowerLossException(long busBytes)
        : base($"simulated power loss after {busBytes} bus bytes") => BusBytes = busBytes;

    public SimulatedPowerLossException() : this(0) { }

    public SimulatedPowerLossException(string message) : base(message) { }

    public SimulatedPowerLossException(string message, Exception inner) : base(message, inner) { }

    public long BusBytes { get; }
}

/// <summary>
/// A W25Q..JV-class SPI NOR flash at the byte level, as its datasheet describes it: status
/// registers 1-3 (BUSY, WEL, BP/TB/SEC/SRP, SRL/QE/CMP, ADS/ADP), write-enable rules, page program
/// that wraps inside its page and only clears bits, 4/32/64 KiB and chip erase, JEDEC ID, SFDP,
/// read and fast read with 3- or 4-byte addresses, power-down, software reset, and busy times.
/// </summary>
/// <remarks>
/// Commands that change the array act on the rising edge of chip select and then keep the part
/// busy for the datasheet's typical time times <see cref="TimeScale"/>; their effect lands when
/// the time is up. Power can be cut after a number of bus bytes or part-way through an operation;
/// the array then holds what a real part would: a prefix of the page programmed, a prefix of the
/// block erased. The model counts bus bytes so benchmarks can relate bus traffic to data written.
/// </remarks>
public sealed class SimulatedFlash
{
    // Status register 1 (W25Q): BUSY, WEL, then the protection bits and SRP.
    private const byte Sr1Busy = 0x01;
    private const byte Sr1Wel = 0x02;
    private const byte Sr1Srp = 0x80;
    private const byte Sr1Writable = 0xfc;

    // Status register 2: SRL (bit 0), QE (1), LB1-3 (3-5, one-time), CMP (6).
    private const byte Sr2Srl = 0x01;
    private const byte Sr2Writable = 0x43;
    private const byte Sr2OneTime = 0x38;

    // Status register 3: ADS (bit 0, current address mode), ADP (1, power-up mode), DRV (5-6).
    private const byte Sr3Ads = 0x01;
    private const byte Sr3Adp = 0x02;
    private const byte Sr3Writable = 0x62;

    private readonly byte[] _memory;
    private readonly byte[] _sfdp;
    private readonly byte[] _pageBuffer;
    private readonly bool[] _pageWritten;
    private readonly List<int> _pageOrder = [];
    private readonly List<SimOperation> _operations = [];
    private readonly Dictionary<long, (byte Mask, int Remaining)> _readFaults = [];
    private readonly List<long> _transactionEnds = [];

    private byte _sr1;
    private byte _sr2;
    private byte _sr3;
    private bool _wel;
    private bool _fourByteMode;
    private bool _poweredDown;
    private bool _poweredOff;
    private bool _resetEnabled;
    private long _readyAtNs;

    private Pending? _pending;

    // State of the command in the current chip-select period.
    private bool _selected;
    private bool _byteOpen;
    private int _opcode = -1;
    private int _index;
    private int _addressBytes;
    private long _address;
    private bool _ignored;
    private bool _overrun;
    private int _dataCount;
    private byte _statusByte0;
    private byte _statusByte1;

    private long? _powerLossAtBusBytes;
    private (int Operation, double Fraction)? _powerLossInOperation;

    public SimulatedFlash(SimulatedChipSpec spec, SimClock? clock = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        Clock = clock ?? new SimClock();
        _memory = new byte[spec.Part.Size];
        _memory.AsSpan().Fill(0xff);
        _sfdp = SfdpImage.Build(spec);
        _pageBuffer = new byte[spec.Part.PageSize];
        _pageWritten = new bool[spec.Part.PageSize];
        PowerUp();
    }

    public SimulatedChipSpec Spec { get; }

    public FlashPart Part => Spec.Part;

    public SimClock Clock { get; }

    /// <summary>Multiplies every busy time; 0 makes operations finish at once.</summary>
    public double TimeScale { get; set; } = 1.0;

    /// <summary>Bus clock the model's time advances at per byte.</summary>
    public int BusClockHz { get; set; } = 10_000_000;

    /// <summary>Level of the /WP pin: with SRP set, a low pin blocks status register writes.</summary>
    public bool WriteProtectPinHigh { get; set; } = true;

    /// <summary>Bytes clocked over the bus in either direction (one count per byte period).</summary>
    public long BusBytes { get; private set; }

    /// <summary>Chip-select periods seen.</summary>
    public long Transactions { get; private set; }

    /// <summary>Data bytes committed by page programs that completed.</summary>
    public long ProgrammedBytes { get; private set; }

    /// <summary>Whether to record <see cref="TransactionEnds"/> (off by default: it grows with every command).</summary>
    public bool TraceTransactions { get; set; }

    /// <summary>The <see cref="BusBytes"/> count at each rise of chip select, when traced: the command boundaries.</summary>
    public IReadOnlyList<long> TransactionEnds => _transactionEnds;

    /// <summary>Busy operations started, in order.</summary>
    public IReadOnlyList<SimOperation> Operations => _operations;

    public bool IsPoweredOff => _poweredOff;

    public bool IsBusy
    {
        get
        {
            Settle();
            return _pending is not null;
        }
    }

    /// <summary>The array as it is at the model's current time (what a perfect read would return).</summary>
    public ReadOnlySpan<byte> Contents
    {
        get
        {
            Settle();
            return _memory;
        }
    }

    public byte StatusRegister1
    {
        get
        {
            Settle();
            return (byte)((_sr1 & Sr1Writable) | (_wel ? Sr1Wel : 0) | (_pending is null ? 0 : Sr1Busy));
        }
    }

    public byte StatusRegister2 => _sr2;

    public byte StatusRegister3 => (byte)((_sr3 & ~Sr3Ads) | (_fourByteMode ? Sr3Ads : 0));

    public bool IsInFourByteMode => _fourByteMode;

    public bool IsPoweredDown => _poweredDown;

    /// <summary>Sets array bytes directly, as if programmed at the factory (no bus traffic, no time).</summary>
    public void Load(long address, ReadOnlySpan<byte> data)
    {
        if (address < 0 || address + data.Length > _memory.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(address), "data does not fit in the part");
        }

        data.CopyTo(_memory.AsSpan((int)address));
    }

    /// <summary>Sets the non-volatile status bits directly (protection set up by a previous owner).</summary>
    public void SetStatusRegisters(byte status1, byte status2 = 0)
    {
        _sr1 = (byte)(status1 & Sr1Writable);
        _sr2 = (byte)(status2 & (Sr2Writable | Sr2OneTime));
    }

    /// <summary>Cuts power once <paramref name="busBytes"/> bytes have crossed the bus.</summary>
    public void SchedulePowerLossAfterBusBytes(long busBytes) => _powerLossAtBusBytes = busBytes;

    /// <summary>
    /// Cuts power when busy operation number <paramref name="operation"/> (0 is the first started
    /// from now on, counting <see cref="Operations"/>) is <paramref name="fraction"/> done.
    /// </summary>
    public void SchedulePowerLossDuringOperation(int operation, double fraction)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(operation);
        ArgumentOutOfRangeException.ThrowIfLessThan(fraction, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fraction, 1.0);
        _powerLossInOperation = (_operations.Count + operation, fraction);
    }

    /// <summary>XORs <paramref name="mask"/> into the byte at <paramref name="address"/> on its next <paramref name="times"/> reads.</summary>
    public void CorruptReads(long address, byte mask, int times = int.MaxValue) => _readFaults[address] = (mask, times);

    /// <summary>Powers the part up again: the array and non-volatile bits stay, volatile state resets.</summary>
    public void RestorePower()
    {
        _poweredOff = false;
        _powerLossAtBusBytes = null;
        _powerLossInOperation = null;
        PowerUp();
    }

    /// <summary>Chip select falls: a new command begins.</summary>
    public void Select()
    {
        if (_poweredOff)
        {
            return;
        }

        _selected = true;
        _byteOpen = false;
        _opcode = -1;
        _index = 0;
        _address = 0;
        _ignored = false;
        _overrun = false;
        _dataCount = 0;
    }

    /// <summary>One byte period: <paramref name="mosi"/> in, the returned byte out.</summary>
    public byte Exchange(byte mosi)
    {
        byte miso = BeginByte();
        EndByte(mosi);
        return miso;
    }

    /// <summary>
    /// The first half of a byte period, for a bus that moves single bits: the byte the part shifts
    /// out while the host's byte comes in. What the part sends never depends on the byte arriving
    /// at the same time, so it is known at the byte's first clock edge; <see cref="EndByte"/> then
    /// takes the host's byte once its eighth bit is in. Chip select rising in between drops the
    /// partial byte, and a write command cut that way is not executed, as on the real part.
    /// </summary>
    public byte BeginByte()
    {
        if (_poweredOff)
        {
            ThrowPowerLoss(BusBytes);
        }

        if (_powerLossAtBusBytes is long limit && BusBytes >= limit)
        {
            CutPower();
            ThrowPowerLoss(BusBytes);
        }

        BusBytes++;
        Clock.AdvanceNanoseconds(8_000_000_000L / BusClockHz);
        Settle();
        if (!_selected)
        {
            return 0xff;
        }

        _byteOpen = true;
        return _opcode < 0 || _ignored ? (byte)0xff : OutputByte(_index);
    }

    /// <summary>
    /// The byte the part has ready for the next byte period, without starting it: a part shifts a
    /// byte's first bit out before the host's first clock edge of that byte, so a host that samples
    /// MISO before that edge (a bit-banged mode 0 master) sees it. <see cref="BeginByte"/> then
    /// returns the same byte when the edge comes.
    /// </summary>
    public byte PeekByte()
    {
        if (_poweredOff || !_selected)
        {
            return 0xff;
        }

        Settle();
        return _opcode < 0 || _ignored ? (byte)0xff : OutputByte(_index);
    }

    /// <summary>The second half of a byte period: the host's byte, all eight bits of it, reaches the part.</summary>
    public void EndByte(byte mosi)
    {
        if (!_selected || _poweredOff)
        {
            return;
        }

        _byteOpen = false;
        if (_opcode < 0)
        {
            BeginCommand(mosi);
            return;
        }

        if (!_ignored)
        {
            InputByte(_index, mosi);
        }

        _index++;
    }

    /// <summary>Chip select rises: commands that change state take effect now.</summary>
    public void Deselect()
    {
        if (_poweredOff || !_selected)
        {
            return;
        }

        _selected = false;
        bool partialByte = _byteOpen;
        _byteOpen = false;
        Transactions++;
        if (TraceTransactions)
        {
            _transactionEnds.Add(BusBytes);
        }

        Settle();
        int opcode = _opcode;
        bool resetWasEnabled = _resetEnabled;
        _resetEnabled = false;
        if (opcode < 0 || _ignored || _overrun || partialByte)
        {
            return;
        }

        switch (opcode)
        {
            case WriteEnable when _index == 0:
                _wel = true;
                break;
            case WriteDisable when _index == 0:
                _wel = false;
                break;
            case WriteStatus1 or WriteStatus2 or WriteStatus3 when _dataCount > 0:
                StartWriteStatus(opcode);
                break;
            case PageProgram or PageProgram4Byte when _dataCount > 0 && _index >= _addressBytes:
                StartPageProgram();
                break;
            case SectorErase or SectorErase4Byte or BlockErase32K or BlockErase64K or BlockErase64K4Byte
                when _index == _addressBytes:
                StartErase(opcode);
                break;
            case ChipErase or ChipEraseAlternate when _index == 0:
                StartChipErase();
                break;
            case PowerDown when _index == 0:
                _poweredDown = true;
                _readyAtNs = Clock.Nanoseconds + Ns(Spec.PowerDownTime);
                break;
            case ReleasePowerDown:
                _poweredDown = false;
                _readyAtNs = Clock.Nanoseconds + Ns(Spec.ReleasePowerDownTime);
                break;
            case EnterFourByteMode when _index == 0 && Spec.HasFourByteAddressing:
                _fourByteMode = true;
                break;
            case ExitFourByteMode when _index == 0 && Spec.HasFourByteAddressing:
                _fourByteMode = false;
                break;
            case ResetEnable when _index == 0:
                _resetEnabled = true;
                break;
            case Reset when _index == 0 && resetWasEnabled:
                SoftwareReset();
                break;
        }
    }

    [DoesNotReturn]
    private static void ThrowPowerLoss(long busBytes) => throw new SimulatedPowerLossException(busBytes);

    private static long Ns(TimeSpan t) => t.Ticks * 100;

    private long ScaledNs(TimeSpan t) => (long)(Ns(t) * TimeScale);

    private void PowerUp()
    {
        _pending = null;
        _wel = false;
        _poweredDown = false;
        _resetEnabled = false;
        _selected = false;
        _fourByteMode = Spec.HasFourByteAddressing && (_sr3 & Sr3Adp) != 0;
        _readyAtNs = Clock.Nanoseconds;
    }

    private void SoftwareReset()
    {
        // A reset ends any operation where it stands, like a power cut, then restores power-up state.
        AbortPending();
        PowerUp();
        _readyAtNs = Clock.Nanoseconds + Ns(Spec.ResetTime);
    }

    private void CutPower()
    {
        AbortPending();
        PowerUp();
        _poweredOff = true;
    }

    private void AbortPending()
    {
        if (_pending is Pending p)
        {
            double done = p.EndNs <= p.StartNs ? 1.0 : (Clock.Nanoseconds - p.StartNs) / (double)(p.EndNs - p.StartNs);
            p.Apply(Math.Clamp(done, 0.0, 1.0));
            _pending = null;
        }
    }

    /// <summary>Completes the busy operation if its time is up.</summary>
    private void Settle()
    {
        if (_pending is Pending p && Clock.Nanoseconds >= p.EndNs)
        {
            _pending = null;
            p.Apply(1.0);
            _wel = false;
        }
    }

    private int AddressLengthFor(int opcode) => opcode switch
    {
        Read or FastRead or PageProgram or SectorErase or BlockErase32K or BlockErase64K => _fourByteMode ? 4 : 3,
        Read4Byte or FastRead4Byte or PageProgram4Byte or SectorErase4Byte or BlockErase64K4Byte
            when Spec.HasFourByteAddressing => 4,
        ReadSfdp => 3,
        _ => 0,
    };

    private void BeginCommand(byte opcode)
    {
        _opcode = opcode;
        _addressBytes = AddressLengthFor(opcode);
        bool statusRead = opcode is ReadStatus1 or ReadStatus2 or ReadStatus3;
        if (!IsKnownOpcode(opcode))
        {
            _ignored = true;
        }
        else if (_poweredDown)
        {
            // In power-down only the release command is decoded.
            _ignored = opcode != ReleasePowerDown;
        }
        else if (Clock.Nanoseconds < _readyAtNs)
        {
            _ignored = true;
        }
        else if (_pending is not null)
        {
            // While busy the part answers status reads and the reset pair, nothing else.
            _ignored = !statusRead && opcode is not (ResetEnable or Reset);
        }
    }

    private bool IsKnownOpcode(byte opcode) => opcode switch
    {
        ReadStatus1 or ReadStatus2 or ReadStatus3 or ReadJedecId or ReleasePowerDown or ReadSfdp
            or Read or FastRead or PageProgram or SectorErase or BlockErase32K or BlockErase64K
            or ChipErase or ChipEraseAlternate or WriteEnable or WriteDisable
            or WriteStatus1 or WriteStatus2 or WriteStatus3 or PowerDown or ResetEnable or Reset => true,
        Read4Byte or FastRead4Byte or PageProgram4Byte or SectorErase4Byte or BlockErase64K4Byte
            or EnterFourByteMode or ExitFourByteMode => Spec.HasFourByteAddressing,
        _ => false,
    };

    // What the part drives in byte period i of the command (i = 0 is the first byte after the opcode).
    private byte OutputByte(int i) => _opcode switch
    {
        ReadStatus1 => StatusRegister1,
        ReadStatus2 => StatusRegister2,
        ReadStatus3 => StatusRegister3,
        ReadJedecId => (byte)(Part.JedecId >> (8 * (2 - (i % 3)))),
        ReleasePowerDown => i < 3 ? (byte)0xff : Spec.DeviceId,
        ReadSfdp => i <= 3 ? (byte)0xff : SfdpByte(_address + (i - 4)),
        Read or Read4Byte => i < _addressBytes ? (byte)0xff : ReadArray(i - _addressBytes),
        FastRead or FastRead4Byte => i <= _addressBytes ? (byte)0xff : ReadArray(i - _addressBytes - 1),
        _ => 0xff,
    };

    // What the part does with the host's byte of period i.
    private void InputByte(int i, byte mosi)
    {
        switch (_opcode)
        {
            case ReadStatus1 or ReadStatus2 or ReadStatus3 or ReadJedecId or ReleasePowerDown:
                break;
            case ReadSfdp:
                if (i < 3)
                {
                    ShiftAddress(mosi);
                }

                break;
            case Read or Read4Byte or FastRead or FastRead4Byte:
                if (i < _addressBytes)
                {
                    ShiftAddress(mosi);
                }

                break;
            case PageProgram or PageProgram4Byte:
                if (i < _addressBytes)
                {
                    ShiftAddress(mosi);
                    if (i == _addressBytes - 1)
                    {
                        Array.Clear(_pageWritten);
                        _pageOrder.Clear();
                    }
                }
                else
                {
                    BufferProgramByte(i - _addressBytes, mosi);
                }

                break;
            case SectorErase or SectorErase4Byte or BlockErase32K or BlockErase64K or BlockErase64K4Byte:
                if (i < _addressBytes)
                {
                    ShiftAddress(mosi);
                }
                else
                {
                    // A byte past the address means chip select did not rise in time: no erase.
                    _overrun = true;
                }

                break;
            case WriteStatus1 or WriteStatus2 or WriteStatus3:
                if (i == 0)
                {
                    _statusByte0 = mosi;
                }
                else if (i == 1 && _opcode == WriteStatus1)
                {
                    _statusByte1 = mosi;
                }
                else
                {
                    _overrun = true;
                }

                _dataCount = i + 1;
                break;
            default:
                // A single-byte command followed by more bytes is not executed.
                _overrun = true;
                break;
        }
    }

    private void ShiftAddress(byte b) => _address = (_address << 8) | b;

    private byte SfdpByte(long offset) => offset < _sfdp.Length ? _sfdp[offset] : (byte)0xff;

    private byte ReadArray(int offset)
    {
        // Continuous read wraps at the end of the array.
        long a = (_address + offset) % _memory.Length;
        byte value = _memory[a];
        if (_readFaults.Count > 0 && _readFaults.TryGetValue(a, out var fault) && fault.Remaining > 0)
        {
            value ^= fault.Mask;
            _readFaults[a] = (fault.Mask, fault.Remaining - 1);
        }

        return value;
    }

    private void BufferProgramByte(int dataIndex, byte value)
    {
        // Data past the end of the page wraps to its start and replaces what was sent there.
        int pageSize = Part.PageSize;
        int column = (int)((_address + dataIndex) % pageSize);
        if (!_pageWritten[column])
        {
            _pageWritten[column] = true;
            _pageOrder.Add(column);
        }

        _pageBuffer[column] = value;
        _dataCount = Math.Min(dataIndex + 1, pageSize);
    }

    private AddressRange ProtectedRange() => Part.Protection.Decode(_sr1, _sr2, Part.Size);

    private long MaskAddress(long address) => address % _memory.Length;

    private void StartPageProgram()
    {
        if (!_wel)
        {
            return;
        }

        long pageBase = MaskAddress(_address) / Part.PageSize * Part.PageSize;
        if (ProtectedRange().Overlaps(new AddressRange(pageBase, Part.PageSize)))
        {
            return;
        }

        int[] columns = [.. _pageOrder];
        byte[] data = (byte[])_pageBuffer.Clone();
        StartOperation(SimOperationKind.PageProgram, pageBase + columns.Min(), columns.Length,
            Part.Timing.PageProgramTypical, fraction =>
            {
                // Cells are programmed in the order the bytes arrived; a cut leaves a prefix done.
                int done = (int)Math.Floor(fraction * columns.Length);
                for (int k = 0; k < done; k++)
                {
                    _memory[pageBase + columns[k]] &= data[columns[k]];
                }

                if (fraction >= 1.0)
                {
                    ProgrammedBytes += columns.Length;
                }
            });
    }

    private void StartErase(int opcode)
    {
        if (!_wel)
        {
            return;
        }

        int size = opcode switch
        {
            SectorErase or SectorErase4Byte => 4096,
            BlockErase32K => 32768,
            _ => 65536,
        };
        EraseType type = Part.EraseTypes.First(e => e.Size == size);
        long start = MaskAddress(_address) / size * size;
        if (ProtectedRange().Overlaps(new AddressRange(start, size)))
        {
            return;
        }

        SimOperationKind kind = size switch
        {
            4096 => SimOperationKind.SectorErase,
            32768 => SimOperationKind.BlockErase32K,
            _ => SimOperationKind.BlockErase64K,
        };
        StartOperation(kind, start, size, type.Typical, fraction => EraseFraction(start, size, fraction));
    }

    private void StartChipErase()
    {
        if (!_wel || !ProtectedRange().IsEmpty)
        {
            return;
        }

        StartOperation(SimOperationKind.ChipErase, 0, _memory.Length, Part.Timing.ChipEraseTypical,
            fraction => EraseFraction(0, _memory.Length, fraction));
    }

    private void EraseFraction(long start, int length, double fraction)
    {
        // An interrupted erase leaves its first part erased and the rest as it was.
        int done = (int)Math.Floor(fraction * length);
        _memory.AsSpan((int)start, done).Fill(0xff);
    }

    private void StartWriteStatus(int opcode)
    {
        bool locked = (_sr2 & Sr2Srl) != 0 || ((_sr1 & Sr1Srp) != 0 && !WriteProtectPinHigh);
        if (!_wel || locked)
        {
            return;
        }

        byte first = _statusByte0;
        byte second = _statusByte1;
        int count = _dataCount;
        StartOperation(SimOperationKind.WriteStatus, 0, count, Spec.Part.Timing.WriteStatusTypical, fraction =>
        {
            // A cut non-volatile write keeps the old value.
            if (fraction < 1.0)
            {
                return;
            }

            switch (opcode)
            {
                case WriteStatus1:
                    _sr1 = (byte)(first & Sr1Writable);
                    if (count > 1)
                    {
                        StoreStatus2(second);
                    }

                    break;
                case WriteStatus2:
                    StoreStatus2(first);
                    break;
                default:
                    _sr3 = (byte)(first & Sr3Writable);
                    break;
            }
        });
    }

    private void StoreStatus2(byte value) =>
        _sr2 = (byte)((value & Sr2Writable) | (_sr2 & Sr2OneTime) | (value & Sr2OneTime));

    private void StartOperation(SimOperationKind kind, long address, int length, TimeSpan typical, Action<double> apply)
    {
        long start = Clock.Nanoseconds;
        long duration = ScaledNs(typical);
        int number = _operations.Count;
        _operations.Add(new SimOperation(kind, address, length, TimeSpan.FromTicks(start / 100), TimeSpan.FromTicks(duration / 100)));
        if (_powerLossInOperation is (int op, double fraction) && op == number)
        {
            // The cut lands part-way through: that much of the work is done, then nothing more.
            Clock.AdvanceNanoseconds((long)(duration * fraction));
            apply(fraction);
            CutPower();
            return;
        }

        _pending = new Pending(start, start + duration, apply);
    }

    private sealed record Pending(long StartNs, long EndNs, Action<double> Apply);
}
