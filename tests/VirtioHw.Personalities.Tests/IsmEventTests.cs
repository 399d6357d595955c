using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Tests;

/// <summary>Eventq events (update, attach, detach) and update events on a bound vector.</summary>
[CancelAfter(30_000)]
[TestFixture(PlatformKind.Model, DomainMode.InProcess)]
[TestFixture(PlatformKind.Model, DomainMode.Server)]
[TestFixture(PlatformKind.Cosim, DomainMode.InProcess)]
public sealed class IsmEventTests(PlatformKind kind, DomainMode mode)
{
    [Test]
    public async Task Attach_GeneratesAnAttachEventToEveryOtherPeer_WithPeersNotCountingTheReceiver([Values(1, 2, 3, 4)] int attachers, CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, attachers + 1, cancellationToken);
        IsmDevice owner = bench.Devices[0];
        IsmRegion region = await owner.AllocateAsync(1, cancellationToken);
        var attached = new List<IsmRegion>();
        for (int i = 1; i <= attachers; i++)
        {
            attached.Add(await bench.Devices[i].AttachAsync(region.Token, cancellationToken: cancellationToken));
        }

        var ownerSaw = new List<(ulong DevId, ulong Peers)>();
        for (int i = 1; i <= attachers; i++)
        {
            IsmEvent e = await owner.Next(IsmEventType.Attach, cancellationToken);
            ownerSaw.Add((e.DevId, e.Peers));
        }

        // The first attacher hears of every later one; the count includes the owner and the newcomer.
        var firstSaw = new List<ulong>();
        for (int i = 2; i <= attachers; i++)
        {
            firstSaw.Add((await bench.Devices[1].Next(IsmEventType.Attach, cancellationToken)).Peers);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ownerSaw, Is.EqualTo(Enumerable.Range(1, attachers).Select(i => (bench.Devices[i].DevId, (ulong)i))));
            Assert.That(firstSaw, Is.EqualTo(Enumerable.Range(2, attachers - 1).Select(i => (ulong)i)));
            Assert.That(bench.Devices[attachers].Drain().Where(e => e.Type == IsmEventType.Attach), Is.Empty, "the attaching device gets no event of its own attach");
        }
    }

    [Test]
    public async Task Detach_GeneratesADetachEventToTheOtherPeers_WithTheRemainingCount([Values(1, 2, 3, 4)] int attachers, CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, attachers + 1, cancellationToken);
        IsmDevice owner = bench.Devices[0];
        IsmRegion region = await owner.AllocateAsync(1, cancellationToken);
        var attached = new List<IsmRegion>();
        for (int i = 1; i <= attachers; i++)
        {
            attached.Add(await bench.Devices[i].AttachAsync(region.Token, cancellationToken: cancellationToken));
        }

        var ownerSaw = new List<(ulong DevId, ulong Peers, ulong Offset)>();
        foreach (IsmRegion peer in attached)
        {
            await peer.DetachAsync(cancellationToken);
            IsmEvent e = await owner.Next(IsmEventType.Detach, cancellationToken);
            ownerSaw.Add((e.DevId, e.Peers, e.Offset));
        }

        Assert.That(ownerSaw, Is.EqualTo(Enumerable.Range(1, attachers).Select(i => (bench.Devices[i].DevId, (ulong)(attachers - i), region.Offset))));
    }

    [Test]
    public async Task Attach_EventNamesTheRegionByItsOffsetInTheReceiversMemory(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        await a.AllocateAsync(3 * a.ChunkSize, cancellationToken);
        IsmRegion region = await a.AllocateAsync(1, cancellationToken);

        IsmRegion atB = await bench.Devices[1].AttachAsync(region.Token, cancellationToken: cancellationToken);

        IsmEvent e = await a.Next(IsmEventType.Attach, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(e.Offset, Is.EqualTo(region.Offset));
            Assert.That(atB.Offset, Is.Not.EqualTo(region.Offset), "the two devices map the region at different offsets");
        }
    }

    [Test]
    public async Task Kick_SendsAnUpdateEventToEveryOtherReferrerButNotTheKicker(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 4, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(1, cancellationToken);
        var peers = new List<IsmRegion>();
        for (int i = 1; i < 3; i++)
        {
            peers.Add(await bench.Devices[i].AttachAsync(region.Token, cancellationToken: cancellationToken));
        }

        region.Kick();

        var updates = new List<IsmEvent>();
        foreach (IsmRegion peer in peers)
        {
            updates.Add(await peer.Device.Next(IsmEventType.Update, cancellationToken));
        }

        // The kicker's eventq is written in order: an update for it would come before this detach.
        await peers[0].DetachAsync(cancellationToken);
        var kickerSaw = new List<IsmEvent>();
        await a.WaitForEventAsync(e => { kickerSaw.Add(e); return e.Type == IsmEventType.Detach; }, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(updates.Select(u => u.DevId), Is.All.EqualTo(a.DevId));
            Assert.That(updates.Select(u => u.Offset), Is.EqualTo(peers.Select(p => p.Offset)));
            Assert.That(kickerSaw.Where(e => e.Type == IsmEventType.Update), Is.Empty, "the kicker");
            Assert.That(bench.Devices[3].Drain(), Is.Empty, "a device that does not refer to the region");
        }
    }

    [Test]
    public async Task EventVector_UpdateEventsGoToTheBoundVector_AndNotToTheEventq(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        IsmRegion bound = await a.AllocateAsync(1, cancellationToken);
        IsmRegion unbound = await a.AllocateAsync(1, cancellationToken);
        IsmRegion boundAtB = await b.AttachAsync(bound.Token, cancellationToken: cancellationToken);
        await b.AttachAsync(unbound.Token, cancellationToken: cancellationToken);
        const ushort entry = 5;
        using MsiVector vector = bench.Platform.AllocateMsiVector();
        ((VirtioPciTransport)b.Transport).Function.OpenMsix().Connect(entry, vector);
        await b.SetEventVectorAsync(boundAtB.Token, entry, cancellationToken);

        bound.Kick();
        await vector.WaitAsync(cancellationToken);
        unbound.Kick();
        IsmEvent firstUpdate = await b.Next(IsmEventType.Update, cancellationToken);

        Assert.That(firstUpdate.Offset, Is.Not.EqualTo(boundAtB.Offset), "the bound region's update came on the eventq");
    }

    [Test]
    public async Task Reset_DetachesTheDevicesRegions_AndThePeersHearOfIt(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);
        await bench.Devices[1].AttachAsync(region.Token, cancellationToken: cancellationToken);
        await bench.Devices[0].Next(IsmEventType.Attach, cancellationToken);

        await bench.Devices[1].Transport.ResetAsync(cancellationToken);

        IsmEvent e = await bench.Devices[0].Next(IsmEventType.Detach, cancellationToken);
        Assert.That((e.DevId, e.Peers), Is.EqualTo((bench.Devices[1].DevId, 0UL)));
    }

    [Test]
    public async Task Event_BacklogOverflow_DeviceMustGenerateEveryEvent_FailsWithNeedsResetInsteadOfDroppingOne(CancellationToken cancellationToken)
    {
        // The driver posts no eventq buffer, so every event waits in the device's backlog.
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken, driver: new IsmDeviceSettings { EventBuffers = 0 });
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        IsmRegion region = await a.AllocateAsync(1, cancellationToken);
        await b.AttachAsync(region.Token, cancellationToken: cancellationToken); // a's first event: ATTACH
        int limit = new VirtioHw.Firmware.Ism.IsmFirmwareSettings().PendingEventLimit;
        for (int i = 1; i < limit; i++)
        {
            bench.Domain.Kick(b.DevId, region.Token);
        }

        bool fullBacklogIsFine = a.Transport.NeedsReset;
        bench.Domain.Kick(b.DevId, region.Token); // one event more than the device can keep

        using (Assert.EnterMultipleScope())
        {
            Assert.That(fullBacklogIsFine, Is.False, $"{limit} events fit");
            Assert.That(async () => await a.WaitForEventAsync(_ => false, cancellationToken), Throws.InstanceOf<IsmDeviceNeedsResetException>(), "the driver is told");
            Assert.That(a.Transport.NeedsReset, Is.True);
            Assert.That(b.Transport.NeedsReset, Is.False, "the other device carries on");
        }
    }

    [Test]
    public async Task Event_ABufferReceivedFromEventqCanContainMultipleEvents_TheDriverDecodesEveryOne(CancellationToken cancellationToken)
    {
        // One eventq buffer: what arrives while the driver has it packs into the next.
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken, driver: new IsmDeviceSettings { EventBuffers = 1 });
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        IsmRegion region = await a.AllocateAsync(1, cancellationToken);
        IsmRegion atB = await b.AttachAsync(region.Token, cancellationToken: cancellationToken);
        const int Kicks = 100;
        long buffersBefore = b.EventBuffersUsed;

        for (int i = 0; i < Kicks; i++)
        {
            bench.Domain.Kick(a.DevId, region.Token);
        }

        var updates = new List<IsmEvent>();
        for (int i = 0; i < Kicks; i++)
        {
            updates.Add(await b.Next(IsmEventType.Update, cancellationToken));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(updates, Has.All.EqualTo(new IsmEvent(IsmEventType.Update, atB.Offset, a.DevId, 0)));
            Assert.That(b.EventBuffersUsed - buffersBefore, Is.LessThan(Kicks), "several events shared a buffer");
            Assert.That(b.Drain(), Is.Empty, "no event twice");
        }
    }
}

/// <summary>The eventq's wire format between the device's encoders and the driver's decoder, with no device in between.</summary>
public sealed class IsmEventWireTests
{
    [Test]
    public void Event_PackedBuffer_DecodesEveryStructureInOrder_AndStopsAtAnUnknownType()
    {
        byte[] packed =
        [
            .. IsmWire.UpdateEvent(0x1000, 3),
            .. IsmWire.AttachDetachEvent(IsmWire.EventAttach, 0x2000, 4, 2),
            .. IsmWire.BufferFreeEvent(0xdead_0000),
            .. IsmWire.AttachDetachEvent(IsmWire.EventDetach, 0x2000, 4, 1),
            .. new byte[8] { 0x80, 0, 0, 0, 0, 0, 0, 0 }, // no such ev_type: its size is unknown
            .. IsmWire.UpdateEvent(0x3000, 5),
        ];
        var events = new List<IsmEvent>();

        int decoded = IsmEvent.Parse(packed, events);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(events, Is.EqualTo(new[]
            {
                new IsmEvent(IsmEventType.Update, 0x1000, 3, 0),
                new IsmEvent(IsmEventType.Attach, 0x2000, 4, 2),
                new IsmEvent(IsmEventType.BufferFree, 0, 0, 0, 0xdead_0000),
                new IsmEvent(IsmEventType.Detach, 0x2000, 4, 1),
            }));
            Assert.That(decoded, Is.EqualTo(24 + 32 + 16 + 32));
        }
    }

    [Test]
    public void Event_StructureCutShort_IsNotDecoded()
    {
        byte[] update = IsmWire.UpdateEvent(0x1000, 3);
        var events = new List<IsmEvent>();

        IsmEvent.Parse(update.AsSpan(0, update.Length - 1), events);

        Assert.That(events, Is.Empty);
    }
}
