using VirtioHw.Drivers.Ism;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Domain.Tests;

/// <summary>
/// The domain server (<c>virtiohw domain serve</c>, a process of its own) killed with SIGKILL
/// while a peer process and this process share a region, then restarted on the same socket:
/// both notice at once (the device reports DEVICE_NEEDS_RESET, the driver throws
/// <see cref="IsmDeviceNeedsResetException"/>), their windows no longer reach the dead domain's
/// memory (what one writes after the loss the other never sees), and both rejoin the restarted
/// server, where the old regions are gone and new ones work.
/// </summary>
[CancelAfter(180_000)]
[NonParallelizable]
public sealed class ServerRestartTests
{
    private const ulong Size = 100_000;

    [Test]
    public async Task ServerKilled_PeersAreToldTheirRegionsAreLost_AndRejoinTheRestartedServer(CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("vhwd-").FullName;
        string socket = Path.Combine(directory, "d.sock");
        PeerProcess? server = null;
        try
        {
            server = await ServeAsync(socket, cancellationToken);
            using var peer = PeerProcess.StartInteractive("domain", "peer", "-o", "domain=" + socket);
            await peer.WaitForLineAsync("ready devid", cancellationToken);
            string allocated = await peer.AskAsync($"alloc {Size}", cancellationToken);
            Assert.That(allocated, Does.StartWith("ok token 0x"), peer.Transcript);
            ulong token = Convert.ToUInt64(allocated.Split(' ')[2], 16);
            Assert.That(await peer.AskAsync($"fill 0x{token:x} 0x11", cancellationToken), Does.StartWith("ok"), peer.Transcript);

            IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(socket, devices: 1), cancellationToken);
            IsmDevice here = bench.Devices[0];
            IsmRegion region = await here.AttachAsync(token, cancellationToken: cancellationToken);
            Assert.That(Reads(region), Is.All.EqualTo(0x11), "the peer's bytes, before the loss");

            server.KillAndWait();
            server.Dispose();

            // Both sides are told: the driver's event stream ends with the error, and so do commands.
            Assert.That(async () => await here.WaitForEventAsync(_ => false, cancellationToken), Throws.InstanceOf<IsmDeviceNeedsResetException>());
            Assert.That(async () => await here.QueryAsync(token, cancellationToken), Throws.InstanceOf<IsmDeviceNeedsResetException>());
            Assert.That(await peer.AskAsync("wait-lost", cancellationToken), Does.StartWith("ok lost: ").And.Contain("DEVICE_NEEDS_RESET"), peer.Transcript);

            // The windows no longer reach the dead domain's memory: what the peer writes now stays with it.
            Assert.That(await peer.AskAsync($"fill 0x{token:x} 0x22", cancellationToken), Does.StartWith("ok"), peer.Transcript);
            Assert.That(await peer.AskAsync($"check 0x{token:x} 0x22", cancellationToken), Does.StartWith("ok"), "the peer's own view");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(Reads(region), Is.All.Zero, "neither the old bytes nor the peer's new ones");
                Assert.That(bench.Domain.Server!.Memory.Span.ContainsAnyExcept((byte)0), Is.False, "the whole domain memory of this process is its own zeroed copy");
            }

            // Resetting the broken device (closing it) works although its domain is gone.
            await bench.DisposeAsync();

            server = await ServeAsync(socket, cancellationToken);
            {
                string rejoined = await peer.AskAsync("rejoin", cancellationToken);
                Assert.That(rejoined, Does.StartWith("ok ready devid"), peer.Transcript);
                await using IsmBench again = await IsmBench.StartAsync(IsmModelDomain.Join(socket, devices: 1), cancellationToken);
                IsmDevice fresh = again.Devices[0];
                Assert.That(async () => await fresh.AttachAsync(token, cancellationToken: cancellationToken), Throws.InstanceOf<IsmNoEntryException>(), "the old region did not survive the server");

                string second = await peer.AskAsync($"alloc {Size}", cancellationToken);
                Assert.That(second, Does.StartWith("ok token 0x"), peer.Transcript);
                ulong newToken = Convert.ToUInt64(second.Split(' ')[2], 16);
                IsmRegion shared = await fresh.AttachAsync(newToken, cancellationToken: cancellationToken);
                Assert.That(await peer.AskAsync($"fill 0x{newToken:x} 0x33", cancellationToken), Does.StartWith("ok"), peer.Transcript);
                Assert.That(await peer.AskAsync($"kick 0x{newToken:x}", cancellationToken), Does.StartWith("ok"), peer.Transcript);
                IsmEvent update = await fresh.WaitForEventAsync(e => e.Type == IsmEventType.Update, cancellationToken);
                using (Assert.EnterMultipleScope())
                {
                    Assert.That(update.Offset, Is.EqualTo(shared.Offset));
                    Assert.That(Reads(shared), Is.All.EqualTo(0x33), "the peer's bytes through this window, in the restarted domain");
                }

                peer.Tell("quit");
                Assert.That(await peer.WaitForExitAsync(cancellationToken), Is.Zero, peer.Transcript);
            }
        }
        finally
        {
            server?.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<PeerProcess> ServeAsync(string socket, CancellationToken cancellationToken)
    {
        PeerProcess server = PeerProcess.Start("domain", "serve", "--socket", socket);
        await server.WaitForLineAsync("domain server on " + socket, cancellationToken);
        return server;
    }

    private static byte[] Reads(IsmRegion region)
    {
        var bytes = new byte[region.Size];
        region.Read(0, bytes);
        return bytes;
    }
}
