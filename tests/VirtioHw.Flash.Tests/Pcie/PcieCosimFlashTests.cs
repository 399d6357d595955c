using VirtioHw.Flash;

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
    public void TearDown() => _h?.Dispose();

    private CosimFlashHarness Open(string chip = "W25Q128JV") => _h = new CosimFlashHarness(SimulatedChipSpec.ForName(chip));

    private static WriteOutcome Write(CosimFlashHarness h, byte[] image, long at)
    {
        using SpiNorFlash flash = SpiNorFlash.Open(h.Bus);
        return new FlashProgrammer(flash).Write(FlashImage.FromBytes("image.bin", image), at, dryRun: false, unprotect: false);
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
    public void Verify_ACorruptedReadBack_IsReportedWithTheAddress()
    {
        CosimFlashHarness h = Open();
        byte[] image = TestData.Filled(1024, 0x00);
        h.Model.CorruptReads(0x30000 + 777, 0x10);
        var e = Assert.Throws<FlashVerifyException>(() => Write(h, image, 0x30000));
        Assert.That(e!.Mismatches, Is.EqualTo(new[] { 0x30000L + 777 }));
    }
}
