using VirtioHw.Registers;

namespace VirtioHw.Cosim.Tests.Lockstep;

/// <summary>
/// The Verilated register block, driven through its AXI4-Lite port and its <c>hw2reg_i</c> struct,
/// observed through <c>reg2hw_o</c> in every cycle: swmod/swacc strobes and single-pulse values are
/// recorded as they happen, and external requests are answered from an <see cref="ExternalStore"/>
/// after a random delay, as hand-written logic would.
/// </summary>
internal sealed class RtlSide : IDisposable
{
    private readonly BlockInfo _block;
    private readonly CosimTop _top;
    private readonly IAxiLiteSlave _bus;
    private readonly ExternalStore _store;
    private readonly Random _delays;
    private readonly int _maxDelay;
    private readonly int _reg2hw;
    private readonly int _hw2reg;
    private readonly uint[] _r2h;
    private readonly uint[] _h2r;
    private readonly List<(FieldEventKind Kind, int Register, int Field, PackedField Member)> _strobes = [];
    private readonly PackedField?[][] _q;
    private readonly PackedField?[][] _d;
    private readonly PackedField?[][] _de;
    private readonly PackedField?[][] _set;
    private readonly PackedField?[][] _clr;
    private readonly List<External> _externals = [];
    private readonly int _bvalid;
    private readonly int _rvalid;
    private readonly uint[] _valid = new uint[1];
    private IReadOnlyList<HwAction> _during = [];
    private int _duringCycle = -1;
    private int _cycle;
    private bool _driving;

    /// <summary>The request and response members of one external register, and its pending answer.</summary>
    private sealed class External(int register, PackedField re, PackedField we, PackedField wdata, PackedField be, PackedField? idx, PackedField ack, PackedField rdata)
    {
        public int Register { get; } = register;
        public PackedField Re { get; } = re;
        public PackedField We { get; } = we;
        public PackedField Wdata { get; } = wdata;
        public PackedField Be { get; } = be;
        public PackedField? Idx { get; } = idx;
        public PackedField Ack { get; } = ack;
        public PackedField Rdata { get; } = rdata;

        /// <summary>Cycles until the request up now is answered; -1 when none is pending.</summary>
        public int Countdown { get; set; } = -1;
    }

    /// <param name="block">The block description.</param>
    /// <param name="top">The block's top; this object owns it from now on.</param>
    /// <param name="store">Storage of the external registers.</param>
    /// <param name="seed">Seed of the acknowledge delays.</param>
    /// <param name="maxDelay">Longest delay, in cycles, before an external request is acknowledged.</param>
    public RtlSide(BlockInfo block, CosimTop top, ExternalStore store, int seed, int maxDelay)
    {
        _block = block;
        _top = top;
        _bus = top as IAxiLiteSlave ?? throw new AssertionException($"{top.Name} has no AXI4-Lite slave port");
        _store = store;
        _delays = new Random(seed);
        _maxDelay = maxDelay;
        _reg2hw = top.PortIndex("reg2hw_o");
        _bvalid = top.PortIndex("s_axil_bvalid_o");
        _rvalid = top.PortIndex("s_axil_rvalid_o");
        _hw2reg = top.PortIndex("hw2reg_i");
        PackedLayout r2h = top.Ports[_reg2hw].Layout ?? throw new AssertionException($"{top.Name}: reg2hw_o is not a struct");
        PackedLayout h2r = top.Ports[_hw2reg].Layout ?? throw new AssertionException($"{top.Name}: hw2reg_i is not a struct");
        _r2h = new uint[r2h.Words];
        _h2r = new uint[h2r.Words];
        int n = block.Registers.Count;
        (_q, _d, _de, _set, _clr) = (new PackedField?[n][], new PackedField?[n][], new PackedField?[n][], new PackedField?[n][], new PackedField?[n][]);
        for (int r = 0; r < n; r++)
        {
            RegisterInfo reg = block.Registers[r];
            int fields = reg.Fields.Count;
            (_q[r], _d[r], _de[r], _set[r], _clr[r]) = (new PackedField?[fields], new PackedField?[fields], new PackedField?[fields], new PackedField?[fields], new PackedField?[fields]);
            if (reg.External)
            {
                string p = reg.Name;
                _externals.Add(new External(r, Member(r2h, $"{p}.re"), Member(r2h, $"{p}.we"), Member(r2h, $"{p}.wdata"), Member(r2h, $"{p}.be"),
                    reg.IsArray ? Member(r2h, $"{p}.idx") : null, Member(h2r, $"{p}.ack"), Member(h2r, $"{p}.rdata")));
                continue;
            }
            for (int f = 0; f < fields; f++)
            {
                FieldInfo field = reg.Fields[f];
                string p = $"{reg.Name}.{field.Name}";
                // A ram array has no q per element: hardware reads it through a read port, and the
                // bus reads compare its contents.
                if (field.Hw is HwAccess.R or HwAccess.RW && !reg.Ram) _q[r][f] = Member(r2h, p + ".q", reg.Count, field.Width);
                if (field.Has(FieldFlags.SwMod)) _strobes.Add((FieldEventKind.Modified, r, f, Member(r2h, p + ".swmod", reg.Count, 1)));
                if (field.Has(FieldFlags.SwAcc)) _strobes.Add((FieldEventKind.Accessed, r, f, Member(r2h, p + ".swacc", reg.Count, 1)));
                if (field.Hw is HwAccess.W or HwAccess.RW)
                {
                    _d[r][f] = Member(h2r, p + ".d", reg.Count, field.Width);
                    _de[r][f] = Member(h2r, p + ".de", reg.Count, 1);
                }
                if (field.Has(FieldFlags.HwSet)) _set[r][f] = Member(h2r, p + ".set", reg.Count, 1);
                if (field.Has(FieldFlags.HwClear)) _clr[r][f] = Member(h2r, p + ".clr", reg.Count, 1);
            }
        }
        top.CycleHook = OnCycle;
    }

    public List<FieldPulse> Pulses { get; } = [];

    public List<ExternalAccess> Accesses { get; } = [];

    public CosimTop Top => _top;

    /// <summary>Cycle of the last access in which its actions were driven, or -1 if it ended first.</summary>
    public int ActionCycle { get; private set; }

    /// <summary>Cycle of the last access in which its response (B or R) was valid: the one after it took effect.</summary>
    public int ResponseCycle { get; private set; }

    public uint Read(Transaction t)
    {
        Begin(t);
        uint data = _bus.AxiRead(t.Offset);
        End();
        return data;
    }

    public void Write(Transaction t)
    {
        Begin(t);
        _bus.AxiWrite(t.Offset, t.Data, t.Strobe);
        End();
    }

    private void Begin(Transaction t)
    {
        _bus.Timing = t.Timing;
        (_during, _duringCycle, _cycle) = (t.Actions, t.ActionCycle, 0);
        (ActionCycle, ResponseCycle) = (-1, -1);
    }

    private void End()
    {
        if (_driving) Release();
        _during = [];
        _duringCycle = -1;
    }

    private void Release()
    {
        foreach (HwAction a in _during) Drive(a, 0);
        _top.SetPort(_hw2reg, _h2r);
        _driving = false;
    }

    /// <summary>Drives the actions' hw2reg members for one clock, then takes the enables down again.</summary>
    public void Apply(IReadOnlyList<HwAction> actions)
    {
        foreach (HwAction a in actions) Drive(a, 1);
        _top.SetPort(_hw2reg, _h2r);
        _top.Tick();
        foreach (HwAction a in actions) Drive(a, 0);
        _top.SetPort(_hw2reg, _h2r);
    }

    /// <summary>Takes a fresh copy of reg2hw_o; <see cref="Q"/> reads from it.</summary>
    public void Sample() => _top.GetPort(_reg2hw, _r2h);

    public ulong Q(int register, int field, int element) => _q[register][field]?.Get(_r2h, element) ?? 0;

    public bool HasQ(int register, int field) => _q[register][field] is not null;

    private void Drive(HwAction a, ulong enable)
    {
        switch (a.Kind)
        {
            case HwActionKind.Load:
                if (enable != 0) _d[a.Register][a.Field]!.Set(_h2r, a.Value, a.Element);
                _de[a.Register][a.Field]!.Set(_h2r, enable, a.Element);
                break;
            case HwActionKind.Set: _set[a.Register][a.Field]!.Set(_h2r, enable, a.Element); break;
            default: _clr[a.Register][a.Field]!.Set(_h2r, enable, a.Element); break;
        }
    }

    /// <summary>Before every rising edge: answer external requests, then record what the edge will see.</summary>
    private void OnCycle()
    {
        _top.GetPort(_reg2hw, _r2h);
        bool drive = false;
        foreach (External x in _externals)
        {
            bool re = x.Re.Get(_r2h) != 0;
            bool we = x.We.Get(_r2h) != 0;
            ulong ack = 0;
            if (!re && !we)
            {
                x.Countdown = -1;
            }
            else
            {
                if (x.Countdown < 0) x.Countdown = _delays.Next(_maxDelay + 1);
                if (x.Countdown-- == 0)
                {
                    Serve(x, we);
                    ack = 1;
                    drive = true;
                }
            }
            if (x.Ack.Get(_h2r) != ack)
            {
                x.Ack.Set(_h2r, ack);
                drive = true;
            }
        }
        if (_driving)
        {
            foreach (HwAction a in _during) Drive(a, 0);
            _driving = false;
            drive = true;
        }
        if (_cycle == _duringCycle && _during.Count > 0)
        {
            foreach (HwAction a in _during) Drive(a, 1);
            (_driving, ActionCycle, drive) = (true, _cycle, true);
        }
        if (drive)
        {
            _top.SetPort(_hw2reg, _h2r);
            _top.GetPort(_reg2hw, _r2h);  // an acknowledge may complete the access in this very cycle
        }
        if (ResponseCycle < 0 && (Valid(_bvalid) || Valid(_rvalid))) ResponseCycle = _cycle;
        _cycle++;
        foreach (var (kind, register, field, member) in _strobes)
        {
            for (int e = 0; e < member.Count; e++)
            {
                if (member.Get(_r2h, e) != 0) Pulses.Add(new FieldPulse(kind, register, field, e, 0));
            }
        }
        for (int r = 0; r < _block.Registers.Count; r++)
        {
            for (int f = 0; f < _q[r].Length; f++)
            {
                if (_q[r][f] is not { } q || !_block.Registers[r].Fields[f].Has(FieldFlags.SinglePulse)) continue;
                for (int e = 0; e < q.Count; e++)
                {
                    ulong v = q.Get(_r2h, e);
                    if (v != 0) Pulses.Add(new FieldPulse(FieldEventKind.Pulsed, r, f, e, v));
                }
            }
        }
    }

    private bool Valid(int port)
    {
        _top.GetPort(port, _valid);
        return _valid[0] != 0;
    }

    private void Serve(External x, bool write)
    {
        int element = x.Idx is null ? 0 : (int)x.Idx.Get(_r2h);
        uint mask = (uint)x.Be.Get(_r2h);
        if (write)
        {
            ulong value = x.Wdata.Get(_r2h);
            Accesses.Add(new ExternalAccess(true, x.Register, element, value, mask));
            _store.Write(x.Register, element, value, mask);
        }
        else
        {
            Accesses.Add(new ExternalAccess(false, x.Register, element, 0, mask));
            x.Rdata.Set(_h2r, _store.Read(x.Register, element));
        }
    }

    /// <summary>
    /// A struct member of an external register (<paramref name="width"/> 0: as the RTL has it) or
    /// of a field: <paramref name="count"/> elements of <paramref name="width"/> bits. An array of
    /// one-bit elements is a plain vector in the RTL, <c>logic [Count-1:0]</c>.
    /// </summary>
    private PackedField Member(PackedLayout layout, string path, int count = 1, int width = 0)
    {
        if (!layout.TryFind(path, out PackedField? f)) throw new AssertionException($"{_top.Name}: the RTL struct has no member '{path}'");
        if (width == 0 || (f.Count == count && f.Width == width)) return f;
        if (width == 1 && f.Count == 1 && f.Width == count) return new PackedField(path, f.Lsb, 1, count);
        throw new AssertionException($"{_top.Name}: '{path}' is {f.Count} x {f.Width} bits, the block description says {count} x {width}");
    }

    public void Dispose() => _top.Dispose();
}
