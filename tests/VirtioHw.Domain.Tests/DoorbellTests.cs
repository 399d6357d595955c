using System.Buffers.Binary;
using System.Collections.Concurrent;
using VirtioHw.Domain.Native;
using VirtioHw.Firmware.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Domain.Tests;

/// <summary>
/// Kicks travel from the kicking process to the others over doorbells (eventfds) the server hands
/// out, never through the server: every other referrer gets one UPDATE per kick, the kicker none;
/// after a detach nobody is woken either way; a peer that leaves or dies takes its doorbells with
/// it; and a hostile peer holding doorbells can wake the devices it shares a region with, as its
/// kicks would, and do nothing else with them.
/// </summary>
[CancelAfter(60_000)]
public sealed class DoorbellTests
{
    private static readonly IsmChunkLimits Limits = new(16, 16);

    /// <summary>How long a test waits to be sure that an event does not come.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private readonly List<IDisposable> _owned = [];
    private TestDomain _domain = null!;
    private int _kickFrames;

    [SetUp]
    public void StartDomain()
    {
        _kickFrames = 0;
        _domain = new TestDomain((frame, _) =>
        {
            if (frame == DomainWire.Kick)
            {
                Interlocked.Increment(ref _kickFrames);
            }
        });
    }

    [TearDown]
    public void Stop()
    {
        foreach (IDisposable owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }

        _owned.Clear();
        _domain.Dispose();
    }

    [Test]
    public async Task Kick_WakesEveryOtherReferrer_OncePerKick_NeverTheKicker_WithoutTheServer(CancellationToken cancellationToken)
    {
        (Member a, Member b, Member c, ulong token) = ThreeReferrers();
        for (int i = 0; i < 3; i++)
        {
            a.Domain.Kick(a.DevId, token);
        }

        Assert.That(await b.UpdatesAsync(3, cancellationToken), Is.All.EqualTo(new IsmDomainEvent(IsmWire.EventUpdate, token, a.DevId, 0)));
        Assert.That(await c.UpdatesAsync(3, cancellationToken), Is.All.EqualTo(new IsmDomainEvent(IsmWire.EventUpdate, token, a.DevId, 0)));
        c.Domain.Kick(c.DevId, token);
        Assert.That(await a.UpdatesAsync(1, cancellationToken), Is.EqualTo(new[] { new IsmDomainEvent(IsmWire.EventUpdate, token, c.DevId, 0) }));
        Assert.That(await b.UpdatesAsync(1, cancellationToken), Is.EqualTo(new[] { new IsmDomainEvent(IsmWire.EventUpdate, token, c.DevId, 0) }));

        await Task.Delay(Quiet, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(a.Updates, Is.Empty, "the kicker hears nothing of its own kicks");
            Assert.That(c.Updates, Is.Empty);
            Assert.That(_kickFrames, Is.Zero, "no kick passed through the server");
            Assert.That(a.Domain.Doorbells, Is.EqualTo((2, 2)), "one doorbell to ring and one to be woken by, per other referrer");
            Assert.That(_domain.Server.DoorbellCount, Is.EqualTo(6), "two per pair of referrers");
        }
    }

    [Test]
    public async Task KickAfterDetach_ReachesNobody_EitherWay(CancellationToken cancellationToken)
    {
        (Member a, Member b, Member c, ulong token) = ThreeReferrers();
        Assert.That(b.Domain.Detach(b.DevId, token), Is.EqualTo(IsmAck.Ok));
        a.Domain.Kick(a.DevId, token);
        b.Domain.Kick(b.DevId, token);
        Assert.That(await c.UpdatesAsync(1, cancellationToken), Is.EqualTo(new[] { new IsmDomainEvent(IsmWire.EventUpdate, token, a.DevId, 0) }));

        await Task.Delay(Quiet, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(b.Updates, Is.Empty, "a device that detached is woken by nobody");
            Assert.That(a.Updates, Is.Empty, "a device that detached wakes nobody");
            Assert.That(c.Updates, Is.Empty);
            Assert.That(b.Domain.Doorbells, Is.EqualTo((0, 0)), "it holds no doorbell of the region");
            Assert.That(a.Domain.Doorbells, Is.EqualTo((1, 1)), "the others hold only each other's");
            Assert.That(_domain.Server.DoorbellCount, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task PeerThatDies_TakesItsDoorbellsWithIt(CancellationToken cancellationToken)
    {
        (Member a, ulong token) = Allocator();
        var dead = RawPeer.Connect(_domain.SocketPath);
        dead.Hello();
        ulong devid = dead.Join();
        Assert.That((IsmAck)dead.Request(DomainOperation.Attach, devid, a: token, b: (ulong)IsmPermissions.Read, c: 16, d: 16)![4], Is.EqualTo(IsmAck.Ok));
        Assert.That(dead.Doorbells, Has.Count.EqualTo(2), "a doorbell each way with the one other referrer");
        await UntilAsync(() => a.Domain.Doorbells == (1, 1), cancellationToken);

        // The connection ends as a killed process's does: the server detaches its device and closes the pair everywhere.
        dead.Dispose();
        await _domain.WaitForPeersAsync(1, cancellationToken);
        await UntilAsync(() => a.Domain.Doorbells == (0, 0), cancellationToken);
        a.Domain.Kick(a.DevId, token);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_domain.Server.DoorbellCount, Is.Zero);
            Assert.That(a.Events.Where(e => e.Type == IsmWire.EventDetach).Select(e => e.DevId), Is.EqualTo(new[] { devid }), "the survivor heard of the detach");
        }
    }

    [Test]
    public async Task HostilePeer_WithDoorbells_CanOnlyWakeWhomItSharesARegionWith_AsItsOwnKick(CancellationToken cancellationToken)
    {
        (Member good, ulong token) = Allocator();
        Assert.That(good.Domain.Grant(good.DevId, token, IsmPermissions.None, peer: null), Is.EqualTo(IsmAck.Ok));
        using var hostile = RawPeer.Connect(_domain.SocketPath);
        hostile.Hello();
        ulong devid = hostile.Join();

        // Without a grant: no memory, and no doorbell either.
        ReceivedFrame refused = hostile.RequestFrame(DomainOperation.Attach, devid, token, (ulong)IsmPermissions.Read, 16, 16);
        Assert.That((IsmAck)refused.Payload[4], Is.EqualTo(IsmAck.AttachDenied));
        Assert.That(hostile.Doorbells, Is.Empty, "a refused attach hands out no doorbell");

        Assert.That(good.Domain.Grant(good.DevId, token, IsmPermissions.Read | IsmPermissions.Attach, devid), Is.EqualTo(IsmAck.Ok));
        ReceivedFrame attached = hostile.RequestFrame(DomainOperation.Attach, devid, token, (ulong)IsmPermissions.Read, 16, 16);
        attached.Descriptor?.Dispose();
        Assert.That((IsmAck)attached.Payload[4], Is.EqualTo(IsmAck.Ok));
        FileDescriptor ring = Bell(hostile, DomainWire.RingRole);
        FileDescriptor wake = Bell(hostile, DomainWire.WakeRole);
        using (Assert.EnterMultipleScope())
        {
            foreach (FileDescriptor bell in (FileDescriptor[])[ring, wake])
            {
                Assert.That(new FileInfo($"/proc/self/fd/{bell.DangerousGetHandle()}").LinkTarget, Is.EqualTo("anon_inode:[eventfd]"), "a doorbell is an eventfd");
                Assert.That(MapsAnything(bell), Is.False, "it maps no memory");
                Assert.That(Libc.FTruncate(bell, 4096), Is.EqualTo(-1), "and cannot be given a size");
            }
        }

        // Ringing it is a kick of the region by the hostile device, for the one device it shares it with.
        Assert.That(Doorbell.Ring(ring), Is.True);
        Assert.That(await good.UpdatesAsync(1, cancellationToken), Is.EqualTo(new[] { new IsmDomainEvent(IsmWire.EventUpdate, token, devid, 0) }));

        // A count no kicker would ring is cut to a bounded burst; the good client carries on.
        Assert.That(RingBy(ring, ulong.MaxValue - 1), Is.True);

        await UntilAsync(() => good.Updates.Count > 0, cancellationToken);
        await Task.Delay(Quiet, cancellationToken);
        Assert.That(good.Updates, Has.Count.InRange(1, 4096), "one wake-up delivers a bounded number of updates");
        Assert.That(good.Domain.Allocate(good.DevId, 4096, Limits).Ack, Is.EqualTo(IsmAck.Ok), "the good client is still served");

        // Its own kicks arrive on the doorbell it was woken by, from the good device only.
        good.Domain.Kick(good.DevId, token);
        await UntilAsync(() => Doorbell.Take(wake) == 1, cancellationToken);
    }

    private static FileDescriptor Bell(RawPeer peer, uint role) =>
        peer.Doorbells.Single(f => f.Type == DomainWire.Doorbell && BinaryPrimitives.ReadUInt32LittleEndian(f.Payload.AsSpan(24)) == role).Descriptor!;

    private static unsafe bool RingBy(FileDescriptor bell, ulong count) => Libc.Write(bell, &count, sizeof(ulong)) == sizeof(ulong);

    private static unsafe bool MapsAnything(FileDescriptor descriptor)
    {
        void* view = Libc.MapMemory(null, 4096, Libc.ProtectRead, Libc.MapShared, descriptor, 0);
        if (view == (void*)-1)
        {
            return false;
        }

        Libc.UnmapMemory(view, 4096);
        return true;
    }

    private static async Task UntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    /// <summary>A client connection with one device that allocated a region (attachable by every device).</summary>
    private (Member Allocator, ulong Token) Allocator()
    {
        Member a = Connect();
        IsmMapResult region = a.Domain.Allocate(a.DevId, 4096, Limits);
        Assert.That(region.Ack, Is.EqualTo(IsmAck.Ok));
        return (a, region.Token);
    }

    /// <summary>Three connections, one device each, all referring to one region.</summary>
    private (Member A, Member B, Member C, ulong Token) ThreeReferrers()
    {
        (Member a, ulong token) = Allocator();
        Member b = Connect(), c = Connect();
        Assert.That(b.Domain.Attach(b.DevId, token, IsmPermissions.Read | IsmPermissions.Write, Limits).Ack, Is.EqualTo(IsmAck.Ok));
        Assert.That(c.Domain.Attach(c.DevId, token, IsmPermissions.Read | IsmPermissions.Write, Limits).Ack, Is.EqualTo(IsmAck.Ok));
        return (a, b, c, token);
    }

    private Member Connect()
    {
        RemoteIsmDomain domain = RemoteIsmDomain.Connect(_domain.SocketPath);
        _owned.Add(domain);
        var member = new Member(domain);
        member.DevId = domain.Join(member);
        return member;
    }

    /// <summary>A device that records its events: UPDATEs apart, the others in order.</summary>
    private sealed class Member(RemoteIsmDomain domain) : IIsmDomainMember
    {
        public RemoteIsmDomain Domain { get; } = domain;

        public ulong DevId { get; set; }

        public ConcurrentQueue<IsmDomainEvent> Updates { get; } = new();

        public ConcurrentQueue<IsmDomainEvent> Events { get; } = new();

        public void OnDomainEvent(IsmDomainEvent domainEvent) =>
            (domainEvent.Type == IsmWire.EventUpdate ? Updates : Events).Enqueue(domainEvent);

        /// <summary>The next <paramref name="count"/> UPDATE events, taken.</summary>
        public async Task<IsmDomainEvent[]> UpdatesAsync(int count, CancellationToken cancellationToken)
        {
            var taken = new List<IsmDomainEvent>();
            while (taken.Count < count)
            {
                if (Updates.TryDequeue(out IsmDomainEvent update))
                {
                    taken.Add(update);
                }
                else
                {
                    await Task.Delay(1, cancellationToken);
                }
            }

            return [.. taken];
        }
    }
}
