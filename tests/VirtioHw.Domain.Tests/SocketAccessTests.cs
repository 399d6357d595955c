using System.Collections.Concurrent;

namespace VirtioHw.Domain.Tests;

/// <summary>
/// Who may connect: the socket file gets the mode and group asked for (0600 by default) before
/// anyone can connect, and a connection whose credentials the same rule does not allow is refused
/// with one line naming the peer's uid, gid and pid. These tests run as root, whom the kernel lets
/// through any file mode: the refusal is the server's own check of SO_PEERCRED.
/// </summary>
[CancelAfter(60_000)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SocketAccessTests
{
    private const uint OtherGroup = 54_321;

    private string _directory = null!;

    [SetUp]
    public void MakeDirectory() => _directory = Directory.CreateTempSubdirectory("vhwd-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void SocketFile_ByDefault_IsReadWriteForItsOwnerOnly()
    {
        string path = Path.Combine(_directory, "d.sock");
        using var server = new DomainServer(new DomainServerSettings { SocketPath = path });
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void SocketFile_HasTheModeAndGroupAsked()
    {
        string path = Path.Combine(_directory, "d.sock");
        using var server = new DomainServer(new DomainServerSettings { SocketPath = path, Access = new SocketAccess { Mode = 0b110_110_000, Group = OtherGroup } });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));
            Assert.That(GroupOf(path), Is.EqualTo(OtherGroup));
        }
    }

    [Test]
    public void Connection_TheRuleDoesNotAllow_IsRefusedWithOneLineNamingThePeer()
    {
        string path = Path.Combine(_directory, "d.sock");
        // Group members only, and this process (uid 0, gid 0) is not in that group: the kernel lets root connect; the server must not.
        using var server = new DomainServer(new DomainServerSettings { SocketPath = path, Access = new SocketAccess { Mode = 0b000_110_000, Group = OtherGroup } });
        var lines = new BlockingCollection<string>();
        server.PeerChanged += (_, e) => lines.Add(e.Message);
        IOException refused = Assert.Throws<IOException>(() => RemoteIsmDomain.Connect(path).Dispose())!;
        Assert.That(lines.TryTake(out string? line, TimeSpan.FromSeconds(10)), Is.True, "the server says why");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(line, Does.StartWith($"refused a connection from uid 0 gid 0 pid {Environment.ProcessId}: "));
            Assert.That(line, Does.Contain("mode 0060").And.Contain($"group {OtherGroup}"));
            Assert.That(line, Does.Not.Contain("\n"));
            Assert.That(refused.Message, Does.Contain("closed the connection instead of welcoming it"));
            Assert.That(server.PeerCount, Is.Zero);
        }
    }

    [Test]
    public void Connection_TheRuleAllows_IsLoggedWithThePeersCredentials()
    {
        string path = Path.Combine(_directory, "d.sock");
        using var server = new DomainServer(new DomainServerSettings { SocketPath = path });
        var lines = new BlockingCollection<string>();
        server.PeerChanged += (_, e) => lines.Add(e.Message);
        using RemoteIsmDomain client = RemoteIsmDomain.Connect(path);
        Assert.That(lines.TryTake(out string? line, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(line, Does.Match($"^peer \\d+ joined: uid 0 gid 0 pid {Environment.ProcessId}$"));
    }

    [TestCase(0b110_000_000u, 1000u, 1000u, new uint[0], ExpectedResult = true, TestName = "Allows_Owner_WithOwnerWrite")]
    [TestCase(0b100_110_110u, 1000u, 1000u, new uint[0], ExpectedResult = false, TestName = "Allows_Owner_WithoutOwnerWrite_NotEvenThroughGroupOrOthers")]
    [TestCase(0b110_110_000u, 2000u, 500u, new uint[0], ExpectedResult = true, TestName = "Allows_GroupMember_ByEffectiveGroup")]
    [TestCase(0b110_110_000u, 2000u, 2000u, new uint[] { 7, 500 }, ExpectedResult = true, TestName = "Allows_GroupMember_BySupplementaryGroup")]
    [TestCase(0b110_110_000u, 2000u, 2000u, new uint[] { 7 }, ExpectedResult = false, TestName = "Allows_Other_WithoutOthersWrite")]
    [TestCase(0b110_000_010u, 0u, 0u, new uint[0], ExpectedResult = true, TestName = "Allows_Other_WithOthersWrite")]
    [TestCase(0b110_100_110u, 2000u, 500u, new uint[0], ExpectedResult = false, TestName = "Allows_GroupMember_WithoutGroupWrite_NotEvenThroughOthers")]
    public bool Allows_FollowsTheFileModeRule(uint mode, uint uid, uint gid, uint[] groups) =>
        new SocketAccess { Mode = mode, Owner = 1000, Group = 500 }.Allows(new PeerCredentials(42, uid, gid, groups));

    [TestCase("0600", 0b110_000_000u)]
    [TestCase("660", 0b110_110_000u)]
    [TestCase("0o777", 0b111_111_111u)]
    public void ParseMode_ReadsOctal(string text, uint mode) => Assert.That(SocketAccess.ParseMode(text), Is.EqualTo(mode));

    [TestCase("0800")]
    [TestCase("01777")]
    [TestCase("rw")]
    [TestCase("")]
    public void ParseMode_RefusesWhatIsNotAMode_InOneLine(string text) =>
        Assert.That(() => SocketAccess.ParseMode(text), Throws.InstanceOf<FormatException>().With.Message.Contains($"--mode '{text}'"));

    [Test]
    public void ParseGroup_ReadsANameOrANumber()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(SocketAccess.ParseGroup("root"), Is.Zero);
            Assert.That(SocketAccess.ParseGroup("4242"), Is.EqualTo(4242));
            Assert.That(() => SocketAccess.ParseGroup("no-such-group-here"), Throws.InstanceOf<FormatException>().With.Message.Contains("no-such-group-here"));
        }
    }

    /// <summary>The group of the file at <paramref name="path"/>, from stat(1)'s %g.</summary>
    private static uint GroupOf(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%g", path]) { RedirectStandardOutput = true })!;
        string output = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return uint.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
