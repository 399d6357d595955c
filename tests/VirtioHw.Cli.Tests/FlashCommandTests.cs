namespace VirtioHw.Cli.Tests;

/// <summary><c>virtiohw flash</c> as a user runs it, one process per command, on the chip model.</summary>
public sealed class FlashCommandTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("vhw-flash-cli-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string File(string name, int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllBytes(path, data);
        return path;
    }

    /// <summary>The user's data in the part's last 64 KiB, then a default write of another image at 0.</summary>
    [Test]
    public void DefaultWrite_LeavesDataInThePartsLastBlockAlone()
    {
        string chip = Path.Combine(_dir, "chip.bin");
        string user = File("user.bin", 64 * 1024, 1);
        string image = File("a.bin", 1024 * 1024, 2);

        var first = Virtiohw.Run("flash", "write", user, "--offset", "0xff0000", "--no-record", "--board", "sim", "--sim-image", chip);
        Assert.That(first.ExitCode, Is.Zero, first.Stderr);
        var second = Virtiohw.Run("flash", "write", image, "--board", "sim", "--sim-image", chip);
        Assert.That(second.ExitCode, Is.Zero, second.Stderr);
        Assert.That(second.Stdout, Does.Contain("no flash record area is declared"));
        var verify = Virtiohw.Run("flash", "verify", user, "--offset", "0xff0000", "--board", "sim", "--sim-image", chip);
        Assert.That(verify.ExitCode, Is.Zero, verify.Stdout + verify.Stderr);
    }

    [Test]
    public void NoRecordWithARecordArea_IsOneLineAndANonZeroExit()
    {
        string image = File("a.bin", 4096, 3);
        var r = Virtiohw.Run("flash", "write", image, "--board", "sim", "--no-record", "--record-area", "0x100000");
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Not.Zero);
            Assert.That(r.Stderr.Trim(), Does.Contain("--no-record and --record-area contradict each other"));
            Assert.That(r.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
        });
    }

    [Test]
    public void ListBoards_NamesEveryShippedProfile_OneALine()
    {
        var r = Virtiohw.Run("flash", "--list-boards");
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        string[] lines = r.Stdout.Trim().Split('\n');
        Assert.That(lines.Select(l => l.Split(' ')[0]), Is.SupersetOf(new[] { "icebreaker", "icestick", "generic-spi", "sim", "pcie-cosim", "smartnic-pcie" }));
        Assert.That(lines.Single(l => l.StartsWith("icebreaker", StringComparison.Ordinal)), Does.Contain("ftdi"));
    }

    [Test]
    public void ClockAsPeopleWriteIt_ReachesTheBoard()
    {
        var r = Virtiohw.Run("flash", "info", "--board", "sim", "--clock-hz", "6M");
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Does.Contain("at 6000000 Hz"));
    }
}
