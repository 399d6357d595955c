using System.Net.Sockets;
using VirtioHw.Platforms.Qemu.Ivshmem;
using VirtioHw.Platforms.Qemu.Native;

namespace VirtioHw.Qemu.Tests;

/// <summary>The ivshmem server and C# peers on their own, no QEMU involved.</summary>
[CancelAfter(TestSupport.TimeoutMilliseconds)]
public sealed class IvshmemServerTests
{
    private TempDirectory _temp = null!;

    [SetUp]
    public void CreateDirectory() => _temp = new TempDirectory();

    [TearDown]
    public void RemoveDirectory() => _temp.Dispose();

    // QEMU 7.2's server unless asked: most of these check its protocol, where vector 0 is a doorbell like any.
    private IvshmemServer StartServer(int vectors = 2, int maxPeers = 8, string? sharedMemory = null, int? maxQueued = null, bool notifyJoins = false) =>
        IvshmemServer.Start(new IvshmemServerSettings
        {
            NotifyJoins = notifyJoins,
            SocketPath = _temp.File("ivshmem.sock"),
            SharedMemory = sharedMemory,
            Size = 64 * 1024,
            Vectors = vectors,
            MaxPeers = maxPeers,
            MaxQueuedMessages = maxQueued ?? 16384,
        });

    [Test]
    public async Task Handshake_OnTheWire_IsVersionIdMemoryThenPeersThenOwnVectors(CancellationToken ct)
    {
        using IvshmemServer server = StartServer(vectors: 3);
        using IvshmemClient first = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 3, ct);

        using Socket raw = TestSupport.ConnectRaw(server.Settings.SocketPath);
        long[] messages = await TestSupport.ReadMessagesAsync(raw, 3 + 3 + 3, ct);

        // version 0, own id 1, -1 (memory), peer 0 once per vector, then itself once per vector.
        Assert.That(messages, Is.EqualTo(new long[] { 0, 1, -1, 0, 0, 0, 1, 1, 1 }));
    }

    [Test]
    public async Task Peers_GetIdsFromZero_AndLearnOfEachOther(CancellationToken ct)
    {
        using IvshmemServer server = StartServer();
        using IvshmemClient first = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        using IvshmemClient second = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);

        IvshmemPeerEvent joined = await first.PeerEvents.ReadAsync(ct);

        Assert.Multiple(() =>
        {
            Assert.That(first.Id, Is.EqualTo(0));
            Assert.That(second.Id, Is.EqualTo(1));
            Assert.That(second.Peers, Is.EqualTo(new[] { 0 }), "peers present at the handshake");
            Assert.That(joined, Is.EqualTo(new IvshmemPeerEvent(1, Joined: true)));
            Assert.That(first.Peers, Is.EqualTo(new[] { 1 }));
            Assert.That(server.PeerIds, Is.EqualTo(new[] { 0, 1 }));
        });
    }

    [Test]
    public async Task Ring_ReachesTheChosenVectorOfTheChosenPeer(CancellationToken ct)
    {
        using IvshmemServer server = StartServer(vectors: 3);
        using IvshmemClient first = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 3, ct);
        using IvshmemClient second = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 3, ct);

        Assert.That(second.Ring(first.Id, 2), Is.True);
        long rings = await first.WaitAsync(2, ct);
        Assert.That(first.Ring(second.Id, 0), Is.True);
        long back = await second.WaitAsync(0, ct);

        Assert.Multiple(() =>
        {
            Assert.That(rings, Is.EqualTo(1));
            Assert.That(back, Is.EqualTo(1));
            Assert.That(first.TryTake(0, out _), Is.False, "vector 0 of the first peer was not rung");
        });
    }

    [Test]
    public async Task Join_ByDefault_RingsVectorZeroOfEveryPeerPresent_AndOnlyThat(CancellationToken ct)
    {
        using IvshmemServer server = StartServer(vectors: 3, notifyJoins: true);
        using IvshmemClient first = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 3, ct);
        using IvshmemClient second = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 3, ct);

        long firstHeard = await first.WaitAsync(0, ct);
        using IvshmemClient third = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 3, ct);
        long[] heard = [await first.WaitAsync(0, ct), await second.WaitAsync(0, ct)];

        Assert.Multiple(() =>
        {
            Assert.That(firstHeard, Is.EqualTo(1), "the second peer's join");
            Assert.That(heard, Is.EqualTo(new long[] { 1, 1 }), "the third peer's join, at both");
            Assert.That(third.TryTake(0, out _) || first.TryTake(1, out _) || second.TryTake(2, out _), Is.False, "no other vector, and nothing for the newcomer");
        });
    }

    [Test]
    public async Task Ring_AbsentPeerOrVector_IsIgnoredLikeQemusDoorbell(CancellationToken ct)
    {
        using IvshmemServer server = StartServer(vectors: 2);
        using IvshmemClient client = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);

        Assert.Multiple(() =>
        {
            Assert.That(client.Ring(42, 0), Is.False);
            Assert.That(client.Ring(client.Id, 2), Is.False);
        });
    }

    [Test]
    public async Task SharedMemory_WrittenByOnePeer_IsSeenByTheOther(CancellationToken ct)
    {
        using IvshmemServer server = StartServer();
        using IvshmemClient first = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        using IvshmemClient second = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);

        "hello from peer 0"u8.CopyTo(first.SharedMemory[4096..]);

        Assert.Multiple(() =>
        {
            Assert.That(second.SharedMemoryLength, Is.EqualTo(64 * 1024));
            Assert.That(second.SharedMemory.Slice(4096, 17).ToArray(), Is.EqualTo("hello from peer 0"u8.ToArray()));
        });
    }

    [Test]
    public async Task Leave_IsAnnouncedToThePeersThatStay(CancellationToken ct)
    {
        using IvshmemServer server = StartServer();
        using IvshmemClient stays = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        IvshmemClient leaves = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        Assert.That(await stays.PeerEvents.ReadAsync(ct), Is.EqualTo(new IvshmemPeerEvent(1, Joined: true)));

        leaves.Dispose();

        Assert.Multiple(async () =>
        {
            Assert.That(await stays.PeerEvents.ReadAsync(ct), Is.EqualTo(new IvshmemPeerEvent(1, Joined: false)));
            Assert.That(stays.Peers, Is.Empty);
            Assert.That(stays.Ring(1, 0), Is.False, "the leaver's eventfds are gone");
        });
    }

    [Test]
    public async Task Ids_AreNotReusedRightAfterAPeerLeft(CancellationToken ct)
    {
        using IvshmemServer server = StartServer();
        using IvshmemClient first = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        IvshmemClient second = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        second.Dispose();
        await server.NextEventAsync(e => e.Kind == IvshmemServerEventKind.PeerLeft, ct);

        using IvshmemClient third = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);

        Assert.That(third.Id, Is.EqualTo(2));
    }

    [Test]
    public async Task ClientSendingGarbage_IsDisconnected_AndTheOthersHearItLeft(CancellationToken ct)
    {
        using IvshmemServer server = StartServer();
        using IvshmemClient good = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        using Socket rogue = TestSupport.ConnectRaw(server.Settings.SocketPath);
        await TestSupport.ReadMessagesAsync(rogue, 3 + 2 + 2, ct);
        Assert.That(await good.PeerEvents.ReadAsync(ct), Is.EqualTo(new IvshmemPeerEvent(1, Joined: true)));

        await rogue.SendAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), SocketFlags.None, ct);

        IvshmemServerEvent left = await server.NextEventAsync(e => e.Kind == IvshmemServerEventKind.PeerLeft, ct);
        Assert.Multiple(async () =>
        {
            Assert.That(left.PeerId, Is.EqualTo(1));
            Assert.That(left.Detail, Does.StartWith("sent "));
            Assert.That(await good.PeerEvents.ReadAsync(ct), Is.EqualTo(new IvshmemPeerEvent(1, Joined: false)));
            Assert.That(await rogue.ReceiveAsync(new byte[8], SocketFlags.None, ct), Is.Zero, "the rogue's connection is closed");
        });
    }

    [Test]
    public async Task ClientVanishingMidHandshake_LeavesTheServerServing(CancellationToken ct)
    {
        using IvshmemServer server = StartServer();
        using IvshmemClient good = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        for (int i = 0; i < 20; i++)
        {
            using Socket vanishing = TestSupport.ConnectRaw(server.Settings.SocketPath);
            vanishing.Close(0);
        }

        using IvshmemClient late = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        Assert.That(late.Ring(good.Id, 1), Is.True);

        Assert.Multiple(async () =>
        {
            Assert.That(await good.WaitAsync(1, ct), Is.EqualTo(1));
            Assert.That(late.Peers, Does.Contain(good.Id));
            Assert.That(late.Id, Is.Not.EqualTo(good.Id));
        });
    }

    [Test]
    public async Task ConnectionsBeyondMaxPeers_AreRefused_WhileMembersCarryOn(CancellationToken ct)
    {
        using IvshmemServer server = StartServer(maxPeers: 2);
        using IvshmemClient first = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        using IvshmemClient second = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);

        using Socket third = TestSupport.ConnectRaw(server.Settings.SocketPath);
        int read = await third.ReceiveAsync(new byte[8], SocketFlags.None, ct);
        IvshmemServerEvent refused = await server.NextEventAsync(e => e.Kind == IvshmemServerEventKind.Refused, ct);

        Assert.Multiple(() =>
        {
            Assert.That(read, Is.Zero, "closed without a handshake");
            Assert.That(refused.Detail, Is.EqualTo("server full (2 peers)"));
            Assert.That(first.Ring(second.Id, 0), Is.True);
        });
        Assert.That(await second.WaitAsync(0, ct), Is.EqualTo(1));
    }

    [Test]
    public async Task ByteFlood_DisconnectsOnlyTheFlooder(CancellationToken ct)
    {
        using IvshmemServer server = StartServer();
        using IvshmemClient good = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        using Socket flooder = TestSupport.ConnectRaw(server.Settings.SocketPath);
        byte[] junk = new byte[64 * 1024];
        Random.Shared.NextBytes(junk);

        // Keep sending until the server hangs up; the flood is unbounded from the flooder's side.
        try
        {
            while (true)
            {
                await flooder.SendAsync(junk, SocketFlags.None, ct);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
        }

        using IvshmemClient late = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 2, ct);
        Assert.Multiple(() =>
        {
            Assert.That(server.PeerIds, Is.EqualTo(new[] { good.Id, late.Id }));
            Assert.That(late.Peers, Is.EqualTo(new[] { good.Id }));
        });
    }

    [Test]
    public async Task PeerThatNeverReads_IsDisconnectedOnceItsQueueFills(CancellationToken ct)
    {
        // 3 + 4 peers x 1 vector: the smallest queue the settings allow.
        using IvshmemServer server = StartServer(vectors: 1, maxPeers: 4, maxQueued: 7);
        using Socket sleeper = TestSupport.ConnectRaw(server.Settings.SocketPath);
        await server.NextEventAsync(e => e.Kind == IvshmemServerEventKind.PeerJoined, ct);

        // Each join and leave is one more message for the sleeper, until its socket and queue are full.
        IvshmemServerEvent dropped;
        while (true)
        {
            IvshmemClient churn = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 1, ct);
            churn.Dispose();
            if (!server.PeerIds.Contains(0))
            {
                dropped = await server.NextEventAsync(e => e.Kind == IvshmemServerEventKind.PeerLeft && e.PeerId == 0, ct);
                break;
            }
        }

        using IvshmemClient after = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 1, ct);
        Assert.Multiple(() =>
        {
            Assert.That(dropped.Detail, Is.EqualTo("stopped reading its messages"));
            Assert.That(server.PeerIds, Is.EqualTo(new[] { after.Id }));
        });
    }

    [Test]
    public async Task RestartedServer_LetsPeersReconnect_ToTheSameNamedMemory(CancellationToken ct)
    {
        string memory = _temp.File("shared.mem");
        IvshmemServer first = StartServer(sharedMemory: memory);
        using IvshmemClient before = await IvshmemClient.ConnectAsync(first.Settings.SocketPath, 2, ct);
        using IvshmemClient other = await IvshmemClient.ConnectAsync(first.Settings.SocketPath, 2, ct);
        "kept across restarts"u8.CopyTo(before.SharedMemory);

        first.Dispose();
        string reason = await before.Disconnected.WaitAsync(ct);
        Assert.That(before.Ring(other.Id, 1), Is.True, "eventfds of live peers outlive the server");
        Assert.That(await other.WaitAsync(1, ct), Is.EqualTo(1));

        using IvshmemServer second = StartServer(sharedMemory: memory);
        using IvshmemClient again = await IvshmemClient.ConnectAsync(second.Settings.SocketPath, 2, ct);

        Assert.Multiple(() =>
        {
            Assert.That(reason, Does.Contain("closed the connection"));
            Assert.That(again.Id, Is.EqualTo(0), "a new server counts from 0 again");
            Assert.That(again.SharedMemory[..20].ToArray(), Is.EqualTo("kept across restarts"u8.ToArray()));
            Assert.That(again.Peers, Is.Empty, "peers of the old server are not carried over");
        });
    }

    [Test]
    public void Start_OnASocketALiveServerOwns_FailsInOneLine()
    {
        using IvshmemServer server = StartServer();

        var error = Assert.Throws<IOException>(() => StartServer());

        Assert.That(error!.Message, Is.EqualTo($"another server listens on {server.Settings.SocketPath}"));
    }

    [Test]
    public void Start_OnAStaleSocketFile_ReplacesIt()
    {
        string path = _temp.File("ivshmem.sock");
        // A server that died leaves its socket file behind (.NET's own Socket would remove it).
        UnixSocket.Listen(path, 1).Dispose();

        Assert.That(File.Exists(path), Is.True, "precondition: a socket file nobody listens on");

        using IvshmemServer server = StartServer();

        Assert.That(server.PeerIds, Is.Empty);
    }

    [Test]
    public void Start_OnAPathThatIsNotASocket_RefusesToReplaceIt()
    {
        string path = _temp.File("ivshmem.sock");
        File.WriteAllText(path, "precious");

        var error = Assert.Throws<IOException>(() => StartServer());

        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Is.EqualTo($"{path} exists and is not a socket; not replacing it"));
            Assert.That(File.ReadAllText(path), Is.EqualTo("precious"));
        });
    }

    [Test]
    public void Dispose_RemovesTheSocketFile()
    {
        IvshmemServer server = StartServer();

        server.Dispose();

        Assert.That(File.Exists(server.Settings.SocketPath), Is.False);
    }

    [Test]
    public async Task Client_ExpectingFewerVectorsThanTheServerHas_IsToldWhy(CancellationToken ct)
    {
        using IvshmemServer server = StartServer(vectors: 2);

        using IvshmemClient client = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 1, ct);
        string reason = await client.Disconnected.WaitAsync(ct);

        Assert.That(reason, Is.EqualTo($"the ivshmem server at {server.Settings.SocketPath} sent this client more than 1 vectors"));
    }

    [Test]
    public void Connect_WhereNobodyListens_FailsInOneLine()
    {
        string path = _temp.File("nobody.sock");

        var error = Assert.ThrowsAsync<IOException>(() => IvshmemClient.ConnectAsync(path, 1));

        Assert.That(error!.Message, Does.StartWith($"cannot connect to {path}: "));
    }

    [TestCase(3000, 1, "shared memory size 3000 is not a power of two of at least 4096 bytes (QEMU maps it as a BAR)")]
    [TestCase(4096, 0, "0 vectors is outside 1 to 64")]
    [TestCase(4096, 65, "65 vectors is outside 1 to 64")]
    public void Settings_OutOfRange_AreRejectedInOneLine(long size, int vectors, string message)
    {
        var settings = new IvshmemServerSettings { SocketPath = _temp.File("s.sock"), Size = size, Vectors = vectors };

        var error = Assert.Throws<ArgumentException>(() => IvshmemServer.Start(settings));

        Assert.That(error!.Message, Is.EqualTo(message));
    }
}
