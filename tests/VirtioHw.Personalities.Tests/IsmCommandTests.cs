using System.Text;
using VirtioHw.Drivers.Ism;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Tests;

/// <summary>The controlq commands, their replies and every ack code (virtio-ism device normative statements).</summary>
[CancelAfter(30_000)]
[TestFixture(PlatformKind.Model, DomainMode.InProcess)]
[TestFixture(PlatformKind.Model, DomainMode.Server)]
[TestFixture(PlatformKind.Cosim, DomainMode.InProcess)]
public sealed class IsmCommandTests(PlatformKind kind, DomainMode mode)
{

    [Test]
    public async Task Alloc_CreatesAUniqueNonZeroTokenPerRegion(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        var tokens = new List<ulong>();
        foreach (IsmDevice device in bench.Devices)
        {
            for (int i = 0; i < 8; i++)
            {
                tokens.Add((await device.AllocateAsync(4096, cancellationToken)).Token);
            }
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(tokens, Is.Unique);
            Assert.That(tokens, Has.None.Zero);
        }
    }

    [Test]
    public async Task Alloc_FillsChunksWithTheOffsetOfEachChunkAndNumWithTheirCount(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);
        IsmDevice device = bench.Devices[0];

        IsmRegion region = await device.AllocateAsync((3 * device.ChunkSize) - 1, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(region.Chunks, Has.Count.EqualTo(3));
            Assert.That(region.Chunks, Has.All.Matches<ulong>(offset => offset % device.ChunkSize == 0 && offset < device.Regions.Length));
            Assert.That(region.Chunks, Is.Unique);
        }
    }

    [Test]
    public async Task Alloc_SmallerThanAChunk_OccupiesOneChunk(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);

        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);

        Assert.That(region.Chunks, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Alloc_MapsThePhysicalMemoryToTheChunksInOrder(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        await a.AllocateAsync(a.ChunkSize, cancellationToken); // B's slots and A's now differ
        IsmRegion atA = await a.AllocateAsync(3 * a.ChunkSize, cancellationToken);
        IsmRegion atB = await b.AttachAsync(atA.Token, cancellationToken: cancellationToken);
        for (int chunk = 0; chunk < 3; chunk++)
        {
            atA.Write((ulong)chunk * a.ChunkSize, [(byte)(0x10 + chunk)]);
        }

        var seen = new byte[3];
        for (int chunk = 0; chunk < 3; chunk++)
        {
            seen[chunk] = b.Regions.Read8(atB.Chunks[chunk]);
        }

        Assert.That(seen, Is.EqualTo(new byte[] { 0x10, 0x11, 0x12 }));
    }

    [Test]
    public async Task Alloc_DeviceMustClearTheMemoryOfTheRegionBeforeCommittingToTheDriver(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);
        IsmDevice device = bench.Devices[0];

        // Stale bytes in every chunk, which a detach's clearing never saw: only the alloc can clear them.
        bench.FillDomainMemory(0xa5);
        IsmRegion region = await device.AllocateAsync(2 * device.ChunkSize, cancellationToken);

        var content = new byte[2 * device.ChunkSize];
        region.Read(0, content);
        Assert.That(content, Is.All.Zero);
    }

    [Test]
    public async Task Alloc_WithAReplyTooSmallForTheChunks_AcksE2bigWithNum_AndARetryWithThatNumSucceeds(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        byte[] request = IsmRaw.Command(IsmWire.ClassAlloc, 0, 5 * device.ChunkSize);

        (IsmAck ack, byte[] reply) = await device.SendAsync(request, 1 + 16 + 8, cancellationToken);
        ulong num = IsmRaw.Field(reply, 1);
        (IsmAck retryAck, byte[] retry) = await device.SendAsync(request, 1 + 16 + (int)(8 * num), cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ack, Is.EqualTo(IsmAck.TooBig));
            Assert.That(num, Is.EqualTo(5));
            Assert.That(retryAck, Is.EqualTo(IsmAck.Ok));
            Assert.That(IsmRaw.Field(retry, 1), Is.EqualTo(5));
            Assert.That(bench.Domain.RegionCount, Is.EqualTo(1), "the refused request allocated nothing");
        }
    }

    [Test]
    public async Task Alloc_ManyChunks_DriverRetriesAfterE2big(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);
        IsmDevice device = bench.Devices[0];

        IsmRegion region = await device.AllocateAsync(40 * device.ChunkSize, cancellationToken);

        Assert.That(region.Chunks, Has.Count.EqualTo(40));
    }

    [Test]
    public async Task Alloc_WithoutEnoughFreeChunks_AcksEnospec(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        ulong slots = device.Regions.Length / device.ChunkSize;
        await device.AllocateAsync((slots - 1) * device.ChunkSize, cancellationToken);

        Assert.That(async () => await device.AllocateAsync(2 * device.ChunkSize, cancellationToken), Throws.InstanceOf<IsmNoSpaceException>());
    }

    [Test]
    public async Task Alloc_WhenTheDomainHasNoMemoryLeft_AcksEnomem(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        await a.AllocateAsync((ulong)bench.Domain.ChunkCount * a.ChunkSize, cancellationToken);

        Assert.That(async () => await bench.Devices[1].AllocateAsync(1, cancellationToken), Throws.InstanceOf<IsmNoMemoryException>());
    }

    [Test]
    public async Task Alloc_OfZeroBytes_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);

        Assert.That(async () => await bench.Devices[0].AllocateAsync(0, cancellationToken), Throws.InstanceOf<IsmCommandFailedException>());
    }

    [Test]
    public async Task UnknownCommand_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);

        (IsmAck ack, _) = await bench.Devices[0].SendAsync(IsmRaw.Command(9, 0, 1), 1, cancellationToken);

        Assert.That(ack, Is.EqualTo(IsmAck.Error));
    }

    [Test]
    public async Task Query_UnknownToken_AcksEnoent(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);

        Assert.That(async () => await bench.Devices[0].QueryAsync(0x1234, cancellationToken), Throws.InstanceOf<IsmNoEntryException>());
    }

    [Test]
    public async Task Query_FillsTheSizeAndThePermissionsOfTheAskingDevice(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(5000, cancellationToken);

        (ulong ownerSize, IsmPermissions owner) = await bench.Devices[0].QueryAsync(region.Token, cancellationToken);
        (ulong peerSize, IsmPermissions peer) = await bench.Devices[1].QueryAsync(region.Token, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ownerSize, Is.EqualTo(5000));
            Assert.That(peerSize, Is.EqualTo(5000));
            Assert.That(owner, Is.EqualTo(IsmPermissions.Read | IsmPermissions.Write | IsmPermissions.Attach | IsmPermissions.Manage));
            Assert.That(peer, Is.EqualTo(IsmPermissions.Read | IsmPermissions.Write | IsmPermissions.Attach));
        }
    }

    [Test]
    public async Task Attach_UnknownToken_AcksEnoent(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);

        Assert.That(async () => await bench.Devices[0].AttachAsync(0x5555, cancellationToken: cancellationToken), Throws.InstanceOf<IsmNoEntryException>());
    }

    [Test]
    public async Task Attach_FillsSizeNumAndChunks_AndMapsTheSameMemory(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion atA = await bench.Devices[0].AllocateAsync(3 * bench.Devices[0].ChunkSize, cancellationToken);
        byte[] text = Encoding.ASCII.GetBytes("across a chunk boundary");
        atA.Write(atA.Device.ChunkSize - 5, text);

        IsmRegion atB = await bench.Devices[1].AttachAsync(atA.Token, cancellationToken: cancellationToken);

        var seen = new byte[text.Length];
        atB.Read(atB.Device.ChunkSize - 5, seen);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(atB.Size, Is.EqualTo(atA.Size));
            Assert.That(atB.Chunks, Has.Count.EqualTo(3));
            Assert.That(seen, Is.EqualTo(text));
        }
    }

    [Test]
    public async Task Attach_WithAReplyTooSmall_AcksE2bigAndSetsNumForTheNextRequest(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(4 * bench.Devices[0].ChunkSize, cancellationToken);
        byte[] request = IsmRaw.Command(IsmWire.ClassAttach, 0, region.Token, (ulong)(IsmPermissions.Read | IsmPermissions.Write));

        (IsmAck ack, byte[] reply) = await bench.Devices[1].SendAsync(request, 1 + 16, cancellationToken);
        (IsmAck retryAck, _) = await bench.Devices[1].SendAsync(request, 1 + 16 + (int)(8 * IsmRaw.Field(reply, 1)), cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ack, Is.EqualTo(IsmAck.TooBig));
            Assert.That(IsmRaw.Field(reply, 1), Is.EqualTo(4));
            Assert.That(retryAck, Is.EqualTo(IsmAck.Ok));
        }
    }

    [Test]
    public async Task Attach_WithoutEnoughFreeChunks_AcksEnospec(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken, memory: 2 * EndpointDescriptionsBacking());
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        ulong slots = b.Regions.Length / b.ChunkSize;
        IsmRegion fill = await b.AllocateAsync((slots - 1) * b.ChunkSize, cancellationToken);
        IsmRegion wanted = await a.AllocateAsync(1, cancellationToken);
        await b.AttachAsync(wanted.Token, cancellationToken: cancellationToken);
        IsmRegion another = await a.AllocateAsync(1, cancellationToken);

        Assert.That(async () => await b.AttachAsync(another.Token, cancellationToken: cancellationToken), Throws.InstanceOf<IsmNoSpaceException>(), fill.ToString());
    }

    private static ulong EndpointDescriptionsBacking() => VirtioHw.Model.EndpointDescriptions.LoadBuiltin("virtio-ism").BackingMemory;

    [Test]
    public async Task Attach_ReadOnly_SetsTheChunkPermissionsSoWritesAreDropped(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion atA = await bench.Devices[0].AllocateAsync(4096, cancellationToken);
        atA.Write(0, [1, 2, 3, 4]);
        IsmRegion atB = await bench.Devices[1].AttachAsync(atA.Token, IsmPermissions.Read, cancellationToken);

        atB.Write(0, [9, 9, 9, 9]);

        var seen = new byte[4];
        atA.Read(0, seen);
        var seenByB = new byte[4];
        atB.Read(0, seenByB);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen, Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
            Assert.That(seenByB, Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
        }
    }

    [Test]
    public async Task Attach_WriteOnly_ReadsAllOnes(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion atA = await bench.Devices[0].AllocateAsync(4096, cancellationToken);
        IsmRegion atB = await bench.Devices[1].AttachAsync(atA.Token, IsmPermissions.Write, cancellationToken);

        atB.Write(0, [7]);

        var seen = new byte[1];
        atA.Read(0, seen);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen[0], Is.EqualTo(7));
            Assert.That(atB.Device.Regions.Read8(atB.Offset), Is.EqualTo(0xFF));
        }
    }

    [Test]
    public async Task Attach_TwiceByOneDevice_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);

        Assert.That(async () => await bench.Devices[0].AttachAsync(region.Token, cancellationToken: cancellationToken), Throws.InstanceOf<IsmCommandFailedException>());
    }

    [Test]
    public async Task Detach_NotAttached_AcksEnoent(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);

        Assert.That(async () => await bench.Devices[1].DetachAsync(region.Token, cancellationToken), Throws.InstanceOf<IsmNoEntryException>());
    }

    [Test]
    public async Task Detach_ByTheLastReferrer_FreesTheRegionAndItsMemory(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        int free = bench.Domain.FreeChunks;
        IsmRegion atA = await bench.Devices[0].AllocateAsync(2 * bench.Devices[0].ChunkSize, cancellationToken);
        IsmRegion atB = await bench.Devices[1].AttachAsync(atA.Token, cancellationToken: cancellationToken);

        await atA.DetachAsync(cancellationToken);
        bool aliveWhileBRefers = bench.Domain.RegionCount == 1;
        await atB.DetachAsync(cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(aliveWhileBRefers, Is.True);
            Assert.That(bench.Domain.FreeChunks, Is.EqualTo(free));
            Assert.That(async () => await bench.Devices[0].QueryAsync(atA.Token, cancellationToken), Throws.InstanceOf<IsmNoEntryException>());
        }
    }

    [Test]
    public async Task Grant_RegionNotAttached_AcksEnoent(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);

        Assert.That(async () => await bench.Devices[1].GrantDefaultAsync(region.Token, IsmPermissions.Read, cancellationToken), Throws.InstanceOf<IsmNoEntryException>());
    }

    [Test]
    public async Task Grant_WithoutManagePermission_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);
        await bench.Devices[1].AttachAsync(region.Token, cancellationToken: cancellationToken);

        Assert.That(async () => await bench.Devices[1].GrantDefaultAsync(region.Token, IsmPermissions.Read, cancellationToken), Throws.InstanceOf<IsmCommandFailedException>());
    }

    [Test]
    public async Task Grant_ManageToAPeer_LetsItChangePermissions(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 3, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        IsmRegion region = await a.AllocateAsync(1, cancellationToken);
        await a.GrantAsync(region.Token, b.DevId, IsmPermissions.Read | IsmPermissions.Write | IsmPermissions.Attach | IsmPermissions.Manage, cancellationToken);
        await b.AttachAsync(region.Token, cancellationToken: cancellationToken);

        await b.GrantDefaultAsync(region.Token, IsmPermissions.None, cancellationToken);

        Assert.That(async () => await bench.Devices[2].AttachAsync(region.Token, IsmPermissions.Read, cancellationToken), Throws.InstanceOf<IsmAttachDeniedException>());
    }

    [Test]
    public async Task EventVector_RegionNotAttached_AcksEnoent(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);

        Assert.That(async () => await bench.Devices[0].SetEventVectorAsync(42, 3, cancellationToken), Throws.InstanceOf<IsmNoEntryException>());
    }

    [Test]
    public async Task EventVector_BeyondTheDevicesVectors_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 1, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);

        Assert.That(async () => await bench.Devices[0].SetEventVectorAsync(region.Token, 200, cancellationToken), Throws.InstanceOf<IsmCommandFailedException>());
    }

    [Test]
    public async Task AttachDriver_SizeLessThanNumTimesChunkSize_OnlyTheHeadOfTheLastChunkIsEffective(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, mode, 2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        ulong size = a.ChunkSize + 100;
        IsmRegion region = await a.AllocateAsync(size, cancellationToken);
        IsmRegion atB = await bench.Devices[1].AttachAsync(region.Token, cancellationToken: cancellationToken);

        region.Write(size - 1, [0x5a]);
        var last = new byte[1];
        atB.Read(size - 1, last);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((region.Chunks.Count, atB.Size, last[0]), Is.EqualTo((2, size, (byte)0x5a)));
            Assert.That(() => region.Write(size, [1]), Throws.InstanceOf<ArgumentOutOfRangeException>(), "past the size at the allocator");
            Assert.That(() => atB.Read(size - 1, new byte[2]), Throws.InstanceOf<ArgumentOutOfRangeException>(), "past the size at the attacher");
        }
    }
}
