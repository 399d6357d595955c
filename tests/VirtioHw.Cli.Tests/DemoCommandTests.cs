using System.Diagnostics;
using System.Text.RegularExpressions;

namespace VirtioHw.Cli.Tests;

/// <summary><c>virtiohw demo</c> and <c>virtiohw domain</c> as a user runs them: the real executable, its exit code and transcript.</summary>
public sealed partial class DemoCommandTests
{
    [Test]
    public void Demo_ExitsZero_AndTellsEveryStepOfTheThreePersonalities()
    {
        Virtiohw.Result r = Virtiohw.Run("demo");
        Assert.That(r.ExitCode, Is.Zero, r.Stdout + r.Stderr);
        string[] essential =
        [
            "== virtio-ism ==",
            "enumerated 00:01.0 1af4:106c",
            "enumerated 00:02.0 1af4:106c",
            "A granted devid 2 read, write and attach",
            "A got ATTACH of the region at 0x0 by devid 2, 1 peer(s)",
            "B got UPDATE of the region at 0x0 from devid 1",
            "B read \"hello from device A through the shared ISM region\"",
            "A got DETACH of the region at 0x0 by devid 2, 0 peer(s)",
            "the region is freed (0 regions left, 256 of 256 chunks free)",
            "== ivshmem ==",
            "peer 1 interrupted on vector 1, read \"ping from IVPosition 0\"",
            "peer 0 interrupted on vector 1, read \"pong from IVPosition 1\"",
            "== virtio-dmabuf ==",
            "device released it",
        ];
        using (Assert.EnterMultipleScope())
        {
            foreach (string line in essential)
            {
                Assert.That(r.Stdout, Does.Contain(line));
            }

            Assert.That(TimedLine().Matches(r.Stdout), Has.Count.GreaterThanOrEqualTo(essential.Length - 3), "each step carries its time");
            Assert.That(Regex.Matches(r.Stdout, "done"), Has.Count.EqualTo(3), "each part ends with done");
            Assert.That(r.Stderr, Is.Empty);
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task DomainServe_WithTwoDemoProcesses_ShareTheMessage(CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("vhwc-").FullName;
        string socket = Path.Combine(directory, "d.sock");
        using Process server = Start("domain", "serve", "--socket", socket);
        try
        {
            Task<string> serverOutput = server.StandardOutput.ReadToEndAsync(cancellationToken);
            while (!File.Exists(socket))
            {
                await Task.Delay(20, cancellationToken);
            }

            using Process a = Start("domain", "demo", "--side", "a", "-o", "domain=" + socket);
            string? line;
            string tokenLine = string.Empty;
            var aOutput = new List<string>();
            while ((line = await a.StandardOutput.ReadLineAsync(cancellationToken)) is not null)
            {
                aOutput.Add(line);
                if (line.Contains("token 0x", StringComparison.Ordinal))
                {
                    tokenLine = line;
                    break;
                }
            }

            string token = tokenLine[(tokenLine.IndexOf("token ", StringComparison.Ordinal) + "token ".Length)..].Trim();
            Virtiohw.Result b = await Task.Run(() => Virtiohw.Run("domain", "demo", "--side", "b", "--token", token, "-o", "domain=" + socket), cancellationToken);
            aOutput.Add(await a.StandardOutput.ReadToEndAsync(cancellationToken));
            await a.WaitForExitAsync(cancellationToken);
            // SIGTERM, not SIGINT: a test run started from a background job inherits SIGINT ignored
            // (POSIX shells do that without job control), and an ignored signal stays ignored across exec.
            using (Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
            }

            await server.WaitForExitAsync(cancellationToken);
            string serverText = await serverOutput;
            string aText = string.Join('\n', aOutput);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(b.ExitCode, Is.Zero, b.Stdout + b.Stderr);
                Assert.That(b.Stdout, Does.Contain("B: read \"hello from device A through the shared ISM region\""));
                Assert.That(a.ExitCode, Is.Zero, aText);
                Assert.That(aText, Does.Contain("A: got ATTACH by devid 2, 1 peer(s)"));
                Assert.That(aText, Does.Contain("A: detached; done"));
                Assert.That(server.ExitCode, Is.Zero, serverText);
                Assert.That(serverText, Does.Contain("peer 1 joined").And.Contain("peer 2 joined").And.Contain("peer 1 left").And.Contain("peer 2 left"));
                Assert.That(serverText, Does.Contain("domain server stopped"));
                Assert.That(File.Exists(socket), Is.False, "the server removes its socket");
            }
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void DomainDemo_WithoutADomainOption_IsOneLineOnStderr()
    {
        Virtiohw.Result r = Virtiohw.Run("domain", "demo", "--side", "a");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.ExitCode, Is.Not.Zero);
            Assert.That(r.Stderr.Trim(), Does.Contain("domain=PATH").And.Not.Contain("\n"));
        }
    }

    [Test]
    public void DomainDemo_WithNoServerThere_IsOneLineOnStderr()
    {
        Virtiohw.Result r = Virtiohw.Run("domain", "demo", "--side", "a", "-o", "domain=/nonexistent/d.sock");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.ExitCode, Is.Not.Zero);
            Assert.That(r.Stderr.Trim(), Does.Contain("/nonexistent/d.sock").And.Not.Contain("\n"));
        }
    }

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "virtiohw.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["NO_COLOR"] = "1";
        return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
    }

    [GeneratedRegex(@"^\[\s*\d+\.\d{3} ms\] ", RegexOptions.Multiline)]
    private static partial Regex TimedLine();
}
