using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

[TestFixture]
public class BoardProfileTests
{
    private static IEnumerable<string> ShippedProfiles() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "boards"), "*.yaml").Select(Path.GetFileNameWithoutExtension)!;

    [TestCaseSource(nameof(ShippedProfiles))]
    public void ShippedProfile_Loads(string name)
    {
        BoardProfile profile = BoardProfiles.Find(name);
        Assert.Multiple(() =>
        {
            Assert.That(profile.Name, Is.EqualTo(name));
            Assert.That(profile.Description, Is.Not.Empty);
            Assert.That(profile.RecordArea, Is.Null, "a shipped profile reserves nothing outside the images it is given");
        });
    }

    [Test]
    public void RecordArea_IsReadAsOffsetAndLength()
    {
        BoardProfile profile = BoardProfiles.Parse("b.yaml", "adapter: sim\nflash:\n  record-area: 0xfe0000,128K\n");
        Assert.Multiple(() =>
        {
            Assert.That(profile.RecordArea?.AreaStart, Is.EqualTo(0xfe0000));
            Assert.That(profile.RecordArea?.AreaLength, Is.EqualTo(128 * 1024));
            Assert.That(BoardProfiles.Parse("b.yaml", "adapter: sim\nflash:\n  record-area: 1M\n").RecordArea?.AreaLength, Is.EqualTo(64 * 1024));
        });
    }

    [Test]
    public void MalformedRecordArea_NamesTheFileAndTheValue()
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "adapter: sim\nflash:\n  record-area: end\n"));
        Assert.That(e!.Message, Is.EqualTo("b.yaml: flash record-area 'end' is not OFFSET or OFFSET,LENGTH (decimal, 0x hex, or with K/M suffix)"));
    }

    [Test]
    public void ShippedProfiles_IncludeTheDocumentedBoards()
    {
        Assert.That(BoardProfiles.Available(), Is.SupersetOf(new[] { "icebreaker", "icestick", "generic-spi", "sim" }));
    }

    [Test]
    public void Icebreaker_UsesChannelAWithIceprogPins()
    {
        BoardProfile profile = BoardProfiles.Find("icebreaker");
        Assert.Multiple(() =>
        {
            Assert.That(profile.Adapter, Is.EqualTo("ftdi"));
            Assert.That(profile.Ftdi!.Interface, Is.EqualTo('A'));
            Assert.That((profile.Ftdi.VendorId, profile.Ftdi.ProductId), Is.EqualTo((0x0403, 0x6010)));
            Assert.That((profile.Ftdi.ChipSelectPin, profile.Ftdi.CdonePin, profile.Ftdi.CresetPin), Is.EqualTo((4, (int?)6, (int?)7)));
            Assert.That(profile.Reset, Is.EqualTo(ResetKind.Ice40));
        });
    }

    [Test]
    public void UnknownKey_NamesTheFileAndLine()
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "adapter: sim\nclok-hz: 5\n"));
        Assert.That(e!.Message, Does.StartWith("b.yaml line 2: "));
    }

    [Test]
    public void MissingAdapter_IsReported()
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "name: x\n"));
        Assert.That(e!.Message, Is.EqualTo("b.yaml: 'adapter' is missing (ftdi, spidev, sim, pcie, pcie-cosim or iot)"));
    }

    [Test]
    public void FtdiPinOnTheSpiLines_IsRefused()
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "adapter: ftdi\nftdi:\n  pins:\n    cs: 1\n"));
        Assert.That(e!.Message, Does.Contain("ftdi pin cs = 1 is not usable"));
    }

    [Test]
    public void Ice40ResetWithoutItsPins_IsRefused()
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "adapter: ftdi\nftdi:\n  pins:\n    cs: 4\nreset:\n  kind: ice40\n"));
        Assert.That(e!.Message, Does.Contain("needs ftdi pins creset and cdone"));
    }

    [Test]
    public void NumbersMayBeHexOrSuffixed()
    {
        BoardProfile profile = BoardProfiles.Parse("b.yaml", "adapter: sim\nclock-hz: 0x1000000\nflash:\n  offset: 64K\n");
        Assert.Multiple(() =>
        {
            Assert.That(profile.ClockHz, Is.EqualTo(0x1000000));
            Assert.That(profile.FlashOffset, Is.EqualTo(65536));
        });
    }

    [Test]
    public void UnknownSimChip_ListsTheModels()
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "adapter: sim\nsim:\n  chip: AT25SF081\n"));
        Assert.That(e!.Message, Does.Contain("W25Q128JV"));
    }

    [Test]
    public void UnknownBoardName_ListsTheKnownOnes()
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Find("no-such-board"));
        Assert.That(e!.Message, Does.StartWith("--board no-such-board: no such board profile (known: ").And.Contain("icebreaker"));
    }

    [Test]
    public void ProfileGivenAsAPath_IsLoaded()
    {
        string dir = TestData.TempDirectory();
        try
        {
            string path = Path.Combine(dir, "mine.yaml");
            File.WriteAllText(path, "adapter: sim\nfpga:\n  part: xc7a35t\n");
            BoardProfile profile = BoardProfiles.Find(path);
            Assert.Multiple(() =>
            {
                Assert.That(profile.Name, Is.EqualTo("mine"));
                Assert.That(profile.FpgaPart, Is.EqualTo("xc7a35t"));
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

[TestFixture]
public class UnitsTests
{
    [TestCase("0", 0L)]
    [TestCase("4096", 4096L)]
    [TestCase("0x10000", 65536L)]
    [TestCase("0X1f", 31L)]
    [TestCase("64K", 65536L)]
    [TestCase("1M", 1048576L)]
    [TestCase("0x10K", 16384L)]
    [TestCase(" 2m ", 2097152L)]
    public void TryParse_AcceptsDecimalHexAndSuffixes(string text, long expected)
    {
        Assert.Multiple(() =>
        {
            Assert.That(Units.TryParse(text, out long value), Is.True);
            Assert.That(value, Is.EqualTo(expected));
        });
    }

    [TestCase("")]
    [TestCase("-1")]
    [TestCase("0x")]
    [TestCase("12Q")]
    [TestCase("99999999999999999999")]
    [TestCase("9999999999999999G")]
    public void TryParse_RejectsTheRest(string text)
    {
        Assert.That(Units.TryParse(text, out _), Is.False);
    }

    [TestCase(16L * 1024 * 1024, "16 MiB")]
    [TestCase(4096L, "4 KiB")]
    [TestCase(300L, "300 B")]
    public void Size_UsesExactBinaryUnits(long bytes, string expected)
    {
        Assert.That(Units.Size(bytes), Is.EqualTo(expected));
    }
}
