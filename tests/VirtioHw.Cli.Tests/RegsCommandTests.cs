using VirtioHw.Registers;

namespace VirtioHw.Cli.Tests;

public sealed class RegsCommandTests
{
    [Test]
    public void RegsList_NamesEveryGeneratedBlock()
    {
        var r = Virtiohw.Run("regs", "list");
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        foreach (BlockInfo block in BlockCatalog.All)
            Assert.That(r.Stdout, Does.Contain(block.Name));
    }

    [Test]
    public void RegsShow_ListsRegistersFieldsAndOffsets()
    {
        var r = Virtiohw.Run("regs", "show", "virtio_common_cfg");
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Zero, r.Stderr);
            Assert.That(r.Stdout, Does.Contain("queue_select"));
            Assert.That(r.Stdout, Does.Contain($"0x{VirtioCommonCfg.QueueSelect.Offset:x}"));
            Assert.That(r.Stdout, Does.Contain("device_status"));
        });
    }

    [Test]
    public void RegsDecode_SplitsValueIntoFields()
    {
        var r = Virtiohw.Run("regs", "decode", "regc_selftest", "half1", "0x0123");
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Zero, r.Stderr);
            Assert.That(r.Stdout, Does.Match(@"mode\s+\[ 1: 0\] = 0x3"));
            Assert.That(r.Stdout, Does.Match(@"level\s+\[11: 4\] = 0x12"));
        });
    }

    [TestCase(new[] { "regs", "show", "nosuch" }, "no register block 'nosuch'")]
    [TestCase(new[] { "regs", "decode", "virtio_isr", "nosuch", "1" }, "block 'virtio_isr' has no register 'nosuch'")]
    [TestCase(new[] { "regs", "decode", "virtio_isr", "isr", "0xZZ" }, "'0xZZ' is not a number")]
    public void UserErrors_AreOneLineWithNonZeroExit(string[] args, string message)
    {
        var r = Virtiohw.Run(args);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Not.Zero);
            Assert.That(r.Stderr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), r.Stderr);
            Assert.That(r.Stderr, Does.StartWith("virtiohw: ").And.Contain(message));
            Assert.That(r.Stderr, Does.Not.Contain("   at "), "no stack trace");
        });
    }

    [Test]
    public void UnknownCommand_FailsWithUsage()
    {
        var r = Virtiohw.Run("frobnicate");
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Not.Zero);
            Assert.That(r.Stderr + r.Stdout, Does.Contain("frobnicate"));
        });
    }
}
