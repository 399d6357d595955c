using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using VirtioHw.Platforms.Qemu.Ivshmem;

namespace VirtioHw.Cli.Tests;

/// <summary>
/// <c>ivshmem-server</c> and <c>domain serve</c> run as services do: log lines with timestamps and
/// levels in the format asked for, every join and refusal with the peer's pid, SIGTERM stops them;
/// <c>ivshmem-server --compat qemu</c> is QEMU 7.2's server (no join interrupt).
/// </summary>
[CancelAfter(120_000)]
[NonParallelizable]
public sealed class ServerCommandTests
{
    private const int Vectors = 2;

    private string _directory = null!;

    [SetUp]
    public void MakeDirectory() => _directory = Directory.CreateTempSubdirectory("vhwc-srv-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public async Task IvshmemServer_JsonLog_NamesThePeersPid_ForAJoinAndARefusal(CancellationToken cancellationToken)
    {
        string socket = Path.Combine(_directory, "ivshmem.sock");
        await using (var server = Server.Start(socket, "ivshmem-server", "--socket", socket, "--vectors", "2", "--max-peers", "1", "--log-format", "json"))
        {
            using IvshmemClient first = await IvshmemClient.ConnectAsync(socket, Vectors, cancellationToken);
            Assert.That(() => IvshmemClient.ConnectAsync(socket, Vectors, cancellationToken), Throws.InstanceOf<IOException>(), "the server is full");
            await server.StopAsync();

            JsonElement[] lines = [.. server.Lines.Select(l => JsonDocument.Parse(l).RootElement)];
            JsonElement joined = lines.Single(l => l.GetProperty("EventId").GetInt32() == 11);
            JsonElement refused = lines.Single(l => l.GetProperty("EventId").GetInt32() == 14);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(joined.GetProperty("LogLevel").GetString(), Is.EqualTo("Information"));
                Assert.That(joined.GetProperty("State").GetProperty("Pid").GetInt32(), Is.EqualTo(Environment.ProcessId));
                Assert.That(joined.GetProperty("State").GetProperty("PeerId").GetInt32(), Is.EqualTo(first.Id));
                Assert.That(DateTimeOffset.Parse(joined.GetProperty("Timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                    Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(2)));
                Assert.That(refused.GetProperty("LogLevel").GetString(), Is.EqualTo("Warning"));
                Assert.That(refused.GetProperty("State").GetProperty("Pid").GetInt32(), Is.EqualTo(Environment.ProcessId));
                Assert.That(refused.GetProperty("Message").GetString(), Does.Contain("server full (1 peers)"));
                Assert.That(lines.Select(l => l.GetProperty("EventId").GetInt32()), Does.Contain(1).And.Contain(2), "listening and stopped");
                Assert.That(server.ExitCode, Is.Zero, server.Stderr);
            }
        }
    }

    [TestCase(null, true)]
    [TestCase("qemu", false)]
    public async Task IvshmemServer_Compat_DecidesWhetherAJoinRingsVectorZero(string? compat, bool rings, CancellationToken cancellationToken)
    {
        string socket = Path.Combine(_directory, "ivshmem.sock");
        string[] args = ["ivshmem-server", "--socket", socket, "--vectors", "2", .. compat is null ? Array.Empty<string>() : ["--compat", compat]];
        await using var server = Server.Start(socket, args);
        using IvshmemClient first = await IvshmemClient.ConnectAsync(socket, Vectors, cancellationToken);
        using IvshmemClient second = await IvshmemClient.ConnectAsync(socket, Vectors, cancellationToken);
        IvshmemPeerEvent announced = await first.PeerEvents.ReadAsync(cancellationToken);
        Assert.That(announced, Is.EqualTo(new IvshmemPeerEvent(second.Id, Joined: true)));

        if (rings)
        {
            long count = await first.WaitAsync(0, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            Assert.That(count, Is.EqualTo(1), "the join notification on vector 0");
        }
        else
        {
            // The server signals, if at all, right after it sent the newcomer's eventfds; give it time to.
            await Task.Delay(500, cancellationToken);
            Assert.That(first.TryTake(0, out _), Is.False, "QEMU 7.2's server rings nothing on a join");
        }

        Assert.That(first.TryTake(1, out _), Is.False, "a join never rings a doorbell vector");
    }

    [TestCase("simple", @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: VirtioHw\.DomainServer\[1\] domain server on ")]
    [TestCase("systemd", @"^<6>VirtioHw\.DomainServer\[1\] domain server on ")]
    public async Task DomainServe_LogsInTheFormatAsked_AndStopsOnSigterm(string format, string pattern)
    {
        string socket = Path.Combine(_directory, "domain.sock");
        await using var server = Server.Start(socket, "domain", "serve", "--socket", socket, "--memory", "1M", "--log-format", format);
        await server.StopAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(server.ExitCode, Is.Zero, server.Stderr);
            Assert.That(server.Lines.First(), Does.Match(pattern));
            Assert.That(server.Lines.Last(), Does.Contain("domain server stopped"));
        }
    }

    [Test]
    public void LogFormat_Unknown_IsAUsageError()
    {
        Virtiohw.Result r = Virtiohw.Run("ivshmem-server", "--socket", Path.Combine(_directory, "s.sock"), "--log-format", "xml");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Stderr);
    }

    /// <summary>A server running as a child process, its standard output collected line by line.</summary>
    private sealed class Server : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly Task<string> _stderr;

        private Server(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 } line)
                {
                    _lines.Enqueue(line);
                }
            };
            _process.BeginOutputReadLine();
            _stderr = _process.StandardError.ReadToEndAsync();
        }

        public IReadOnlyList<string> Lines => [.. _lines];

        public int ExitCode => _process.ExitCode;

        public string Stderr => _stderr.IsCompleted ? _stderr.Result : string.Empty;

        /// <summary>Starts <c>virtiohw</c> with <paramref name="args"/> and waits for its first log line (it listens then; the socket file appears a little earlier).</summary>
        public static Server Start(string socket, params string[] args)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "virtiohw.dll"));
            foreach (string a in args)
            {
                start.ArgumentList.Add(a);
            }

            start.Environment["NO_COLOR"] = "1";
            var server = new Server(Process.Start(start)!);
            var waited = Stopwatch.StartNew();
            while (server._lines.IsEmpty || !File.Exists(socket))
            {
                if (server._process.HasExited || waited.Elapsed > TimeSpan.FromSeconds(60))
                {
                    Assert.Fail($"virtiohw {string.Join(' ', args)} did not listen on {socket}: {server.Stderr}");
                }

                Thread.Sleep(20);
            }

            return server;
        }

        /// <summary>SIGTERM, as a service manager stops it, then waits for it to exit.</summary>
        public async Task StopAsync()
        {
            using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await _stderr;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                await StopAsync();
            }

            _process.Dispose();
        }
    }
}
