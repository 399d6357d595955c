using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>The flash subcommands end to end on the sim board: what a user sees, what the chip holds.</summary>
[TestFixture]
public class FlashToolTests
{
    private string _dir = null!;
    private StringWriter _out = null!;
    private FlashTool _tool = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = TestData.TempDirectory();
        _out = new StringWriter();
        _tool = new FlashTool(_out, SilentProgressHost.Instance);
    }

    [TearDown]
    public void TearDown()
    {
        _out.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string File(string name, byte[] data)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllBytes(path, data);
        return path;
    }

    private FlashToolOptions Sim(string? simImage = null, SimulatedFlash? model = null, string board = "sim") =>
        new() { Board = board, SimImage = simImage, Simulation = model };

    [Test]
    public void WriteThenVerify_InSeparateRuns_SharesContentsThroughTheSimImage()
    {
        string simImage = Path.Combine(_dir, "chip.bin");
        string image = File("app.bin", TestData.Random(70_000, 61));
        Assert.That(_tool.Write(Sim(simImage), image, offset: 0x100000, dryRun: false, unprotect: false), Is.Zero);
        Assert.That(_tool.Verify(Sim(simImage), image, offset: 0x100000), Is.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(new FileInfo(simImage).Length, Is.EqualTo(16 * PartTable.MiB));
            Assert.That(_out.ToString(), Does.Contain("the flash matches all 70000 bytes at 0x100000"));
        });
    }

    [Test]
    public void Verify_WithoutTheSimImage_FailsNamingTheFirstAddress()
    {
        string image = File("app.bin", TestData.Filled(10, 0x00));
        var e = Assert.Throws<FlashVerifyException>(() => _tool.Verify(Sim(), image, offset: 0x40));
        Assert.That(e!.Message, Is.EqualTo("verify failed: 10 byte(s) differ from the image, at 0x000040-0x000049"));
    }

    [Test]
    public void Write_ReportsTheIdentifiedPartTheWorkAndCdone()
    {
        string image = File("app.bin", TestData.Random(5000, 62));
        _tool.Write(Sim(), image, offset: null, dryRun: false, unprotect: false);
        string text = _out.ToString();
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("flash: Winbond W25Q128JV, 16 MiB (JEDEC ef4018, table)"));
            Assert.That(text, Does.Contain("wrote 5000 bytes at 0x000000 with 0 erase(s) (0 B) and 20 page program(s) (5000 bytes); verified"));
            Assert.That(text, Does.Contain("CDONE went high"));
            Assert.That(text, Does.Contain("chip model: "));
        });
    }

    [Test]
    public void DryRun_PrintsThePlanAndLeavesTheChipAlone()
    {
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        model.Load(0, TestData.Filled(8192, 0x00));
        string image = File("app.bin", TestData.Random(8192, 63));
        _tool.Write(Sim(model: model), image, offset: 0, dryRun: true, unprotect: false);
        string text = _out.ToString();
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("dry run: "));
            Assert.That(text, Does.Contain("erase   0x000000-0x000fff (4 KiB block, opcode 0x20)"));
            Assert.That(text, Does.Contain("program 0x000000-0x001fff (32 pages, 8192 bytes)"));
            Assert.That(model.Operations, Is.Empty);
        });
    }

    [Test]
    public void DryRun_OverProtectedRange_SaysItWouldBeRefused()
    {
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        model.SetStatusRegisters(0x1c);
        _tool.Write(Sim(model: model), File("a.bin", [1]), offset: 0, dryRun: true, unprotect: false);
        Assert.That(_out.ToString(), Does.Contain("the write would be refused: 0x000000-0xffffff is write-protected"));
    }

    [Test]
    public void Write_BlankedFlash_LeavesCdoneLowAndWarns()
    {
        // Writing 0xff over a blank part configures nothing: the simulated iCE40 never raises CDONE.
        _tool.Write(Sim(), File("blank.bin", TestData.Filled(16, 0xff)), offset: 0, dryRun: false, unprotect: false);
        Assert.That(_out.ToString(), Does.Contain("warning: CDONE stayed low 1000 ms after releasing CRESET_B"));
    }

    [Test]
    public void Ice40Board_HoldsCresetLowUntilReleased_ThenReportsCdone()
    {
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        BoardProfile profile = BoardProfiles.Find("sim");
        using BoardConnection board = BoardConnection.Open(profile, simulation: model);
        board.HoldFpgaInReset();
        Assert.That(board.Creset!.Read(), Is.False);
        CdoneReport? report = board.ReleaseFpga();
        Assert.Multiple(() =>
        {
            Assert.That(board.Creset.Read(), Is.True);
            Assert.That(report?.High, Is.False, "blank flash");
            Assert.That(report?.After, Is.EqualTo(TimeSpan.FromSeconds(1)), "waited the profile's CDONE timeout in model time");
        });
    }

    [Test]
    public void PowerLossDuringWrite_IsReportedAsTheFailure()
    {
        var failing = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        failing.SchedulePowerLossAfterBusBytes(100);
        var e = Assert.Throws<SimulatedPowerLossException>(() =>
            _tool.Write(Sim(model: failing), File("x.bin", TestData.Random(1000, 64)), 0, dryRun: false, unprotect: false));
        Assert.That(e!.Message, Is.EqualTo("simulated power loss after 100 bus bytes"));
    }

    [Test]
    public void BitFileForAnotherPart_IsRefusedBeforeTheBoardIsOpened()
    {
        string board = Path.Combine(_dir, "arty.yaml");
        System.IO.File.WriteAllText(board, "adapter: sim\nfpga:\n  part: xc7a35t\n");
        string bit = File("top.bit", XilinxBitFileTests.MakeBit("7a100tcsg324", [1, 2, 3]));
        var e = Assert.Throws<FlashException>(() => _tool.Write(Sim(board: board), bit, offset: 0, dryRun: false, unprotect: false));
        Assert.That(e!.Message, Is.EqualTo($"{bit} is built for part 7a100tcsg324, but board arty has a xc7a35t"));
    }

    [Test]
    public void BitFileForTheBoardsPart_WritesOnlyThePayload()
    {
        string board = Path.Combine(_dir, "arty.yaml");
        System.IO.File.WriteAllText(board, "adapter: sim\nfpga:\n  part: xc7a35t\n");
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        byte[] payload = TestData.Random(3000, 65);
        _tool.Write(Sim(model: model, board: board), File("top.bit", XilinxBitFileTests.MakeBit("7a35tcsg324", payload)), 0, false, false);
        Assert.That(model.Contents[..3000].ToArray(), Is.EqualTo(payload));
    }

    [Test]
    public void ImageLargerThanTheFlash_IsRefusedAndTheSimImageIsUnchanged()
    {
        string simImage = Path.Combine(_dir, "chip.bin");
        _tool.Write(Sim(simImage), File("small.bin", [0x12]), 0, false, false);
        byte[] before = System.IO.File.ReadAllBytes(simImage);
        string big = File("big.bin", new byte[(16 * 1024 * 1024) + 1]);
        var e = Assert.Throws<FlashException>(() => _tool.Write(Sim(simImage), big, 0, false, false));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("past the end of the 16 MiB W25Q128JV"));
            Assert.That(System.IO.File.ReadAllBytes(simImage), Is.EqualTo(before));
        });
    }

    [Test]
    public void Read_WritesTheRequestedRangeToAFile()
    {
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        byte[] data = TestData.Random(4096, 66);
        model.Load(0x8000, data);
        string output = Path.Combine(_dir, "dump.bin");
        _tool.Read(Sim(model: model), output, offset: 0x8000, length: 4096);
        Assert.That(System.IO.File.ReadAllBytes(output), Is.EqualTo(data));
    }

    [Test]
    public void Read_PastTheEnd_NamesTheOption()
    {
        var e = Assert.Throws<FlashException>(() => _tool.Read(Sim(), Path.Combine(_dir, "d.bin"), offset: 0xfff000, length: 0x2000));
        Assert.That(e!.Message, Does.StartWith("--length 0x2000 from 0xfff000 runs past the end"));
    }

    [Test]
    public void EraseWithoutRange_ErasesTheWholeChip()
    {
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q32JV);
        model.Load(0x123, [0]);
        string board = Path.Combine(_dir, "small.yaml");
        System.IO.File.WriteAllText(board, "adapter: sim\nsim:\n  chip: W25Q32JV\n");
        _tool.Erase(Sim(model: model, board: board), offset: null, length: null, unprotect: false);
        Assert.Multiple(() =>
        {
            Assert.That(model.Operations.Single().Kind, Is.EqualTo(SimOperationKind.ChipErase));
            Assert.That(_out.ToString(), Does.Contain("erased all 4 MiB of the W25Q32JV; it reads blank"));
        });
    }

    [Test]
    public void Info_ShowsPartStatusAndSfdp()
    {
        _tool.Info(Sim());
        string text = _out.ToString();
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("JEDEC ID:    ef4018"));
            Assert.That(text, Does.Contain("erase sizes: 4 KiB (0x20), 32 KiB (0x52), 64 KiB (0xd8)"));
            Assert.That(text, Does.Contain("protected:   nothing"));
            Assert.That(text, Does.Contain("SFDP:        revision 1.6"));
        });
    }

    [Test]
    public void FourByteBoard_WritesAboveSixteenMiB_AndLeavesThreeByteMode()
    {
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q256JV);
        byte[] image = TestData.Random(10_000, 67);
        // The image takes the last 64 KiB; the record area named just below it, still above
        // 16 MiB, is written with 4-byte addresses too.
        var options = new FlashToolOptions
        {
            Board = "sim-w25q256",
            Simulation = model,
            Record = new FlashRecordSettings { AreaStart = 0x1fe0000 },
        };
        _tool.Write(options, File("hi.bin", image), 0x1ffd000, false, false);
        image[5] ^= 0xff;
        _tool.Write(options, File("hi.bin", image), 0x1ffd000, false, false);
        Assert.Multiple(() =>
        {
            Assert.That(model.Contents.Slice(0x1ffd000, image.Length).ToArray(), Is.EqualTo(image));
            Assert.That(model.IsInFourByteMode, Is.False);
            Assert.That(_out.ToString(), Does.Contain("planned from the flash record at 0x1fe0000"));
        });
    }
}
