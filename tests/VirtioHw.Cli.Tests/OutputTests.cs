using System.Text.Json;

namespace VirtioHw.Cli.Tests;

/// <summary>Output fit for pipes and scripts: no escape codes or box drawing unless asked, JSON shapes, exit codes.</summary>
public sealed class OutputTests
{
    private static readonly Dictionary<string, string?> ColourTerminal = new() { ["NO_COLOR"] = null, ["TERM"] = "xterm-256color" };

    private static bool HasEscapesOrBoxes(string text) => text.Contains('\u001b') || text.Any(c => c is >= '\u2500' and <= '\u257f');

    [Test]
    public void PipedTable_IsPlainText_EvenWhereTheTerminalCouldColour()
    {
        var r = Virtiohw.RunIn(ColourTerminal, "regs", "show", "virtio_common_cfg");
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        Assert.That(HasEscapesOrBoxes(r.Stdout), Is.False, r.Stdout);
        Assert.That(r.Stdout, Does.Match(@"(?m)^\s*0x14\s+device_status"), "one row a line, columns aligned, nothing wrapped");
    }

    [Test]
    public void ColorAlways_Colours_AndNoColorWins_OverAuto()
    {
        var always = Virtiohw.RunIn(ColourTerminal, "regs", "show", "virtio_isr", "--color", "always");
        Assert.That(always.Stdout, Does.Contain("\u001b["));
        var noColor = Virtiohw.RunIn(new Dictionary<string, string?> { ["NO_COLOR"] = "1", ["TERM"] = "xterm" }, "regs", "show", "virtio_isr", "--color", "auto");
        Assert.That(noColor.Stdout, Does.Not.Contain("\u001b"));
        var bad = Virtiohw.Run("regs", "list", "--color", "sometimes");
        Assert.That(bad.ExitCode, Is.EqualTo(2), bad.Stderr);
    }

    [Test]
    public void RegsJson_HasTheDocumentedShape()
    {
        var list = Virtiohw.Run("regs", "list", "--json");
        Assert.That(list.ExitCode, Is.Zero, list.Stderr);
        using JsonDocument blocks = JsonDocument.Parse(list.Stdout);
        JsonElement isr = blocks.RootElement.EnumerateArray().Single(b => b.GetProperty("name").GetString() == "virtio_isr");
        Assert.That(isr.GetProperty("size").GetInt32(), Is.EqualTo(4));

        var show = Virtiohw.Run("regs", "show", "virtio_common_cfg", "--json");
        using JsonDocument block = JsonDocument.Parse(show.Stdout);
        JsonElement status = block.RootElement.GetProperty("registers").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "device_status");
        Assert.That(status.GetProperty("offset").GetUInt32(), Is.EqualTo(VirtioHw.Registers.VirtioCommonCfg.DeviceStatus.Offset));

        var decode = Virtiohw.Run("regs", "decode", "regc_selftest", "half1", "0x0123", "--json");
        using JsonDocument fields = JsonDocument.Parse(decode.Stdout);
        JsonElement level = fields.RootElement.GetProperty("fields").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "level");
        Assert.That(level.GetProperty("value").GetUInt64(), Is.EqualTo(0x12));
    }

    [Test]
    public void FlashInfoJson_IsOneDocumentAndNothingElse()
    {
        var r = Virtiohw.Run("flash", "info", "--board", "sim", "--json");
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        using JsonDocument info = JsonDocument.Parse(r.Stdout);
        Assert.Multiple(() =>
        {
            Assert.That(info.RootElement.GetProperty("jedecId").GetString(), Is.EqualTo("ef4018"));
            Assert.That(info.RootElement.GetProperty("size").GetInt64(), Is.EqualTo(16 * 1024 * 1024));
            Assert.That(info.RootElement.GetProperty("eraseSizes").GetArrayLength(), Is.GreaterThanOrEqualTo(3));
        });
    }

    [TestCase("lspci", "-s", "00:1f.8")]
    [TestCase("regs", "decode", "virtio_isr", "isr", "0xzz")]
    [TestCase("flash", "write", "x.bin", "--board", "sim", "--clock-hz", "fast")]
    [TestCase("regs", "show")]
    public void UsageErrors_ExitTwo_InFewLines(params string[] args)
    {
        var r = Virtiohw.Run(args);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Stdout + r.Stderr);
        Assert.That(r.Stderr.Trim().Split('\n'), Has.Length.LessThanOrEqualTo(3));
    }

    [Test]
    public void VerifyMismatch_HasAnExitCodeOfItsOwn_ListedInHelp()
    {
        string dir = Directory.CreateTempSubdirectory("vhw-verify-").FullName;
        try
        {
            string image = Path.Combine(dir, "a.bin");
            File.WriteAllBytes(image, [1, 2, 3, 4]);
            var r = Virtiohw.Run("flash", "verify", image, "--board", "sim");
            Assert.That(r.ExitCode, Is.EqualTo(4), r.Stderr);
            var help = Virtiohw.Run("--help");
            Assert.That(help.Stdout, Does.Contain("4 flash verify found differences"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
