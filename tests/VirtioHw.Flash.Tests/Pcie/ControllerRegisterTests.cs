using VirtioHw.Cosim;
using VirtioHw.Flash;
using VirtioHw.Platforms.Cosim.Flash;
using VirtioHw.Registers;

namespace VirtioHw.Flash.Tests.Pcie;

/// <summary>
/// The register semantics of spi_flash_ctrl_top (hw/regs/spi_flash_ctrl.rdl) on the Verilated RTL,
/// watched at its pins: what each register does to CS#, SCK, MOSI and the FIFOs.
/// </summary>
[TestFixture]
public class ControllerRegisterTests
{
    private SpiFlashCtrlTop _top = null!;
    private PinRecorder _pins = null!;

    [SetUp]
    public void SetUp()
    {
        CosimFlashHarness.RequireLibrary();
        _top = new SpiFlashCtrlTop();
        _pins = new PinRecorder(_top);
        _top.CycleHook = _pins.OnCycle;
    }

    [TearDown]
    public void TearDown() => _top?.Dispose();

    private static uint Ctrl(bool cs, bool rxEn = false, bool cpol = false, int div = 0) =>
        (cs ? (uint)SpiFlashCtrl.Ctrl.Cs.Mask : 0) | (rxEn ? (uint)SpiFlashCtrl.Ctrl.RxEn.Mask : 0)
        | (cpol ? (uint)SpiFlashCtrl.Ctrl.Cpol.Mask : 0) | (uint)(div << SpiFlashCtrl.Ctrl.Div.Shift);

    private uint Status() => _top.AxiRead(SpiFlashCtrl.Status.Offset);

    private static int TxLevel(uint status) => (int)((status & SpiFlashCtrl.Status.TxLevel.Mask) >> SpiFlashCtrl.Status.TxLevel.Shift);

    private static int RxLevel(uint status) => (int)((status & SpiFlashCtrl.Status.RxLevel.Mask) >> SpiFlashCtrl.Status.RxLevel.Shift);

    private static bool Busy(uint status) => (status & SpiFlashCtrl.Status.Busy.Mask) != 0;

    private void RunUntilIdle()
    {
        for (int i = 0; i < 10_000 && Busy(Status()); i++)
        {
            _top.Tick(8);
        }

        Assert.That(Busy(Status()), Is.False, "the controller finishes its transfer");
    }

    [Test]
    public void IdentityRegisters_ReadTheRdlValues_AndTheFifoDepth()
    {
        uint version = _top.AxiRead(SpiFlashCtrl.Version.Offset);
        Assert.Multiple(() =>
        {
            Assert.That(_top.AxiRead(SpiFlashCtrl.Id.Offset), Is.EqualTo((uint)SpiFlashCtrl.Id.Magic.Reset));
            Assert.That((version & SpiFlashCtrl.Version.Major.Mask) >> SpiFlashCtrl.Version.Major.Shift, Is.EqualTo(SpiFlashCtrl.Version.Major.Reset));
            Assert.That((version & SpiFlashCtrl.Version.FifoDepth.Mask) >> SpiFlashCtrl.Version.FifoDepth.Shift, Is.EqualTo(64));
            Assert.That(_top.AxiRead(SpiFlashCtrl.Ctrl.Offset), Is.EqualTo((uint)SpiFlashCtrl.Ctrl.ResetValue));
        });
    }

    [Test]
    public void AfterReset_TheFlashIsDeselected_AndSckIdlesLow()
    {
        _top.Tick(4);
        Assert.Multiple(() =>
        {
            Assert.That(_top.SpiCsNo, Is.True);
            Assert.That(_top.SpiSckO, Is.False);
            Assert.That(Status(), Is.Zero);
        });
    }

    [Test]
    public void CtrlCs_DrivesCsLow_AndClearingItRaisesCs()
    {
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true));
        bool selected = !_top.SpiCsNo;
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: false));
        Assert.Multiple(() =>
        {
            Assert.That(selected, Is.True);
            Assert.That(_top.SpiCsNo, Is.True);
        });
    }

    [Test]
    public void CtrlCpol_MakesSckIdleHigh_ForMode3()
    {
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: false, cpol: true));
        _top.Tick(2);
        Assert.That(_top.SpiSckO, Is.True);
    }

    [Test]
    public void TxData_WhileDeselected_QueuesBytes_AndNothingMoves()
    {
        _top.AxiWrite(SpiFlashCtrl.TxData4.Offset, 0x0403_0201);
        _top.AxiWrite(SpiFlashCtrl.TxData1.Offset, 0x05);
        _top.Tick(100);
        uint status = Status();
        Assert.Multiple(() =>
        {
            Assert.That(TxLevel(status), Is.EqualTo(5));
            Assert.That(Busy(status), Is.True, "queued bytes count as busy");
            Assert.That(_pins.SckRises, Is.Zero, "no SCK without chip select");
        });
    }

    [Test]
    public void TxData4_WithPartialStrobes_QueuesOnlyTheStrobedBytes_LowestLaneFirst()
    {
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true));
        _top.AxiWrite(SpiFlashCtrl.TxData4.Offset, 0xdd_cc_bb_aa, strobe: 0b1010);
        RunUntilIdle();
        Assert.That(_pins.MosiBytes, Is.EqualTo(new byte[] { 0xbb, 0xdd }));
    }

    [Test]
    public void TxFifo_WhenFull_DropsAWholeWrite()
    {
        for (int i = 0; i < 16; i++)
        {
            _top.AxiWrite(SpiFlashCtrl.TxData4.Offset, (uint)i);
        }

        _top.AxiWrite(SpiFlashCtrl.TxData4.Offset, 0xffff_ffff);
        _top.AxiWrite(SpiFlashCtrl.TxData1.Offset, 0xff);
        Assert.That(TxLevel(Status()), Is.EqualTo(64));
    }

    [Test]
    public void Bytes_GoOutMostSignificantBitFirst_InQueueOrder_WithEightSckRisesEach()
    {
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true, div: 2));
        _top.AxiWrite(SpiFlashCtrl.TxData4.Offset, 0x8001_5aa5);
        _top.AxiWrite(SpiFlashCtrl.TxData1.Offset, 0x3c);
        RunUntilIdle();
        Assert.Multiple(() =>
        {
            Assert.That(_pins.MosiBytes, Is.EqualTo(new byte[] { 0xa5, 0x5a, 0x01, 0x80, 0x3c }));
            Assert.That(_pins.SckRises, Is.EqualTo(40));
        });
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(4)]
    public void CtrlDiv_SetsTheSckPeriod_To2TimesDivPlus1Clocks(int div)
    {
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true, div: div));
        _top.AxiWrite(SpiFlashCtrl.TxData4.Offset, 0);
        RunUntilIdle();
        Assert.That(_pins.SckPeriods.Distinct(), Is.EqualTo(new[] { (ulong)(2 * (div + 1)) }));
    }

    [Test]
    public void RxData_WithRxEnabled_ReturnsWhatMisoCarried_FullDuplex()
    {
        _pins.LoopBack = true;
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true, rxEn: true));
        _top.AxiWrite(SpiFlashCtrl.TxData4.Offset, 0x7856_3412);
        _top.AxiWrite(SpiFlashCtrl.TxData1.Offset, 0x9a);
        RunUntilIdle();
        uint levels = Status();
        uint word = _top.AxiRead(SpiFlashCtrl.RxData4.Offset);
        uint last = _top.AxiRead(SpiFlashCtrl.RxData1.Offset);
        Assert.Multiple(() =>
        {
            Assert.That(RxLevel(levels), Is.EqualTo(5));
            Assert.That(word, Is.EqualTo(0x7856_3412u), "first byte received in bits 7:0");
            Assert.That(last, Is.EqualTo(0x9au));
            Assert.That(RxLevel(Status()), Is.Zero, "reads take what they return");
        });
    }

    [Test]
    public void RxData_WithRxDisabled_DropsReceivedBytes()
    {
        _pins.LoopBack = true;
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true));
        _top.AxiWrite(SpiFlashCtrl.TxData4.Offset, 0x1234_5678);
        RunUntilIdle();
        Assert.That(RxLevel(Status()), Is.Zero);
    }

    [Test]
    public void RxData4_WithFewerBytesThanFour_ReadsZeroPastThem()
    {
        _pins.LoopBack = true;
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true, rxEn: true));
        _top.AxiWrite(SpiFlashCtrl.TxData1.Offset, 0xee);
        RunUntilIdle();
        Assert.That(_top.AxiRead(SpiFlashCtrl.RxData4.Offset), Is.EqualTo(0xeeu));
    }

    [Test]
    public void RxClock_ClocksFillerBytesWithMosiLow_AndCountsDown()
    {
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true, rxEn: true));
        _top.AxiWrite(SpiFlashCtrl.RxClock.Offset, 6);
        RunUntilIdle();
        Assert.Multiple(() =>
        {
            Assert.That(_pins.MosiBytes, Is.EqualTo(new byte[6]));
            Assert.That(RxLevel(Status()), Is.EqualTo(6));
            Assert.That(_top.AxiRead(SpiFlashCtrl.RxClock.Offset), Is.Zero);
        });
    }

    [Test]
    public void RxFifo_WhenFull_HoldsTheTransfer_UntilSoftwareTakesBytes()
    {
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true, rxEn: true));
        _top.AxiWrite(SpiFlashCtrl.RxClock.Offset, 70);
        _top.Tick(70 * 8 * 2 + 100);
        uint full = Status();
        uint left = _top.AxiRead(SpiFlashCtrl.RxClock.Offset);
        _top.AxiRead(SpiFlashCtrl.RxData4.Offset);
        _top.AxiRead(SpiFlashCtrl.RxData4.Offset);
        RunUntilIdle();
        Assert.Multiple(() =>
        {
            Assert.That(RxLevel(full), Is.EqualTo(64));
            Assert.That(Busy(full), Is.True);
            Assert.That(left, Is.EqualTo(6u));
            Assert.That(RxLevel(Status()), Is.EqualTo(64 - 8 + 6));
            Assert.That(_pins.SckRises, Is.EqualTo(70 * 8), "no byte lost or repeated");
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void JedecId_ByRegisterWrites_ReachesTheChipModel_InMode0AndMode3(bool mode3)
    {
        var model = new SimulatedFlash(SimulatedChipSpec.ForName("W25Q32JV"));
        var pins = new ChipModelPins(_top, model);
        _top.CycleHook = pins.OnCycle;
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: false, cpol: mode3, div: 1));
        _top.Tick(4);
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: true, rxEn: true, cpol: mode3, div: 1));
        _top.AxiWrite(SpiFlashCtrl.TxData1.Offset, SpiNorOpcodes.ReadJedecId);
        _top.AxiWrite(SpiFlashCtrl.RxClock.Offset, 3);
        RunUntilIdle();
        _top.AxiWrite(SpiFlashCtrl.Ctrl.Offset, Ctrl(cs: false, cpol: mode3, div: 1));
        uint reply = _top.AxiRead(SpiFlashCtrl.RxData4.Offset);
        int id = (int)(((reply >> 8) & 0xff) << 16 | ((reply >> 16) & 0xff) << 8 | (reply >> 24));
        Assert.Multiple(() =>
        {
            Assert.That(id, Is.EqualTo(model.Part.JedecId));
            Assert.That(reply & 0xff, Is.EqualTo(0xffu), "nothing drives MISO during the opcode");
            Assert.That(model.Transactions, Is.EqualTo(1));
            Assert.That(pins.Edges, Is.EqualTo(32));
        });
    }

    [Test]
    public void Bus_OnAPortWithoutTheController_RefusesWithOneLine()
    {
        using var port = new WrongIdPort();
        var e = Assert.Throws<FlashException>(() => new SpiControllerBus(port, new SpiBusSettings(SpiBusSettings.PcieBackend)));
        Assert.That(e!.Message, Does.Contain("no SPI flash controller at a BAR of nothing").And.Contain("0x00000000"));
    }

    [TestCase(100_000_000, 25_000_000, 1)]
    [TestCase(100_000_000, 50_000_000, 0)]
    [TestCase(100_000_000, 30_000_000, 1)]
    [TestCase(125_000_000, 10_000_000, 6)]
    [TestCase(100_000_000, 10_000, 255)]
    public void DividerFor_GivesTheFastestSckNotAboveTheRequest(long clockHz, long requestHz, int div)
    {
        Assert.That(SpiControllerBus.DividerFor(clockHz, requestHz), Is.EqualTo(div));
    }

    /// <summary>Watches the pins each cycle; optionally wires MOSI back to MISO.</summary>
    private sealed class PinRecorder(SpiFlashCtrlTop top)
    {
        private readonly List<byte> _mosi = [];
        private bool _sck;
        private int _bits;
        private int _byte;
        private ulong _lastRise;

        public bool LoopBack { get; set; }

        public int SckRises { get; private set; }

        public List<ulong> SckPeriods { get; } = [];

        public byte[] MosiBytes => [.. _mosi];

        public void OnCycle()
        {
            bool sck = top.SpiSckO;
            if (LoopBack)
            {
                top.SpiMisoI = top.SpiMosiO;
            }

            if (sck && !_sck && !top.SpiCsNo)
            {
                ulong now = top.Cycle;
                if (SckRises > 0 && _bits != 0)
                {
                    SckPeriods.Add(now - _lastRise);
                }

                _lastRise = now;
                SckRises++;
                _byte = (_byte << 1) | (top.SpiMosiO ? 1 : 0);
                if (++_bits == 8)
                {
                    _mosi.Add((byte)_byte);
                    _bits = 0;
                }
            }

            _sck = sck;
        }
    }

    /// <summary>A port where no controller answers: every register reads 0.</summary>
    private sealed class WrongIdPort : SpiControllerPort
    {
        public override string Description => "a BAR of nothing";

        public override long ControllerClockHz => 100_000_000;

        public override uint Read(uint offset) => 0;

        public override void Write(uint offset, uint value)
        {
        }
    }
}
