using VirtioHw.Flash;
using VirtioHw.Flash.Tests.Pcie;
using VirtioHw.Platforms.Cosim.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>
/// A flash command changes only what it was asked to change: the bytes around an image (in the
/// sectors it shares with them and anywhere else on the part, the part's last 64 KiB included),
/// written there by another tool, survive every command, on the chip model and through the PCIe
/// controller RTL. And a part that another tool changed inside the image's range between two runs
/// still ends up holding the image, since a run plans by reading what the part holds.
/// </summary>
[TestFixture("sim")]
[TestFixture("pcie-cosim")]
public class OutsideTheImageTests(string board)
{
    private const int Sector = 4096;

    // An image that starts and ends inside sectors it shares with other data.
    private const long ImageAt = 0x21000 + 0x123;
    private const int ImageLength = (3 * Sector) + 500;

    private static readonly SimulatedChipSpec Spec = SimulatedChipSpec.W25Q128JV;

    private string _dir = null!;
    private SimulatedFlash _model = null!;
    private FlashTool _tool = null!;
    private byte[] _before = null!;

    /// <summary>Where another tool left data: around the image, far from it, and in the part's last 64 KiB.</summary>
    private static readonly AddressRange[] Foreign =
    [
        new(0, Sector),
        new(0x20000, ImageAt - 0x20000),
        new(ImageAt + ImageLength, 0x30000 - (ImageAt + ImageLength)),
        new(0x3f000, 0x4000),
        new(Spec.Part.Size - (64 * 1024), 64 * 1024),
    ];

    private static readonly AddressRange ImageRange = new(ImageAt, ImageLength);

    [SetUp]
    public void SetUp()
    {
        if (board == "pcie-cosim")
        {
            CosimFlashHarness.RequireLibrary();
        }

        _dir = TestData.TempDirectory();
        // Busy times scaled down: through the RTL every status poll is clock cycles.
        _model = new SimulatedFlash(Spec) { TimeScale = board == "pcie-cosim" ? 0.01 : 1.0 };
        int seed = 900;
        foreach (AddressRange range in Foreign)
        {
            _model.Load(range.Start, TestData.Random((int)range.Length, seed++));
        }

        _before = _model.Contents.ToArray();
        _tool = new FlashTool(TextWriter.Null, SilentProgressHost.Instance, CosimControllerPort.Open);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private FlashToolOptions Options(string? profile = null, FlashRecordSettings? record = null) =>
        new() { Board = profile ?? board, Simulation = _model, Record = record };

    private string File(string name, byte[] data)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllBytes(path, data);
        return path;
    }

    /// <summary>Every byte outside <paramref name="allowed"/> holds what it held before the test's first command.</summary>
    private void AssertOnlyChanged(string after, params AddressRange[] allowed)
    {
        ReadOnlySpan<byte> now = _model.Contents;
        for (long a = 0; a < now.Length; a++)
        {
            if (now[(int)a] != _before[a] && !allowed.Any(r => r.Contains(a)))
            {
                Assert.Fail($"after {after}, 0x{a:x6} outside {string.Join(", ", allowed)} holds 0x{now[(int)a]:x2}, was 0x{_before[a]:x2}");
            }
        }
    }

    private bool Holds(byte[] image, long at = ImageAt) => _model.Contents.Slice((int)at, image.Length).SequenceEqual(image);

    [Test]
    public void EveryCommand_LeavesTheBytesOutsideItsRangeAlone()
    {
        byte[] image = TestData.Random(ImageLength, 1);
        string path = File("image.bin", image);

        _tool.Write(Options(), path, ImageAt, dryRun: false, unprotect: false);
        Assert.That(Holds(image), Is.True);
        AssertOnlyChanged("a write", ImageRange);

        // A re-flash with one byte changed so that a bit goes 0 -> 1: its sector needs an erase,
        // and that sector holds foreign data beside the image.
        image[10] = (byte)~image[10];
        _tool.Write(Options(), File("image.bin", image), ImageAt, dryRun: false, unprotect: false);
        Assert.That(Holds(image), Is.True);
        AssertOnlyChanged("a re-flash", ImageRange);

        byte[] other = TestData.Random(ImageLength, 2);
        _tool.Write(Options(), File("other.bin", other), ImageAt, dryRun: true, unprotect: false);
        Assert.That(Holds(image), Is.True, "a dry run changes nothing");
        AssertOnlyChanged("a dry run", ImageRange);

        Assert.That(_tool.Verify(Options(), path, ImageAt), Is.Zero);
        AssertOnlyChanged("a verify", ImageRange);

        var erased = new AddressRange(0x40000, 2 * Sector);
        _tool.Erase(Options(), erased.Start, erased.Length, unprotect: false);
        Assert.That(_model.Contents.Slice((int)erased.Start, (int)erased.Length).ContainsAnyExcept((byte)0xff), Is.False);
        AssertOnlyChanged("an erase of a range", ImageRange, erased);
    }

    [Test]
    public void NoRecordAndAnExplicitArea_ChangeOnlyTheImageAndThatArea()
    {
        byte[] image = TestData.Random(ImageLength, 3);
        var area = new AddressRange(0x100000, 64 * 1024);
        var there = new FlashRecordSettings { AreaStart = area.Start, AreaLength = area.Length };

        _tool.Write(Options(record: FlashRecordSettings.Off), File("image.bin", image), ImageAt, dryRun: false, unprotect: false);
        AssertOnlyChanged("a write with --no-record", ImageRange);

        image[20] = (byte)~image[20];
        _tool.Write(Options(record: there), File("image.bin", image), ImageAt, dryRun: false, unprotect: false);
        Assert.That(Holds(image), Is.True);
        AssertOnlyChanged("a write with --record-area", ImageRange, area);
        Assert.That(_model.Contents.Slice((int)area.Start, (int)area.Length).ContainsAnyExcept((byte)0xff), Is.True, "the record is in the area asked for");
    }

    [Test]
    public void APartChangedBehindTheToolsBack_IsStillProgrammedRight()
    {
        byte[] image = TestData.Random(ImageLength, 4);
        string path = File("image.bin", image);
        _tool.Write(Options(), path, ImageAt, dryRun: false, unprotect: false);

        // Another tool rewrites a sector inside the image's range and clears bits in another.
        _model.Load(0x22000, TestData.Random(Sector, 40));
        _model.Load(ImageAt + ImageLength - 3, [0x00, 0x00]);

        _tool.Write(Options(), path, ImageAt, dryRun: false, unprotect: false);
        Assert.That(Holds(image), Is.True, "the run compared what the part holds, not what it last wrote");
        AssertOnlyChanged("a re-flash over another tool's change", ImageRange);
        Assert.That(_tool.Verify(Options(), path, ImageAt), Is.Zero);
    }

    /// <summary>A board profile that reserves the last 64 KiB for the record: it is used there, and only there.</summary>
    [Test]
    public void AreaTheProfileReserves_IsTheOnlyPlaceBesideTheImageThatChanges()
    {
        var reserved = new AddressRange(Spec.Part.Size - (64 * 1024), 64 * 1024);
        string profile = File("reserving.yaml", System.Text.Encoding.UTF8.GetBytes(
            System.IO.File.ReadAllText(BoardProfiles.Find(board).Source)
                .Replace("flash:\n  offset: 0\n", $"flash:\n  offset: 0\n  record-area: 0x{reserved.Start:x},64K\n", StringComparison.Ordinal)));
        Assert.That(BoardProfiles.Find(profile).RecordArea, Is.Not.Null, "the profile copy reserves the area");

        byte[] image = TestData.Random(ImageLength, 5);
        var output = new StringWriter();
        var tool = new FlashTool(output, SilentProgressHost.Instance, CosimControllerPort.Open);
        tool.Write(Options(profile), File("image.bin", image), ImageAt, dryRun: false, unprotect: false);
        image[100] = (byte)~image[100];
        tool.Write(Options(profile), File("image.bin", image), ImageAt, dryRun: false, unprotect: false);
        Assert.Multiple(() =>
        {
            Assert.That(Holds(image), Is.True);
            Assert.That(output.ToString(), Does.Contain($"planned from the flash record at 0x{reserved.Start:x6}"));
        });
        AssertOnlyChanged("writes on a board that reserves a record area", ImageRange, reserved);

        // --no-record on that board withdraws the reserved area's record (inside the area) and
        // changes nothing else; the next default run reads rather than trusting it.
        image[200] = (byte)~image[200];
        tool.Write(Options(profile, FlashRecordSettings.Off), File("image.bin", image), ImageAt, dryRun: false, unprotect: false);
        AssertOnlyChanged("--no-record on that board", ImageRange, reserved);
        output.GetStringBuilder().Clear();
        image[200] = (byte)~image[200];
        tool.Write(Options(profile), File("image.bin", image), ImageAt, dryRun: false, unprotect: false);
        Assert.That(output.ToString(), Does.Contain("read and compared with the image (no flash record stands)"));
        Assert.That(Holds(image), Is.True);
    }
}
