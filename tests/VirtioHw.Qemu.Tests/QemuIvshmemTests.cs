using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Qemu;
using VirtioHw.Platforms.Qemu.Ivshmem;
using VirtioHw.Registers;

namespace VirtioHw.Qemu.Tests;

/// <summary>
/// QEMU's ivshmem devices on the QEMU platform: ivshmem-plain against its backing file, and
/// ivshmem-doorbell peers in one domain with a C# peer, on the kit's server.
/// </summary>
[CancelAfter(TestSupport.TimeoutMilliseconds)]
public sealed class QemuIvshmemTests
{
    private const ushort IvshmemVendor = 0x1af4;
    private const ushort IvshmemDevice = 0x1110;
    private const int Vectors = 4;
    private const long MemorySize = 1 << 20;

    private TempDirectory _temp = null!;

    [SetUp]
    public void CreateDirectory() => _temp = new TempDirectory();

    [TearDown]
    public void RemoveDirectory() => _temp.Dispose();

    [Test]
    public async Task IvshmemPlain_Bar2_IsTheBackingFile_BothWays(CancellationToken ct)
    {
        string backing = _temp.File("plain.mem");
        await using QemuPlatform platform = await Qemu.StartAsync(ct, QemuDevices.IvshmemPlain(backing, MemorySize));
        PciFunction ivshmem = PciBus.Scan(platform).Single(IvshmemVendor, IvshmemDevice);
        ulong bar2 = ivshmem.GetBarAddress(2);
        byte[] fromGuest = new byte[4096];
        new Random(1).NextBytes(fromGuest);
        byte[] fromHost = new byte[4096];
        new Random(2).NextBytes(fromHost);

        platform.WriteMemory(bar2 + 0x1000, fromGuest);
        using (var file = new FileStream(backing, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            file.Position = 0x3000;
            file.Write(fromHost);
        }

        byte[] seenInFile = new byte[4096];
        using (var file = new FileStream(backing, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            file.Position = 0x1000;
            file.ReadExactly(seenInFile);
        }

        byte[] seenByGuest = new byte[4096];
        platform.ReadMemory(bar2 + 0x3000, seenByGuest);

        Assert.Multiple(() =>
        {
            Assert.That(ivshmem.GetBar(2)!.Size, Is.EqualTo((ulong)MemorySize));
            Assert.That(seenInFile, Is.EqualTo(fromGuest), "guest writes through BAR2 land in the file");
            Assert.That(seenByGuest, Is.EqualTo(fromHost), "file writes show through BAR2");
            Assert.That(platform.Read32(ivshmem.GetBarAddress(0, Ivshmem.IvPosition.Offset)), Is.Zero, "ivshmem-plain has position 0");
        });
    }

    [Test]
    public async Task IvshmemDoorbell_TwoQemusAndACSharpPeer_ShareMemoryAndDoorbellsInEveryDirection(CancellationToken ct)
    {
        using IvshmemServer server = IvshmemServer.Start(new IvshmemServerSettings
        {
            SocketPath = _temp.File("ivshmem.sock"),
            Size = MemorySize,
            Vectors = Vectors,
            NotifyJoins = false, // QEMU 7.2's server: these peers use vector 0 as a doorbell
        });
        await using DoorbellPeer a = await DoorbellPeer.StartAsync(server, "a", ct);
        await using DoorbellPeer b = await DoorbellPeer.StartAsync(server, "b", ct);
        using IvshmemClient c = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, Vectors, ct);

        Assert.Multiple(() =>
        {
            Assert.That(new[] { a.Id, b.Id, c.Id }, Is.Unique, "every peer has its own IVPosition");
            Assert.That(server.PeerIds, Is.EquivalentTo(new[] { a.Id, b.Id, c.Id }));
            Assert.That(c.Peers, Is.EquivalentTo(new[] { a.Id, b.Id }));
        });

        // Each receiver hears each sender on a vector of its own, so pending bits never need clearing.
        a.Ring(b.Id, 1);
        await b.WaitPendingAsync(1, ct);
        b.Ring(a.Id, 1);
        await a.WaitPendingAsync(1, ct);
        a.Ring(c.Id, 3);
        Assert.That(await c.WaitAsync(3, ct), Is.EqualTo(1), "QEMU a to C#");
        b.Ring(c.Id, 0);
        Assert.That(await c.WaitAsync(0, ct), Is.EqualTo(1), "QEMU b to C#");
        Assert.That(c.Ring(a.Id, 0), Is.True);
        await a.WaitPendingAsync(0, ct);
        Assert.That(c.Ring(b.Id, 3), Is.True);
        await b.WaitPendingAsync(3, ct);

        Assert.Multiple(() =>
        {
            Assert.That(a.PendingVectors(), Is.EqualTo(new[] { 0, 1 }), "a heard b and C# only");
            Assert.That(b.PendingVectors(), Is.EqualTo(new[] { 1, 3 }), "b heard a and C# only");
            Assert.That(c.TryTake(1, out _) || c.TryTake(2, out _), Is.False, "C# heard nothing else");
        });
    }

    [Test]
    public async Task IvshmemDoorbell_UnmaskedVector_ArrivesThroughThePlatformsMsiMailbox(CancellationToken ct)
    {
        using IvshmemServer server = IvshmemServer.Start(new IvshmemServerSettings
        {
            SocketPath = _temp.File("ivshmem.sock"),
            Size = MemorySize,
            Vectors = Vectors,
            NotifyJoins = false, // QEMU 7.2's server: these peers use vector 0 as a doorbell
        });
        await using DoorbellPeer qemu = await DoorbellPeer.StartAsync(server, "q", ct);
        using IvshmemClient peer = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, Vectors, ct);
        using MsiVector vector = qemu.Platform.AllocateMsiVector();
        qemu.Msix.Connect(2, vector);

        Assert.That(peer.Ring(qemu.Id, 2), Is.True);

        Assert.That(await vector.WaitAsync(ct), Is.EqualTo(1), "the device's MSI-X write reached guest RAM and was delivered");
    }

    [Test]
    public async Task IvshmemDoorbell_SharedMemory_IsCoherentAcrossAllThreePeers(CancellationToken ct)
    {
        using IvshmemServer server = IvshmemServer.Start(new IvshmemServerSettings
        {
            SocketPath = _temp.File("ivshmem.sock"),
            Size = MemorySize,
            Vectors = Vectors,
            NotifyJoins = false, // QEMU 7.2's server: these peers use vector 0 as a doorbell
        });
        await using DoorbellPeer a = await DoorbellPeer.StartAsync(server, "a", ct);
        await using DoorbellPeer b = await DoorbellPeer.StartAsync(server, "b", ct);
        using IvshmemClient c = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, Vectors, ct);

        "written by C#"u8.CopyTo(c.SharedMemory);
        a.Platform.WriteMemory(a.SharedMemory + 0x100, "written by QEMU a"u8);
        b.Platform.WriteMemory(b.SharedMemory + 0x200, "written by QEMU b"u8);

        byte[] aSees = new byte["written by C#"u8.Length];
        a.Platform.ReadMemory(a.SharedMemory, aSees);
        byte[] bSees = new byte["written by QEMU a"u8.Length];
        b.Platform.ReadMemory(b.SharedMemory + 0x100, bSees);

        Assert.Multiple(() =>
        {
            Assert.That(aSees, Is.EqualTo("written by C#"u8.ToArray()), "C# to QEMU a");
            Assert.That(bSees, Is.EqualTo("written by QEMU a"u8.ToArray()), "QEMU a to QEMU b");
            Assert.That(c.SharedMemory.Slice(0x200, "written by QEMU b"u8.Length).ToArray(), Is.EqualTo("written by QEMU b"u8.ToArray()), "QEMU b to C#");
        });
    }

    [Test]
    public async Task IvshmemDoorbell_QemuThatGoesAway_IsAnnouncedAsLeft(CancellationToken ct)
    {
        using IvshmemServer server = IvshmemServer.Start(new IvshmemServerSettings
        {
            SocketPath = _temp.File("ivshmem.sock"),
            Size = MemorySize,
            Vectors = Vectors,
            NotifyJoins = false, // QEMU 7.2's server: these peers use vector 0 as a doorbell
        });
        using IvshmemClient c = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, Vectors, ct);
        DoorbellPeer qemu = await DoorbellPeer.StartAsync(server, "q", ct);
        int id = qemu.Id;
        Assert.That(await c.PeerEvents.ReadAsync(ct), Is.EqualTo(new IvshmemPeerEvent(id, Joined: true)));

        await qemu.DisposeAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(await c.PeerEvents.ReadAsync(ct), Is.EqualTo(new IvshmemPeerEvent(id, Joined: false)));
            Assert.That(c.Peers, Is.Empty);
            Assert.That(c.Ring(id, 0), Is.False);
        });
    }

    [Test]
    public async Task JoinMsi_ThroughTheServer_RaisesVectorZeroOfTheQemuGuestsPresent(CancellationToken ct)
    {
        using IvshmemServer server = IvshmemServer.Start(new IvshmemServerSettings
        {
            SocketPath = _temp.File("ivshmem.sock"),
            Size = MemorySize,
            Vectors = Vectors,
        });
        await using DoorbellPeer qemu = await DoorbellPeer.StartAsync(server, "q", ct);
        bool before = qemu.Msix.IsPending(0);

        using IvshmemClient joiner = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, Vectors, ct);
        await qemu.WaitPendingAsync(0, ct);

        Assert.Multiple(() =>
        {
            Assert.That(before, Is.False, "nobody joined after the QEMU guest before");
            Assert.That(qemu.PendingVectors(), Is.EqualTo(new[] { 0 }), "vector 0 and no other");
            Assert.That(joiner.TryTake(0, out _), Is.False, "the guest that joined is not told of itself");
        });
    }

    /// <summary>
    /// A QEMU with one ivshmem-doorbell device joined to the server: BARs assigned, MSI-X enabled
    /// with every vector masked, so a doorbell shows as the vector's pending bit, as QEMU's own
    /// ivshmem test observes it.
    /// </summary>
    private sealed class DoorbellPeer : IAsyncDisposable
    {
        private DoorbellPeer(QemuPlatform platform, PciFunction function)
        {
            Platform = platform;
            Msix = function.OpenMsix();
            Registers = function.GetBarAddress(0);
            SharedMemory = function.GetBarAddress(2);
            Msix.Enabled = true;
            for (int entry = 0; entry < Msix.TableSize; entry++)
            {
                Msix.Mask(entry);
            }

            Id = (int)platform.Read32(Registers + Ivshmem.IvPosition.Offset);
        }

        public QemuPlatform Platform { get; }

        public PciMsix Msix { get; }

        public ulong Registers { get; }

        public ulong SharedMemory { get; }

        public int Id { get; }

        public static async Task<DoorbellPeer> StartAsync(IvshmemServer server, string name, CancellationToken ct)
        {
            QemuPlatform platform = await Qemu.StartAsync(ct, QemuDevices.IvshmemDoorbell(server.Settings.SocketPath, Vectors, "ivshmem-" + name));
            try
            {
                PciFunction function = PciBus.Scan(platform).Single(IvshmemVendor, IvshmemDevice);
                return new DoorbellPeer(platform, function);
            }
            catch
            {
                await platform.DisposeAsync();
                throw;
            }
        }

        /// <summary>Writes the doorbell register: which peer, which vector.</summary>
        public void Ring(int peer, int vector) =>
            Platform.Write32(Registers + Ivshmem.Doorbell.Offset,
                ((uint)peer << Ivshmem.Doorbell.Peer.Shift) | ((uint)vector << Ivshmem.Doorbell.Vector.Shift));

        /// <summary>Polls the pending bit of <paramref name="vector"/> until it is set; the token bounds the wait.</summary>
        public async Task WaitPendingAsync(int vector, CancellationToken ct)
        {
            while (!Msix.IsPending(vector))
            {
                await Task.Delay(5, ct);
            }
        }

        public int[] PendingVectors() => [.. Enumerable.Range(0, Msix.TableSize).Where(Msix.IsPending)];

        public ValueTask DisposeAsync() => Platform.DisposeAsync();
    }
}
