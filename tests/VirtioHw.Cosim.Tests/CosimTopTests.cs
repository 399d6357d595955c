using VirtioHw.Registers;
using T = VirtioHw.Registers.RegcSelftest;

namespace VirtioHw.Cosim.Tests;

/// <summary>
/// The co-simulation plumbing on the register self-test block: bus calls, ports and struct
/// layouts, instances side by side, waveforms, and the ways a simulation can fail.
/// </summary>
public sealed class CosimTopTests
{
    private RegcSelftestRegTop _top = null!;

    [SetUp]
    public void NewTop() => _top = Cosim.Create<RegcSelftestRegTop>(RegcSelftestRegTop.TopName);

    [TearDown]
    public void DisposeTop() => _top?.Dispose();

    private ulong Reg2Hw(string path, int element = 0)
    {
        Span<uint> words = stackalloc uint[RegcSelftestRegTop.Reg2hwOWords];
        _top.GetReg2hwO(words);
        return RegcSelftestRegTop.Reg2hwOLayout[path].Get(words, element);
    }

    [Test]
    public void NewInstance_IsOutOfReset_AndReadsResetValues()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_top.AxiRead(T.Constant.Offset), Is.EqualTo((uint)T.Constant.ResetValue));
            Assert.That(_top.AxiRead(T.Wide.Offset + 4), Is.EqualTo((uint)(T.Wide.ResetValue >> 32)));
            Assert.That(Reg2Hw("byte0.value.q"), Is.EqualTo(T.Byte0.ResetValue));
            Assert.That(_top.RstNi, Is.True, "reset released");
        });
    }

    [Test]
    public void Write_ThenRead_ReturnsTheValue_AndHardwareSeesItInReg2hw()
    {
        _top.AxiWrite(T.SharedRw.Offset, 0xcafe_f00d);
        Assert.Multiple(() =>
        {
            Assert.That(_top.AxiRead(T.SharedRw.Offset), Is.EqualTo(0xcafe_f00du));
            Assert.That(Reg2Hw("shared_rw.value.q"), Is.EqualTo(0xcafe_f00dUL));
        });
    }

    [Test]
    public void Hw2reg_DrivenForOneCycle_LoadsTheField()
    {
        Span<uint> h2r = stackalloc uint[RegcSelftestRegTop.Hw2regIWords];
        PackedLayout layout = RegcSelftestRegTop.Hw2regILayout;
        layout["status.value.d"].Set(h2r, 0x600d_cafe);
        layout["status.value.de"].Set(h2r, 1);
        _top.SetHw2regI(h2r);
        _top.Tick();
        layout["status.value.de"].Set(h2r, 0);
        _top.SetHw2regI(h2r);
        Assert.That(_top.AxiRead(T.Status.Offset), Is.EqualTo(0x600d_cafeu));
    }

    [Test]
    public void PackedArrayMembers_AreAddressedByElement()
    {
        _top.AxiWrite(T.Entries.OffsetOf(2), 0xbeef);
        Assert.Multiple(() =>
        {
            Assert.That(Reg2Hw("entries.value.q", 2), Is.EqualTo(0xbeefUL));
            Assert.That(Reg2Hw("entries.value.q", 1), Is.Zero);
        });
    }

    [Test]
    public void HandshakeDelays_ChangeOnlyTheTiming()
    {
        ulong start = _top.Cycle;
        _top.AxiWrite(T.SharedRw.Offset, 1);
        ulong plain = _top.Cycle - start;
        // W well before AW, and the response left waiting.
        _top.Timing = new AxiTiming(AddressDelay: 3, DataDelay: 0, ResponseDelay: 2);
        start = _top.Cycle;
        _top.AxiWrite(T.SharedRw.Offset, 2);
        ulong delayed = _top.Cycle - start;
        Assert.Multiple(() =>
        {
            Assert.That(delayed, Is.EqualTo(plain + 5));
            Assert.That(_top.AxiRead(T.SharedRw.Offset), Is.EqualTo(2u));
        });
    }

    [Test]
    public void ExternalRegister_NeverAcknowledged_ReadTimesOutWithAClearError()
    {
        _top.TimeoutCycles = 50;
        var e = Assert.Throws<CosimTimeoutException>(() => _top.AxiRead(T.ExtWord.Offset));
        Assert.That(e!.Message, Does.StartWith("regc_selftest_reg_top: AXI read of 0x80: no read data (R) within 50 cycles"));
    }

    [Test]
    public void ExternalRegister_NeverAcknowledged_WriteTimesOut_AndResetRecovers()
    {
        _top.TimeoutCycles = 50;
        var e = Assert.Throws<CosimTimeoutException>(() => _top.AxiWrite(T.ExtWord.Offset, 1));
        Assert.That(e!.Message, Does.Contain("no write response (B) within 50 cycles"));
        _top.Reset();
        Assert.That(_top.AxiRead(T.Constant.Offset), Is.EqualTo((uint)T.Constant.ResetValue));
    }

    [Test]
    public void ExternalRegister_AcknowledgedByTheHook_ReturnsItsData()
    {
        Span<uint> r2h = stackalloc uint[RegcSelftestRegTop.Reg2hwOWords];
        uint[] h2r = new uint[RegcSelftestRegTop.Hw2regIWords];
        PackedField re = RegcSelftestRegTop.Reg2hwOLayout["ext_word.re"];
        _top.CycleHook = () =>
        {
            Span<uint> words = stackalloc uint[RegcSelftestRegTop.Reg2hwOWords];
            _top.GetReg2hwO(words);
            bool request = re.Get(words) != 0;
            RegcSelftestRegTop.Hw2regILayout["ext_word.ack"].Set(h2r, request ? 1UL : 0);
            RegcSelftestRegTop.Hw2regILayout["ext_word.rdata"].Set(h2r, 0x1234_5678);
            _top.SetHw2regI(h2r);
        };
        Assert.That(_top.AxiRead(T.ExtWord.Offset), Is.EqualTo(0x1234_5678u));
        _top.GetReg2hwO(r2h);
        Assert.That(re.Get(r2h), Is.Zero, "the request is gone once answered");
    }

    [Test]
    public void Address_WiderThanTheBus_IsRefused()
    {
        Assert.That(_top.AddressBits, Is.EqualTo(9), "the self-test block spans 0x000-0x11f");
        var e = Assert.Throws<CosimException>(() => _top.AxiRead(1u << _top.AddressBits));
        Assert.That(e!.Message, Does.Contain("address 0x200 does not fit the 9-bit bus"));
    }

    [Test]
    public void WrongWordCount_ForAWidePort_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => _top.GetReg2hwO(new uint[1]));
    }

    [Test]
    public void ManyInstances_OfOneTopAndOfOthers_KeepTheirOwnState()
    {
        using var second = Cosim.Create<RegcSelftestRegTop>(RegcSelftestRegTop.TopName);
        using var isr = Cosim.Create<VirtioIsrRegTop>(VirtioIsrRegTop.TopName);
        _top.AxiWrite(T.SharedRw.Offset, 1);
        second.AxiWrite(T.SharedRw.Offset, 2);
        second.Tick(7);
        Assert.Multiple(() =>
        {
            Assert.That(_top.AxiRead(T.SharedRw.Offset), Is.EqualTo(1u));
            Assert.That(second.AxiRead(T.SharedRw.Offset), Is.EqualTo(2u));
            Assert.That(second.Cycle, Is.GreaterThan(_top.Cycle), "each instance keeps its own time");
            Assert.That(isr.AxiRead(VirtioIsr.Isr.Offset), Is.Zero);
        });
    }

    [Test]
    public void Trace_WritesANonEmptyFstFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vhw-cosim-{Guid.NewGuid():N}.fst");
        try
        {
            _top.OpenTrace(path);
            _top.AxiWrite(T.SharedRw.Offset, 0x5555_aaaa);
            _top.AxiRead(T.SharedRw.Offset);
            _top.CloseTrace();
            byte[] fst = File.ReadAllBytes(path);
            Assert.That(fst, Has.Length.GreaterThan(100));
            Assert.That(fst[0], Is.Zero, "an FST file opens with its header block (type 0)");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Trace_ToAnUnwritablePath_FailsWithThePath()
    {
        var e = Assert.Throws<CosimException>(() => _top.OpenTrace("/nonexistent-dir/x.fst"));
        Assert.That(e!.Message, Does.Contain("/nonexistent-dir/x.fst"));
    }

    [Test]
    public void CycleHook_ThatThrows_StopsTheAccess_AndItsExceptionReachesTheCaller()
    {
        _top.CycleHook = () => throw new InvalidOperationException("hook says no");
        var e = Assert.Throws<InvalidOperationException>(() => _top.AxiRead(T.Constant.Offset));
        Assert.That(e!.Message, Is.EqualTo("hook says no"));
    }

    [Test]
    public void CycleHook_AdvancingTime_IsRefused()
    {
        _top.CycleHook = () => _top.Tick();
        var e = Assert.Throws<CosimException>(() => _top.Tick());
        Assert.That(e!.Message, Does.Contain("time cannot advance from inside the cycle hook"));
    }

    [Test]
    public void ProtocolAssertion_Failing_IsAnErrorOfTheCall_AndTheInstanceStaysDead()
    {
        // Leave a write waiting for an external register, so that AW is not ready; then offer AW
        // for one cycle and withdraw it, which AXI forbids (the bus adapter asserts it).
        _top.TimeoutCycles = 5;
        Assert.Throws<CosimTimeoutException>(() => _top.AxiWrite(T.ExtWord.Offset, 1));
        _top.SAxilAwvalidI = true;
        _top.Tick();
        _top.SAxilAwvalidI = false;
        var e = Assert.Throws<CosimException>(() => _top.Tick());
        Assert.That(e!.Message, Does.Contain("assertion axil_aw_held failed in").And.Contain("u_adapter")
            .And.Contain("axil_adapter_reg.sv"));
        Assert.Throws<CosimException>(() => _top.Tick(), "a dead instance refuses to go on");
    }

    [Test]
    public void ProtocolAssertion_AtAnEndpointTopsPort_NamesTheAssertion()
    {
        // AW without W keeps the BAR0 port from taking AR; withdrawing AR before it is taken breaks
        // AXI, and the BAR's demultiplexer (through the bus adapter) asserts it.
        using var top = Cosim.Create<IvshmemEndpointTop>(IvshmemEndpointTop.TopName);
        top.Bar0AwvalidI = true;
        top.Bar0ArvalidI = true;
        top.Tick();
        top.Bar0ArvalidI = false;
        var e = Assert.Throws<CosimException>(() => top.Tick());
        Assert.That(e!.Message, Does.Contain("assertion axil_ar_held failed in").And.Contain("u_bar0_demux"));
    }

    [Test]
    public void GenericPortAccess_MatchesTheTypedMembers()
    {
        int index = _top.PortIndex("s_axil_awaddr_i");
        _top.SetPort(index, [0x5a]);
        uint[] back = new uint[1];
        _top.GetPort(index, back);
        Assert.Multiple(() =>
        {
            Assert.That(_top.SAxilAwaddrI, Is.EqualTo(0x5a));
            Assert.That(back[0], Is.EqualTo(0x5au));
            Assert.That(_top.Ports[_top.PortIndex("reg2hw_o")].Layout, Is.SameAs(RegcSelftestRegTop.Reg2hwOLayout));
            Assert.Throws<InvalidOperationException>(() => _top.SetPort(_top.PortIndex("s_axil_rdata_o"), [0]));
        });
    }

    [Test]
    public void EveryTop_CanBeCreatedByName()
    {
        foreach (string name in CosimTops.Names)
        {
            using CosimTop top = Cosim.Create(name);
            Assert.That(top.Name, Is.EqualTo(name));
        }
    }
}
