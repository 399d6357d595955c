using System.Globalization;
using System.Text;
using VirtioHw.Registers;

namespace VirtioHw.Cosim.Tests.Lockstep;

/// <summary>
/// Drives the generated C# model and the Verilated RTL of one register block with the same random
/// transactions and compares them after each: read data, swmod/swacc/single-pulse events, the
/// requests to external registers, and q of every field hardware reads. The first difference
/// fails the test with the transaction, the register and both values.
/// </summary>
internal sealed class LockstepRun
{
    /// <summary>Runs every lockstep case with this seed instead of its own (to reproduce a failure, or to soak).</summary>
    public const string SeedVariable = "VHW_LOCKSTEP_SEED";

    /// <summary>Transactions per case instead of the default.</summary>
    public const string TransactionsVariable = "VHW_LOCKSTEP_TRANSACTIONS";

    /// <summary>A folder: each run writes its waveform there as &lt;block&gt;-&lt;seed&gt;.fst.</summary>
    public const string TraceVariable = "VHW_LOCKSTEP_TRACE";

    private const int History = 8;

    private readonly BlockInfo _block;
    private readonly int _seed;
    private readonly int _transactions;
    private readonly ModelSide _model;
    private readonly RtlSide _rtl;
    private readonly Queue<string> _recent = new();
    private string? _trace;

    private LockstepRun(BlockInfo block, int seed, int transactions, RtlSide rtl)
    {
        _block = block;
        _seed = seed;
        _transactions = transactions;
        _model = new ModelSide(block, new ExternalStore(block, seed));
        _rtl = rtl;
    }

    /// <summary>The seed and length a case runs with, after the environment overrides.</summary>
    public static (int Seed, int Transactions) Settings(int seed, int transactions)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s)) seed = s;
        if (int.TryParse(Environment.GetEnvironmentVariable(TransactionsVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0) transactions = n;
        return (seed, transactions);
    }

    /// <summary>Runs the case; returns what it compared, for the test to check and report.</summary>
    public static LockstepSummary Run(BlockInfo block, int seed, int transactions)
    {
        CosimTop top = Cosim.Create(block.Name + "_reg_top");
        using var rtl = new RtlSide(block, top, new ExternalStore(block, seed), seed ^ 0x5bd1e995, maxDelay: 3);
        var run = new LockstepRun(block, seed, transactions, rtl);
        run.Run(((IAxiLiteSlave)top).AddressBits);
        return run._summary with { Cycles = top.Cycle };
    }

    private LockstepSummary _summary = new(0, 0, 0, 0, 0, 0);

    private void Run(int addressBits)
    {
        if (Environment.GetEnvironmentVariable(TraceVariable) is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            _trace = Path.GetFullPath(Path.Combine(dir, $"{_block.Name}-{_seed}.fst"));
            _rtl.Top.OpenTrace(_trace);
        }
        var stream = new TransactionStream(_block, _seed, addressBits);
        var reset = new Transaction(0, TransactionKind.Hardware, 0, 0, 0, [], -1);
        CompareHardwareView(reset, "after reset");
        for (int i = 1; i <= _transactions; i++)
        {
            Transaction t = stream.Next(i);
            Step(t);
            _recent.Enqueue($"{t.Number}: {t.Describe(_block)}");
            if (_recent.Count > History) _recent.Dequeue();
        }
        _rtl.Top.CloseTrace();
    }

    private void Step(Transaction t)
    {
        _model.Pulses.Clear();
        _model.Accesses.Clear();
        _rtl.Pulses.Clear();
        _rtl.Accesses.Clear();
        try
        {
            switch (t.Kind)
            {
                case TransactionKind.Write:
                {
                    _rtl.Write(t);
                    var (before, after) = Order(t);
                    foreach (HwAction a in before) _model.Apply(a);
                    _model.Write(t.Offset, t.Data, t.Strobe);
                    foreach (HwAction a in after) _model.Apply(a);
                    break;
                }
                case TransactionKind.Read:
                {
                    uint r = _rtl.Read(t);
                    var (before, after) = Order(t);
                    foreach (HwAction a in before) _model.Apply(a);
                    uint m = _model.Read(t.Offset);
                    foreach (HwAction a in after) _model.Apply(a);
                    if (m != r) Diverge(t, $"read data: model 0x{m:x8}, RTL 0x{r:x8} (first differing byte: {Names.AtByte(_block, (t.Offset & ~3u) + FirstDifferingByte(m, r))})");
                    break;
                }
                default:
                    foreach (HwAction a in t.Actions) _model.Apply(a);
                    _rtl.Apply(t.Actions);
                    break;
            }
        }
        catch (CosimException e)
        {
            Diverge(t, $"the RTL failed: {e.Message}");
        }
        CompareEvents(t);
        CompareHardwareView(t, "");
        _summary = _summary with
        {
            Reads = _summary.Reads + (t.Kind == TransactionKind.Read ? 1 : 0),
            Writes = _summary.Writes + (t.Kind == TransactionKind.Write ? 1 : 0),
            HardwareActions = _summary.HardwareActions + t.Actions.Count,
            Events = _summary.Events + _rtl.Pulses.Count,
            ExternalRequests = _summary.ExternalRequests + _rtl.Accesses.Count,
        };
    }

    /// <summary>
    /// Where the actions driven during an access fall for the model, which has no clocks: before the
    /// access if driven before the clock it takes effect in, after it if driven later. In that very
    /// clock the README's precedence decides: d/de is overridden by the write, so it comes first;
    /// hwset and hwclr override the access, so they come after; and d/de in the clock of a read loads
    /// the field after the read returned the old value, with the read clear still applied.
    /// </summary>
    private (List<HwAction> Before, List<HwAction> After) Order(Transaction t)
    {
        var before = new List<HwAction>();
        var after = new List<HwAction>();
        if (t.Actions.Count == 0) return (before, after);
        if (_rtl.ActionCycle < 0)
        {
            _rtl.Apply(t.Actions);  // the access ended before the actions' cycle: drive them now
            after.AddRange(t.Actions);
            return (before, after);
        }
        if (_rtl.ResponseCycle < 1) Diverge(t, $"the RTL gave no response cycle after the access ({_rtl.ResponseCycle})");
        int effect = _rtl.ResponseCycle - 1;
        foreach (HwAction a in t.Actions)
        {
            if (_rtl.ActionCycle < effect || (_rtl.ActionCycle == effect && a.Kind == HwActionKind.Load && t.Kind == TransactionKind.Write))
                before.Add(a);
            else if (_rtl.ActionCycle == effect && a.Kind == HwActionKind.Load)
                after.Add(a with { Value = a.Value & ~ClearedByRead(a, t.Offset) });
            else
                after.Add(a);
        }
        return (before, after);
    }

    /// <summary>The bits of an action's field that a read of the word at <paramref name="offset"/> clears.</summary>
    private ulong ClearedByRead(HwAction a, uint offset)
    {
        RegisterInfo reg = _block.Registers[a.Register];
        FieldInfo field = reg.Fields[a.Field];
        if (!field.Has(FieldFlags.ReadClear)) return 0;
        uint start = reg.ElementOffset(a.Element);
        ulong inWord = 0;
        for (int b = 0; b < reg.Bytes; b++)
        {
            if (((start + (uint)b) & ~3u) == (offset & ~3u)) inWord |= 0xffUL << (8 * b);
        }
        return (field.Mask & inWord) >> field.Lsb;
    }

    private void CompareEvents(Transaction t)
    {
        // The RTL shows a pulse only in a field's q, and a pulse of zeros not at all.
        var model = _model.Pulses
            .Where(p => p.Kind != FieldEventKind.Pulsed || (p.Value != 0 && _rtl.HasQ(p.Register, p.Field)))
            .OrderBy(Key).ToList();
        var rtl = _rtl.Pulses.OrderBy(Key).ToList();
        if (!model.SequenceEqual(rtl))
            Diverge(t, $"events: model {Names.Pulses(_block, model)}; RTL {Names.Pulses(_block, rtl)}");
        // Requests to different registers are independent; to one register, they come in element order.
        var modelAccesses = _model.Accesses.OrderBy(a => a.Register).ToList();
        var rtlAccesses = _rtl.Accesses.OrderBy(a => a.Register).ToList();
        if (!modelAccesses.SequenceEqual(rtlAccesses))
            Diverge(t, $"external requests: model {Names.Accesses(_block, modelAccesses)}; RTL {Names.Accesses(_block, rtlAccesses)}");
    }

    private static (FieldEventKind, int, int, int, ulong) Key(FieldPulse p) => (p.Kind, p.Register, p.Field, p.Element, p.Value);

    private void CompareHardwareView(Transaction t, string when)
    {
        _rtl.Sample();
        for (int r = 0; r < _block.Registers.Count; r++)
        {
            RegisterInfo reg = _block.Registers[r];
            if (reg.External) continue;
            for (int f = 0; f < reg.Fields.Count; f++)
            {
                if (!_rtl.HasQ(r, f)) continue;
                for (int e = 0; e < reg.Count; e++)
                {
                    ulong m = _model.Q(r, f, e);
                    ulong q = _rtl.Q(r, f, e);
                    if (m != q) Diverge(t, $"{Names.Field(_block, r, f, e)}.q{(when.Length > 0 ? " " + when : "")}: model 0x{m:x}, RTL 0x{q:x}");
                }
            }
        }
    }

    private static uint FirstDifferingByte(uint a, uint b)
    {
        uint diff = a ^ b;
        for (uint lane = 0; lane < 4; lane++)
        {
            if (((diff >> (int)(lane * 8)) & 0xff) != 0) return lane;
        }
        return 0;
    }

    private void Diverge(Transaction t, string what)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"lockstep of {_block.Name}, seed {_seed}: transaction {t.Number} of {_transactions} ({t.Describe(_block)}) diverges: {what}\n");
        sb.Append(CultureInfo.InvariantCulture, $"reproduce: {SeedVariable}={_seed} {TransactionsVariable}={t.Number} dotnet test tests/VirtioHw.Cosim.Tests --filter \"Name~Lockstep&Name~{_block.Name}\"");
        sb.Append(_trace is null ? $" (add {TraceVariable}=<dir> for a waveform)\n" : $"\nwaveform: {_trace}\n");
        if (_recent.Count > 0) sb.Append("transactions before it:\n");
        foreach (string line in _recent) sb.Append("  ").Append(line).Append('\n');
        _rtl.Top.CloseTrace();
        Assert.Fail(sb.ToString());
    }
}

/// <summary>What a lockstep run compared and found equal.</summary>
internal sealed record LockstepSummary(int Reads, int Writes, int HardwareActions, int Events, int ExternalRequests, ulong Cycles)
{
    public override string ToString() =>
        $"{Reads} reads, {Writes} writes, {HardwareActions} hardware actions, {Events} swmod/swacc/pulse events, {ExternalRequests} external requests, {Cycles} cycles";
}
