namespace VirtioHw.Domain.Tests;

/// <summary>A domain server on a fresh socket in a directory of its own, removed afterwards.</summary>
internal sealed class TestDomain : IDisposable
{
    private readonly string _directory;

    /// <param name="stepTaken">Called by the server once a peer's request or kick took effect, before the reply (see <see cref="DomainServerSettings.StepTaken"/>).</param>
    /// <param name="maxQueuedFrames">Frames the server queues for a peer before it drops it (see <see cref="DomainServerSettings.MaxQueuedFrames"/>).</param>
    public TestDomain(Action<ushort, DomainOperation>? stepTaken = null, int maxQueuedFrames = 65536)
    {
        // UNIX socket paths are short (108 bytes): a directory right under /tmp.
        _directory = Directory.CreateTempSubdirectory("vhwd-").FullName;
        SocketPath = Path.Combine(_directory, "d.sock");
        Server = new DomainServer(new DomainServerSettings { SocketPath = SocketPath, HandshakeTimeout = TimeSpan.FromSeconds(2), StepTaken = stepTaken, MaxQueuedFrames = maxQueuedFrames });
    }

    public string SocketPath { get; }

    public DomainServer Server { get; }

    /// <summary>Waits until the server has <paramref name="peers"/> peers (it drops or admits them on threads of its own).</summary>
    public async Task WaitForPeersAsync(int peers, CancellationToken cancellationToken)
    {
        while (Server.PeerCount != peers)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    public void Dispose()
    {
        Server.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
