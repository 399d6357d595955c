using VirtioHw.Flash;
using VirtioHw.Platforms.Cosim.Flash;
using VirtioHw.Registers;

namespace VirtioHw.Flash.Tests.Pcie;

/// <summary>
/// The flash driver and the minimal-erase programmer through the RTL controller: every byte the
/// chip model sees was shifted bit by bit by the Verilated spi_flash_ctrl_top.
/// </summary>
[TestFixture]
public class PcieCosimFlashTests
{
    private CosimFlashHarness? _h;

    [TearDown]
    public void TearDown()
    {
        _h?.Dispose();
        _h = null;
    }

    private CosimFlashHarness Open(string chip = "W25Q128JV") => _h = new CosimFlashHarness(SimulatedChipSpec.ForName(chip));

    private static WriteOutcome Write(CosimFlashHarness h, byte[] image, long at)
    {
        using SpiNorFlash flash = SpiNorFlash.Open(h.Bus);
        return new FlashProgrammer(flash).Write(FlashImage.FromBytes("image.bin", image), at);
    }

    [Test]
    public void JedecId_ReadThroughTheRtl_IsThePartsId()
    {
        CosimFlashHarness h = Open();
        using SpiNorFlash flash = SpiNorFlash.Open(h.Bus);
        Assert.Multiple(() =>
        {
            Assert.That(flash.JedecId, Is.EqualTo(h.Model.Part.JedecId));
            Assert.That(flash.Part.Name, Is.EqualTo(h.Model.Part.Name));
            Assert.That(h.Port.SckEdges, Is.EqualTo(8 * h.Model.BusBytes), "the model saw whole bytes only, all of them from the pins");
        });
    }

    [Test]
    public void Sfdp_ReadThroughTheRtl_IsTheModelsTable_AndParses()
    {
        CosimFlashHarness h = Open();
        byte[] expected = SfdpImage.Build(h.Model.Spec);
        byte[] read = new byte[expected.Length];
        h.Bus.CommandRead([SpiNorOpcodes.ReadSfdp, 0, 0, 0, 0], read);
        using SpiNorFlash flash = SpiNorFlash.Open(h.Bus, readSfdp: true);
        Assert.Multiple(() =>
        {
            Assert.That(read, Is.EqualTo(expected));
            Assert.That(flash.Sfdp, Is.Not.Null);
            Assert.That(flash.Sfdp!.Size, Is.EqualTo(h.Model.Part.Size));
        });
    }

    [Test]
    public void Write_SmallImage_ProgramsAndVerifies_ThroughTheRtl()
    {
        CosimFlashHarness h = Open();
        byte[] image = TestData.Random(10_000, 71);
        h.Model.Load(0x20000, TestData.Random(8192, 72));
        WriteOutcome outcome = Write(h, image, 0x20000);
        Assert.Multiple(() =>
        {
            Assert.That(h.Model.Contents.Slice(0x20000, image.Length).ToArray(), Is.EqualTo(image));
            Assert.That(outcome.Plan.PageCount, Is.EqualTo((image.Length + 255) / 256));
            Assert.That(outcome.RetriedRanges, Is.Zero);
            Assert.That(h.Port.SckEdges, Is.EqualTo(8 * h.Model.BusBytes));
        });
    }

    [Test]
    public void Write_OneByteChange_ReflashErasesOneSectorAtMost()
    {
        CosimFlashHarness h = Open();
        byte[] image = TestData.Random(12_000, 73);
        Write(h, image, 0x40000);
        image[9_000] ^= 0x5a;
        int before = h.Model.Operations.Count;
        WriteOutcome outcome = Write(h, image, 0x40000);
        var operations = h.Model.Operations.Skip(before).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(h.Model.Contents.Slice(0x40000, image.Length).ToArray(), Is.EqualTo(image));
            Assert.That(outcome.Plan.EraseBytes, Is.LessThanOrEqualTo(4096));
            Assert.That(operations.Count(o => o.Kind != SimOperationKind.PageProgram), Is.LessThanOrEqualTo(1), "one 4 KiB erase at most");
            Assert.That(operations.Count(o => o.Kind == SimOperationKind.PageProgram), Is.LessThanOrEqualTo(16), "only the erased sector's pages");
        });
    }

    [Test]
    public void Write_Above16MiB_UsesFourByteAddresses_ThroughTheRtl()
    {
        CosimFlashHarness h = Open("W25Q256JV");
        byte[] image = TestData.Random(3_000, 74);
        Write(h, image, 0x1800100);
        Assert.Multiple(() =>
        {
            Assert.That(h.Model.Contents.Slice(0x1800100, image.Length).ToArray(), Is.EqualTo(image));
            Assert.That(h.Model.Contents.Slice(0x0800100, image.Length).ToArray(), Is.EqualTo(TestData.Filled(image.Length, 0xff)),
                "nothing landed at the address with its top byte cut off");
        });
    }

    [Test]
    public void PageProgramAndRead_MoveFourBytesPerDataRegisterAccess()
    {
        CosimFlashHarness.RequireLibrary();
        var model = new SimulatedFlash(SimulatedChipSpec.ForName("W25Q64JV")) { TimeScale = 0.01 };
        var port = new CountingPort(new CosimControllerPort(model));
        using var bus = new SpiControllerBus(port, new SpiBusSettings(SpiBusSettings.PcieCosimBackend) { ClockHz = CosimFlashHarness.SckHz });
        byte[] page = TestData.Random(256, 76);
        bus.Command([SpiNorOpcodes.WriteEnable]);
        port.Reset();
        bus.CommandWrite([SpiNorOpcodes.PageProgram, 0x00, 0x50, 0x00], page);
        (int programTx, int programRx) = (port.TxAccesses, port.RxAccesses);
        bus.Wait(TimeSpan.FromMilliseconds(10));
        byte[] back = new byte[256];
        port.Reset();
        bus.CommandRead([SpiNorOpcodes.Read, 0x00, 0x50, 0x00], back);
        Assert.Multiple(() =>
        {
            Assert.That(back, Is.EqualTo(page));
            Assert.That(programTx, Is.EqualTo(1 + 64), "opcode and address in one word, then 64 words of data");
            Assert.That(programRx, Is.Zero, "a write takes nothing back");
            Assert.That(port.TxAccesses, Is.EqualTo(1), "the read's header is one word; its data comes from filler bytes");
            Assert.That(port.RxAccesses, Is.EqualTo(64));
        });
    }

    [Test]
    public void Verify_ACorruptedReadBack_IsReportedWithTheAddress()
    {
        CosimFlashHarness h = Open();
        byte[] image = TestData.Filled(1024, 0x00);
        h.Model.CorruptReads(0x30000 + 777, 0x10);
        var e = Assert.Throws<FlashVerifyException>(() => Write(h, image, 0x30000));
        Assert.That(e!.Mismatches, Is.EqualTo(new[] { 0x30000L + 777 }));
    }

    /// <summary>Counts the accesses to the controller's data registers on the way through.</summary>
    private sealed class CountingPort(SpiControllerPort inner) : SpiControllerPort
    {
        public int TxAccesses { get; private set; }

        public int RxAccesses { get; private set; }

        public override string Description => inner.Description;

        public override long ControllerClockHz => inner.ControllerClockHz;

        public override TimeProvider Time => inner.Time;

        public void Reset() => (TxAccesses, RxAccesses) = (0, 0);

        public override uint Read(uint offset)
        {
            if (offset is SpiFlashCtrl.RxData4.Offset or SpiFlashCtrl.RxData1.Offset)
            {
                RxAccesses++;
            }

            return inner.Read(offset);
        }

        public override void Write(uint offset, uint value)
        {
            if (offset is SpiFlashCtrl.TxData4.Offset or SpiFlashCtrl.TxData1.Offset)
            {
                TxAccesses++;
            }

            inner.Write(offset, value);
        }

        public override void Wait(TimeSpan duration) => inner.Wait(duration);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
        }
    }
}
