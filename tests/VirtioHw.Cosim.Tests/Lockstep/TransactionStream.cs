using VirtioHw.Registers;

namespace VirtioHw.Cosim.Tests.Lockstep;

/// <summary>
/// The random transactions of one lockstep run, a function of the block and the seed only: bus
/// writes and reads of mapped words (any byte address in them) and of any address the bus can
/// carry, random data, strobes and handshake delays, and hardware-side actions on random fields,
/// between accesses and during them.
/// </summary>
internal sealed class TransactionStream
{
    private readonly BlockInfo _block;
    private readonly Random _rng;
    private readonly uint _addressSpace;
    private readonly List<(HwActionKind Kind, int Register, int Field)> _hwItems = [];

    public TransactionStream(BlockInfo block, int seed, int addressBits)
    {
        _block = block;
        _rng = new Random(seed);
        _addressSpace = addressBits >= 32 ? uint.MaxValue : 1u << addressBits;
        for (int r = 0; r < block.Registers.Count; r++)
        {
            RegisterInfo reg = block.Registers[r];
            if (reg.External) continue;
            for (int f = 0; f < reg.Fields.Count; f++)
            {
                FieldInfo field = reg.Fields[f];
                if (field.Hw is HwAccess.W or HwAccess.RW) _hwItems.Add((HwActionKind.Load, r, f));
                if (field.Has(FieldFlags.HwSet)) _hwItems.Add((HwActionKind.Set, r, f));
                if (field.Has(FieldFlags.HwClear)) _hwItems.Add((HwActionKind.Clear, r, f));
            }
        }
    }

    /// <summary>Cycles of an access in which its actions may be driven: before, in and after the clock it takes effect.</summary>
    public const int ActionCycles = 8;

    public Transaction Next(int number)
    {
        int roll = _rng.Next(100);
        if (_hwItems.Count > 0 && roll < 15) return new Transaction(number, TransactionKind.Hardware, 0, 0, 0, Actions(), -1);
        TransactionKind kind = roll < 58 ? TransactionKind.Write : TransactionKind.Read;
        uint offset = Offset();
        uint data = kind == TransactionKind.Write ? (uint)Data(32) : 0;
        byte strobe = kind == TransactionKind.Write ? Strobe() : (byte)0;
        bool during = _hwItems.Count > 0 && _rng.Next(100) < 25;
        AxiTiming timing = _rng.Next(100) < 30 ? new AxiTiming((byte)_rng.Next(4), (byte)_rng.Next(4), (byte)_rng.Next(4)) : default;
        return new Transaction(number, kind, offset, data, strobe, during ? Actions() : [], during ? _rng.Next(ActionCycles) : -1) { Timing = timing };
    }

    private uint Offset()
    {
        if (_rng.Next(100) < 15 || _block.Registers.Count == 0) return (uint)_rng.NextInt64(_addressSpace);
        RegisterInfo reg = _block.Registers[_rng.Next(_block.Registers.Count)];
        uint start = reg.ElementOffset(_rng.Next(reg.Count));
        uint word = (start & ~3u) + (reg.Width == 64 && _rng.Next(2) == 1 ? 4u : 0u);
        return word | (uint)_rng.Next(4);  // the low address bits select nothing; both sides must ignore them
    }

    private byte Strobe() => _rng.Next(10) switch
    {
        < 5 => 0xf,
        < 9 => (byte)_rng.Next(16),
        _ => (byte)(1 << _rng.Next(4)),
    };

    /// <summary>Random bits, all ones or zero: the extremes matter to woclr, woset and hwset.</summary>
    private ulong Data(int width)
    {
        ulong value = _rng.Next(8) switch
        {
            0 => 0,
            1 => ulong.MaxValue,
            2 => 1UL << _rng.Next(width),
            _ => (ulong)_rng.NextInt64() ^ ((ulong)_rng.Next() << 63),
        };
        return value & Bits.Ones(width);
    }

    private List<HwAction> Actions()
    {
        var actions = new List<HwAction>();
        int count = 1 + _rng.Next(3);
        for (int i = 0; i < count; i++)
        {
            var (kind, r, f) = _hwItems[_rng.Next(_hwItems.Count)];
            int element = _rng.Next(_block.Registers[r].Count);
            // One action per field element in a clock: the order of d, set and clr within one clock
            // is the RTL's precedence rule, which a sequence of model calls does not express.
            if (actions.Any(a => a.Register == r && a.Field == f && a.Element == element)) continue;
            ulong value = kind == HwActionKind.Load ? Data(_block.Registers[r].Fields[f].Width) : 0;
            actions.Add(new HwAction(kind, r, f, element, value));
        }
        return actions;
    }
}
