using VirtioHw.Domain;

namespace VirtioHw.Cli.Tests;

/// <summary>
/// <c>virtiohw domain demo</c> and the servers' access options: a domain server that goes away
/// under a running command ends it with one line and a non-zero exit code, never a stack trace;
/// an access option that is not valid is one line naming it.
/// </summary>
[CancelAfter(180_000)]
[NonParallelizable]
public sealed class DomainCommandTests
{
    private string _directory = null!;

    [SetUp]
    public void MakeDirectory() => _directory = Directory.CreateTempSubdirectory("vhwc-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public async Task DomainDemoSideA_ServerGoesAway_EndsWithOneLineAndExitCode3(CancellationToken cancellationToken)
    {
        string socket = Path.Combine(_directory, "d.sock");
        var server = new DomainServer(new DomainServerSettings { SocketPath = socket });
        try
        {
            Task<Virtiohw.Result> demo = Task.Run(() => Virtiohw.Run("domain", "demo", "--side", "a", "-o", "domain=" + socket), cancellationToken);

            // Side A has allocated its region and waits for side B, which never comes; then the server stops.
            while (server.Domain.RegionCount == 0 && !demo.IsCompleted)
            {
                await Task.Delay(20, cancellationToken);
            }

            server.Dispose();
            Virtiohw.Result result = await demo;
            string[] errors = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(result.Stdout, Does.Contain("token 0x"), "side A got as far as its region");
                Assert.That(result.ExitCode, Is.EqualTo(3), result.Stderr);
                Assert.That(errors, Has.Length.EqualTo(1), result.Stderr);
                Assert.That(errors[0], Does.StartWith($"virtiohw: lost the domain at {socket}: "));
                Assert.That(result.Stderr, Does.Not.Contain("Exception").And.Not.Contain("   at "));
            }
        }
        finally
        {
            server.Dispose();
        }
    }

    [Test]
    public void DomainDemo_NoServer_IsOneLine()
    {
        Virtiohw.Result result = Virtiohw.Run("domain", "demo", "--side", "a", "-o", "domain=" + Path.Combine(_directory, "absent.sock"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr.Trim(), Does.StartWith("virtiohw: cannot join the domain at ").And.Not.Contain("\n"));
        }
    }

    [TestCase("domain", "serve", "--mode", "0800", "--mode '0800' is not an octal mode")]
    [TestCase("domain", "serve", "--group", "no-such-group-here", "--group 'no-such-group-here' is not a group")]
    [TestCase("ivshmem-server", "", "--mode", "rwx", "--mode 'rwx' is not an octal mode")]
    [TestCase("ivshmem-server", "", "--group", "no-such-group-here", "--group 'no-such-group-here' is not a group")]
    public void ServerAccessOption_NotValid_IsOneLine(string command, string subcommand, string option, string value, string message)
    {
        string socket = Path.Combine(_directory, "s.sock");
        string[] args = subcommand.Length > 0
            ? [command, subcommand, "--socket", socket, option, value]
            : [command, "--socket", socket, option, value];
        Virtiohw.Result result = Virtiohw.Run(args);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
            Assert.That(result.Stderr.Trim(), Does.StartWith("virtiohw: " + message).And.Not.Contain("\n"));
            Assert.That(File.Exists(socket), Is.False, "nothing is left listening");
        }
    }
}
