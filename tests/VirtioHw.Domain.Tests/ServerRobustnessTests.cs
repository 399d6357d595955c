using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using VirtioHw.Domain.Native;
using VirtioHw.Firmware.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Domain.Tests;

/// <summary>
/// A peer that breaks the protocol is dropped, and only that peer: a well-behaved client joined
/// before keeps its device and can still allocate; nothing the bad peer sent stays open.
/// </summary>
[CancelAfter(60_000)]
public sealed class ServerRobustnessTests
{
    private static readonly TimeSpan s_dropWithin = TimeSpan.FromSeconds(20);

    private TestDomain _domain = null!;
    private RemoteIsmDomain _good = null!;
    private ulong _goodDevice;

    [SetUp]
    public void StartDomainWithAGoodClient()
    {
        _domain = new TestDomain();
        _good = RemoteIsmDomain.Connect(_domain.SocketPath);
        _goodDevice = _good.Join(new IgnoredEvents());
    }

    [TearDown]
    public void Stop()
    {
        _good.Dispose();
        _domain.Dispose();
    }

    [Test]
    public void MalformedHeader_DropsThePeer()
    {
        using var bad = RawPeer.Connect(_domain.SocketPath);
        bad.Hello();
        var frame = new byte[DomainWire.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, DomainWire.MaxPayload + 1);
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(4), DomainWire.Request);
        bad.Send(frame);
        AssertDroppedAndOthersContinue(bad);
    }

    [Test]
    public void UnknownFrameType_DropsThePeer()
    {
        using var bad = RawPeer.Connect(_domain.SocketPath);
        bad.Hello();
        bad.Send(DomainWire.Frame(0x7777, new byte[12]));
        AssertDroppedAndOthersContinue(bad);
    }

    [Test]
    public void RequestOfTheWrongLength_DropsThePeer()
    {
        using var bad = RawPeer.Connect(_domain.SocketPath);
        bad.Hello();
        bad.Send(DomainWire.Frame(DomainWire.Request, new byte[DomainWire.RequestSize - 1]));
        AssertDroppedAndOthersContinue(bad);
    }

    [Test]
    public void HelloOfAnotherVersion_DropsThePeer()
    {
        using var bad = RawPeer.Connect(_domain.SocketPath);
        bad.Hello(version: 99);
        AssertDroppedAndOthersContinue(bad);
    }

    [Test]
    public void NoHello_DropsThePeerAfterTheHandshakeTimeout()
    {
        using var bad = RawPeer.Connect(_domain.SocketPath);
        AssertDroppedAndOthersContinue(bad);
    }

    [Test]
    public void RequestForAnotherPeersDevice_DropsThePeer_AndLeavesThatDeviceAlone()
    {
        using var bad = RawPeer.Connect(_domain.SocketPath);
        bad.Hello();
        bad.Request(DomainOperation.Leave, _goodDevice, awaitReply: false);
        AssertDroppedAndOthersContinue(bad);
        Assert.That(_domain.Server.Domain.MemberCount, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task TruncatedFrame_ThenDisconnect_IsCleanedUp(CancellationToken cancellationToken)
    {
        using (var bad = RawPeer.Connect(_domain.SocketPath))
        {
            bad.Hello();
            byte[] frame = DomainWire.Frame(DomainWire.Request, new byte[DomainWire.RequestSize]);
            bad.Send(frame.AsSpan(0, 20));
        }

        await _domain.WaitForPeersAsync(1, cancellationToken);
        AssertTheGoodClientStillWorks();
    }

    [Test]
    public async Task DisconnectMidRequest_LeavesNoDeviceAndNoRegionBehind(CancellationToken cancellationToken)
    {
        using (var bad = RawPeer.Connect(_domain.SocketPath))
        {
            bad.Hello();
            byte[] joined = bad.Request(DomainOperation.Join, 0)!;
            ulong devid = BinaryPrimitives.ReadUInt64LittleEndian(joined.AsSpan(8));
            var payload = new byte[DomainWire.RequestSize];
            payload[4] = (byte)DomainOperation.Allocate;
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), devid);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), 4096);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), 16);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(32), 16);
            bad.Send(DomainWire.Frame(DomainWire.Request, payload));
        }

        await _domain.WaitForPeersAsync(1, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_domain.Server.Domain.MemberCount, Is.EqualTo(1), "only the good client's device");
            Assert.That(_domain.Server.Domain.RegionCount, Is.Zero, "whatever the request allocated was freed with its device");
            Assert.That(_domain.Server.Domain.FreeChunks, Is.EqualTo(_domain.Server.Domain.ChunkCount));
        }

        AssertTheGoodClientStillWorks();
    }

    [Test]
    public async Task DescriptorFlood_DropsThePeer_AndClosesEveryDescriptor(CancellationToken cancellationToken)
    {
        // A well-behaved connection and an allocation first, so that whatever the runtime opens once
        // is open already (the first region's token loads the random number generator's library).
        using (var warmUp = RawPeer.Connect(_domain.SocketPath))
        {
            warmUp.Hello();
        }

        AssertTheGoodClientStillWorks();

        await _domain.WaitForPeersAsync(1, cancellationToken);
        var files = new List<SafeFileHandle>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                files.Add(File.OpenHandle("/dev/null"));
            }

            int before = OpenDescriptors();
            using var bad = RawPeer.Connect(_domain.SocketPath);
            bad.Hello();
            byte[] kick = DomainWire.Frame(DomainWire.Kick, new byte[DomainWire.KickSize]);
            // One message carrying many descriptors, then more frames each carrying some, until the server hangs up.
            Assert.That(bad.TrySendWithDescriptors(kick, files), Is.True, "the first message goes out");
            for (int i = 0; i < 50 && bad.TrySendWithDescriptors(kick, files.GetRange(i, 4)); i++)
            {
            }

            AssertDroppedAndOthersContinue(bad);
            bad.Dispose();
            await _domain.WaitForPeersAsync(1, cancellationToken);
            Assert.That(OpenDescriptors(), Is.LessThanOrEqualTo(before), "every descriptor the server received is closed");
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }

    [Test]
    public async Task PeerThatStopsReading_IsDroppedOnceItsFramesPileUp_AndTheKickerNeverWaits(CancellationToken cancellationToken)
    {
        using var domain = new TestDomain(maxQueuedFrames: 64);
        using var kicker = RemoteIsmDomain.Connect(domain.SocketPath);
        ulong device = kicker.Join(new IgnoredEvents());
        ulong other = kicker.Join(new IgnoredEvents());
        IsmMapResult region = kicker.Allocate(device, 4096, new IsmChunkLimits(16, 16));
        using var stalled = RawPeer.Connect(domain.SocketPath);
        stalled.Hello();
        ulong stalledDevice = BinaryPrimitives.ReadUInt64LittleEndian(stalled.Request(DomainOperation.Join, 0)!.AsSpan(8));
        byte[] attached = stalled.Request(DomainOperation.Attach, stalledDevice, a: region.Token, b: (ulong)(IsmPermissions.Read | IsmPermissions.Write), c: 16, d: 16)!;
        Assert.That((IsmAck)attached[4], Is.EqualTo(IsmAck.Ok));
        ReceivedFrame wake = stalled.Doorbells.Single(f => f.Type == DomainWire.Doorbell && BinaryPrimitives.ReadUInt32LittleEndian(f.Payload.AsSpan(24)) == DomainWire.WakeRole);

        // From here on the stalled peer reads nothing. Kicks ring its doorbell and never wait for it,
        // however many there are: the doorbell counts them all, and nothing piles up at the server.
        const int kicks = 100_000;
        for (int i = 0; i < kicks; i++)
        {
            kicker.Kick(device, region.Token);
        }

        Assert.That(Doorbell.Take(wake.Descriptor!), Is.EqualTo((ulong)kicks), "every kick rang the stalled peer's doorbell once");
        Assert.That(domain.Server.PeerCount, Is.EqualTo(2), "kicks put nothing in the server's queue for it");

        // Events still go through the server: the other device attaches and detaches until the stalled
        // peer's socket and then its queue are full, and the server drops it; the other device never waits.
        int steps = 0;
        while (domain.Server.PeerCount == 2)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Assert.That(kicker.Attach(other, region.Token, IsmPermissions.Read, new IsmChunkLimits(16, 16)).Ack, Is.EqualTo(IsmAck.Ok));
            Assert.That(kicker.Detach(other, region.Token), Is.EqualTo(IsmAck.Ok));
            steps++;
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(steps, Is.GreaterThan(0), "the peer was dropped for what it did not read, not before");
            Assert.That(stalled.ClosedByServer(s_dropWithin), Is.True, "the server hangs up on the peer that does not read");
            Assert.That(kicker.Allocate(device, 4096, new IsmChunkLimits(16, 16)).Ack, Is.EqualTo(IsmAck.Ok), "the kicker carries on");
        }

        await domain.WaitForPeersAsync(1, cancellationToken);
        Assert.That(domain.Server.DoorbellCount, Is.Zero, "the dropped peer's doorbells are closed at the server");
    }

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    private void AssertDroppedAndOthersContinue(RawPeer bad)
    {
        Assert.That(bad.ClosedByServer(s_dropWithin), Is.True, "the server hangs up on the bad peer");
        AssertTheGoodClientStillWorks();
    }

    private void AssertTheGoodClientStillWorks()
    {
        IsmMapResult result = _good.Allocate(_goodDevice, 4096, new IsmChunkLimits(16, 16));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Ack, Is.EqualTo(IsmAck.Ok));
            Assert.That(result.Chunks, Has.Count.EqualTo(1));
            Assert.That(_good.Detach(_goodDevice, result.Token), Is.EqualTo(IsmAck.Ok));
        }
    }
}
