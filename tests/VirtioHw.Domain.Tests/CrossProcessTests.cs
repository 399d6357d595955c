using System.Text;
using VirtioHw.Drivers.Ism;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Domain.Tests;

/// <summary>Real peer processes (the built virtiohw) and the test process in one domain server.</summary>
[CancelAfter(120_000)]
public sealed class CrossProcessTests
{
    [Test]
    public async Task TwoProcesses_ShareARegion_AndExchangeDataAndEvents(CancellationToken cancellationToken)
    {
        using var domain = new TestDomain();
        using PeerProcess a = PeerProcess.Start("domain", "demo", "--side", "a", "-o", "domain=" + domain.SocketPath);
        ulong token = await TokenOfAsync(a, cancellationToken);
        using PeerProcess b = PeerProcess.Start("domain", "demo", "--side", "b", "--token", $"0x{token:x}", "-o", "domain=" + domain.SocketPath);

        int bExit = await b.WaitForExitAsync(cancellationToken);
        int aExit = await a.WaitForExitAsync(cancellationToken);
        await domain.WaitForPeersAsync(0, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(aExit, Is.Zero, a.Transcript);
            Assert.That(bExit, Is.Zero, b.Transcript);
            Assert.That(a.Transcript, Does.Contain("A: got ATTACH by devid 2, 1 peer(s)"));
            Assert.That(a.Transcript, Does.Contain("A: got DETACH by devid 2, 0 peer(s)"));
            Assert.That(b.Transcript, Does.Contain("B: got UPDATE of the region at 0x0 from devid 1"));
            Assert.That(b.Transcript, Does.Contain($"B: read \"{IsmDemo.Message}\""));
            Assert.That(domain.Server.Domain.FreeChunks, Is.EqualTo(domain.Server.Domain.ChunkCount), "every chunk back in the pool");
            Assert.That(domain.Server.Domain.MemberCount, Is.Zero);
        }
    }

    [Test]
    public async Task KilledPeer_IsDetached_TheOthersGetDetach_AndItsChunksReturnCleared(CancellationToken cancellationToken)
    {
        using var domain = new TestDomain();
        using PeerProcess a = PeerProcess.Start("domain", "demo", "--side", "a", "-o", "domain=" + domain.SocketPath);
        ulong token = await TokenOfAsync(a, cancellationToken);

        await using IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(domain.SocketPath, devices: 1), cancellationToken);
        IsmDevice here = bench.Devices[0];
        IsmRegion region = await here.AttachAsync(token, cancellationToken: cancellationToken);
        IsmEvent update = await here.WaitForEventAsync(e => e.Type == IsmEventType.Update, cancellationToken);
        var seen = new byte[IsmDemo.Message.Length];
        region.Read(0, seen);
        Assert.That(Encoding.UTF8.GetString(seen), Is.EqualTo(IsmDemo.Message), "what the other process wrote, read through this process's window");

        a.Kill();
        IsmEvent detached = await here.WaitForEventAsync(e => e.Type == IsmEventType.Detach, cancellationToken);
        await domain.WaitForPeersAsync(1, cancellationToken);
        int freeWhileReferred = domain.Server.Domain.FreeChunks;
        await region.DetachAsync(cancellationToken);
        IsmRegion again = await here.AllocateAsync(4096, cancellationToken);
        var reused = new byte[IsmDemo.Message.Length];
        again.Read(0, reused);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(detached.DevId, Is.EqualTo(update.DevId), "the killed process's device");
            Assert.That(detached.Peers, Is.Zero, "nobody but the receiver refers to the region");
            Assert.That(detached.Offset, Is.EqualTo(region.Offset));
            Assert.That(freeWhileReferred, Is.EqualTo(domain.Server.Domain.ChunkCount - 1), "the region lives while this process refers to it");
            // Chunks are taken lowest first: the new region has the chunk the killed process wrote.
            Assert.That(reused, Is.All.Zero, "cleared before reuse");
            Assert.That(domain.Server.Domain.FreeChunks, Is.EqualTo(domain.Server.Domain.ChunkCount - 1));
        }
    }

    [Test]
    public async Task KilledSoleReferrer_ReturnsItsChunksToThePool(CancellationToken cancellationToken)
    {
        using var domain = new TestDomain();
        using PeerProcess a = PeerProcess.Start("domain", "demo", "--side", "a", "-o", "domain=" + domain.SocketPath);
        await TokenOfAsync(a, cancellationToken);
        Assert.That(domain.Server.Domain.FreeChunks, Is.EqualTo(domain.Server.Domain.ChunkCount - 1));

        a.Kill();
        await domain.WaitForPeersAsync(0, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(domain.Server.Domain.FreeChunks, Is.EqualTo(domain.Server.Domain.ChunkCount));
            Assert.That(domain.Server.Domain.RegionCount, Is.Zero);
            Assert.That(domain.Server.Domain.MemberCount, Is.Zero);
        }
    }

    [Test]
    public async Task DomainServe_PrintsJoinsAndLeaves_AndRemovesItsSocketOnSigterm(CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("vhwd-").FullName;
        string socket = Path.Combine(directory, "d.sock");
        try
        {
            using PeerProcess server = PeerProcess.Start("domain", "serve", "--socket", socket);
            await server.WaitForLineAsync("domain server on " + socket, cancellationToken);
            using (var client = RemoteIsmDomain.Connect(socket))
            {
                await server.WaitForLineAsync("peer 1 joined", cancellationToken);
            }

            await server.WaitForLineAsync("peer 1 left", cancellationToken);
            using (var terminate = System.Diagnostics.Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await terminate.WaitForExitAsync(cancellationToken);
            }

            int exit = await server.WaitForExitAsync(cancellationToken);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(exit, Is.Zero, server.Transcript);
                Assert.That(server.Transcript, Does.Contain("domain server stopped"));
                Assert.That(File.Exists(socket), Is.False, "the socket is removed");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<ulong> TokenOfAsync(PeerProcess a, CancellationToken cancellationToken)
    {
        string line = await a.WaitForLineAsync(IsmDomainDemo.TokenLinePrefix, cancellationToken);
        Assert.That(IsmDomainDemo.TryParseTokenLine(line, out ulong token), Is.True, line);
        return token;
    }
}
