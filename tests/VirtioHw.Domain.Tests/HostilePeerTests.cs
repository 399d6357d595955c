using System.Buffers.Binary;
using System.Diagnostics;
using VirtioHw.Domain.Native;
using VirtioHw.Firmware.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Domain.Tests;

/// <summary>
/// A hostile peer on the raw protocol, running its own code on what the server gives it: it never
/// gets memory of a region the domain did not let it allocate or attach, it cannot resize or
/// reseal what it gets, a read-only attachment cannot be mapped writable, memory it kept from a
/// freed region never reaches the next region in those chunks, and nothing it does takes another
/// peer down.
/// </summary>
[CancelAfter(120_000)]
public sealed class HostilePeerTests
{
    private const ulong ChunkLimit = 256;

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
    public void RegionMemory_CannotBeShrunkGrownOrResealed_AndEveryoneGoesOn()
    {
        (ulong token, ulong chunk) = GoodRegion(0x3c);
        using var hostile = RawPeer.Connect(_domain.SocketPath);
        hostile.Hello();
        ulong devid = hostile.Join();
        ReceivedFrame reply = hostile.RequestFrame(DomainOperation.Allocate, devid, a: 4096, b: ChunkLimit, c: ChunkLimit);
        using FileDescriptor memory = reply.Descriptor ?? throw new AssertionException("an allocate carries the region's memory");
        long size = SharedMapping.SizeOf(memory);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((IsmAck)reply.Payload[4], Is.EqualTo(IsmAck.Ok));
            Assert.That(SharedMapping.SealsOf(memory), Is.EqualTo(SealedMemory.Seals), "shrink, grow and seal are sealed");
            Assert.That(Libc.FTruncate(memory, 0), Is.EqualTo(-1), "truncating to nothing fails");
            Assert.That(Libc.FTruncate(memory, size / 2), Is.EqualTo(-1), "shrinking fails");
            Assert.That(Libc.FTruncate(memory, size * 2), Is.EqualTo(-1), "growing fails");
            Assert.That(Libc.Control(memory, Libc.FileAddSeals, 0x8), Is.EqualTo(-1), "no further seal (a write seal would freeze the others) can be added");
            Assert.That(SharedMapping.SizeOf(memory), Is.EqualTo(size));
        }

        // The good client's region reads what it wrote, it allocates again, and a newcomer joins.
        Assert.That(_good.Memory.Span.Slice((int)chunk, 4096).ToArray(), Is.All.EqualTo(0x3c));
        Assert.That(_good.Allocate(_goodDevice, 4096, new IsmChunkLimits((long)ChunkLimit, (int)ChunkLimit)).Ack, Is.EqualTo(IsmAck.Ok));
        using var newcomer = RemoteIsmDomain.Connect(_domain.SocketPath);
        Assert.That(newcomer.Join(new IgnoredEvents()), Is.Not.Zero);
        Assert.That(_good.Query(_goodDevice, token).Ack, Is.EqualTo(IsmAck.Ok));
    }

    [Test]
    public void PeerWithoutAGrant_GetsNoMemory_ForAnyRequest()
    {
        (ulong token, _) = GoodRegion(0x5a);
        using var hostile = RawPeer.Connect(_domain.SocketPath);
        hostile.Hello();
        ulong devid = hostile.Join();
        (ulong Token, IsmPermissions Access, IsmAck Expected)[] attaches =
        [
            (token, IsmPermissions.Read | IsmPermissions.Write, IsmAck.AttachDenied),
            (token, IsmPermissions.Read, IsmAck.AttachDenied),
            (token ^ 1, IsmPermissions.Read, IsmAck.NoEntry),
        ];
        foreach ((ulong forged, IsmPermissions access, IsmAck expected) in attaches)
        {
            ReceivedFrame reply = hostile.RequestFrame(DomainOperation.Attach, devid, forged, (ulong)access, ChunkLimit, ChunkLimit);
            reply.Descriptor?.Dispose();
            using (Assert.EnterMultipleScope())
            {
                Assert.That(reply.Descriptor, Is.Null, $"an attach ({access}) of a region never granted brings no memory");
                Assert.That((IsmAck)reply.Payload[4], Is.EqualTo(expected), $"an attach ({access}) of 0x{forged:x}");
            }
        }

        // Nothing else it may ask carries memory either.
        foreach (DomainOperation operation in new[] { DomainOperation.Query, DomainOperation.Grant, DomainOperation.Detach })
        {
            ReceivedFrame reply = hostile.RequestFrame(operation, devid, token, (ulong)IsmPermissions.Attach);
            reply.Descriptor?.Dispose();
            Assert.That(reply.Descriptor, Is.Null, $"{operation} brings no memory");
        }
    }

    [Test]
    public async Task PeerProcessWithoutAGrant_MapsNoRegionMemory_UntilItAttaches(CancellationToken cancellationToken)
    {
        (ulong token, _) = GoodRegion(0x33);
        using var peer = PeerProcess.StartInteractive("domain", "peer", "-o", "domain=" + _domain.SocketPath);
        string ready = await peer.WaitForLineAsync("ready devid", cancellationToken);
        ulong devid = ulong.Parse(ready.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(RegionMappings(peer.Id), Is.Zero, "joined, granted nothing: no region memory is mapped in the peer process");
        Assert.That(await peer.AskAsync($"attach 0x{token:x} r", cancellationToken), Does.StartWith("error"), peer.Transcript);
        Assert.That(RegionMappings(peer.Id), Is.Zero, "a refused attach maps nothing");

        Assert.That(_good.Grant(_goodDevice, token, IsmPermissions.Attach | IsmPermissions.Read, devid), Is.EqualTo(IsmAck.Ok));
        Assert.That(await peer.AskAsync($"attach 0x{token:x} r", cancellationToken), Does.StartWith("ok"), peer.Transcript);
        Assert.That(await peer.AskAsync($"check 0x{token:x} 0x33", cancellationToken), Does.StartWith("ok"), peer.Transcript);
        Assert.That(RegionMappings(peer.Id), Is.GreaterThan(0), "once granted and attached, the region's memory is mapped");
        Assert.That(await peer.AskAsync($"detach 0x{token:x}", cancellationToken), Does.StartWith("ok"), peer.Transcript);
        Assert.That(RegionMappings(peer.Id), Is.Zero, "detached: withdrawn again");
        Assert.That(Directory.GetFiles($"/proc/{peer.Id}/fd").Select(LinkTarget).Count(t => t.Contains("virtiohw-ism-region", StringComparison.Ordinal)), Is.Zero, "and its descriptor closed");
    }

    [Test]
    public unsafe void ReadOnlyAttachment_GetsMemoryThatCannotBeMappedWritable()
    {
        (ulong token, _) = GoodRegion(0x71);
        using var hostile = RawPeer.Connect(_domain.SocketPath);
        hostile.Hello();
        ulong devid = hostile.Join();
        Assert.That(_good.Grant(_goodDevice, token, IsmPermissions.Attach | IsmPermissions.Read, devid), Is.EqualTo(IsmAck.Ok));
        ReceivedFrame reply = hostile.RequestFrame(DomainOperation.Attach, devid, token, (ulong)IsmPermissions.Read, ChunkLimit, ChunkLimit);
        using FileDescriptor memory = reply.Descriptor ?? throw new AssertionException("an attach carries the region's memory");
        Assert.That((IsmAck)reply.Payload[4], Is.EqualTo(IsmAck.Ok));
        void* writable = Libc.MapMemory(null, 4096, Libc.ProtectRead | Libc.ProtectWrite, Libc.MapShared, memory, 0);
        void* readable = Libc.MapMemory(null, 4096, Libc.ProtectRead, Libc.MapShared, memory, 0);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(SharedMapping.IsReadOnly(memory), Is.True, "opened read-only");
                Assert.That((nint)writable, Is.EqualTo((nint)(-1)), "a writable shared mapping is refused");
                Assert.That((nint)readable, Is.Not.EqualTo((nint)(-1)), "a read-only one works");
                Assert.That(new ReadOnlySpan<byte>(readable, 4096).ToArray(), Is.All.EqualTo(0x71), "and reads the region the domain let it read");
            }
        }
        finally
        {
            if (readable != (void*)-1)
            {
                Libc.UnmapMemory(readable, 4096);
            }
        }
    }

    [Test]
    public unsafe void MemoryKeptFromAFreedRegion_NeverReachesTheNextRegionInItsChunks()
    {
        using var hostile = RawPeer.Connect(_domain.SocketPath);
        hostile.Hello();
        ulong devid = hostile.Join();
        ReceivedFrame allocated = hostile.RequestFrame(DomainOperation.Allocate, devid, a: 4096, b: ChunkLimit, c: ChunkLimit);
        using FileDescriptor kept = allocated.Descriptor ?? throw new AssertionException("an allocate carries the region's memory");
        ulong token = BinaryPrimitives.ReadUInt64LittleEndian(allocated.Payload.AsSpan(8));
        ulong chunk = BinaryPrimitives.ReadUInt64LittleEndian(allocated.Payload.AsSpan(DomainWire.ReplyHeaderSize));
        void* view = Libc.MapMemory(null, 4096, Libc.ProtectRead | Libc.ProtectWrite, Libc.MapShared, kept, 0);
        Assert.That((nint)view, Is.Not.EqualTo((nint)(-1)));
        try
        {
            // The hostile peer frees its region but keeps the memfd mapped; the pool hands the chunk to the good client.
            ReceivedFrame detached = hostile.RequestFrame(DomainOperation.Detach, devid, token);
            Assert.That((IsmAck)detached.Payload[4], Is.EqualTo(IsmAck.Ok));
            (_, ulong reused) = GoodRegion(0xa5);
            Assert.That(reused, Is.EqualTo(chunk), "the same chunk of the domain went to the next region");
            new Span<byte>(view, 4096).Fill(0xee);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(new ReadOnlySpan<byte>(view, 4096).ToArray(), Is.All.EqualTo(0xee), "the hostile peer sees only its own dead memory");
                Assert.That(_good.Memory.Span.Slice((int)reused, 4096).ToArray(), Is.All.EqualTo(0xa5), "its writes never reach the new region");
                Assert.That(_domain.Server.Memory.Span.Slice((int)reused, 4096).ToArray(), Is.All.EqualTo(0xa5), "the server sees the new region's bytes");
            }
        }
        finally
        {
            Libc.UnmapMemory(view, 4096);
        }
    }

    [Test]
    public void PipelinedAllocateAndDetach_ThenGarbage_DropsOnlyTheHostilePeer_AndLeavesNoRegionMemory()
    {
        (ulong token, ulong chunk) = GoodRegion(0x42);
        int regionsBefore = _domain.Server.Domain.RegionCount;
        int descriptorsBefore = Directory.GetFiles("/proc/self/fd").Length;
        using (var hostile = RawPeer.Connect(_domain.SocketPath))
        {
            hostile.Hello();
            ulong devid = hostile.Join();
            for (int i = 0; i < 50; i++)
            {
                // Allocations it never reads the reply to, each freed before the server could send it.
                hostile.Request(DomainOperation.Allocate, devid, awaitReply: false, a: 4096, b: ChunkLimit, c: ChunkLimit);
            }

            hostile.Send(DomainWire.Frame(0x6666, new byte[3]));
            Assert.That(hostile.ClosedByServer(TimeSpan.FromSeconds(20)), Is.True, "the hostile peer is dropped");
        }

        Stopwatch wait = Stopwatch.StartNew();
        while (_domain.Server.PeerCount != 1 && wait.Elapsed < TimeSpan.FromSeconds(20))
        {
            Thread.Sleep(10);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(_domain.Server.PeerCount, Is.EqualTo(1), "only the good client is left");
            Assert.That(_domain.Server.Domain.RegionCount, Is.EqualTo(regionsBefore), "the hostile peer's regions are freed");
            Assert.That(Directory.GetFiles("/proc/self/fd").Length, Is.LessThanOrEqualTo(descriptorsBefore), "no region memfd stays open in the server");
            Assert.That(_good.Memory.Span.Slice((int)chunk, 4096).ToArray(), Is.All.EqualTo(0x42), "the good client's bytes are untouched");
            Assert.That(_good.Query(_goodDevice, token).Ack, Is.EqualTo(IsmAck.Ok), "and it is still served");
        }
    }

    /// <summary>Mappings of region memory in process <paramref name="pid"/>: lines of its maps naming a region memfd.</summary>
    private static int RegionMappings(int pid) =>
        File.ReadAllLines($"/proc/{pid}/maps").Count(line => line.Contains("memfd:virtiohw-ism-region", StringComparison.Ordinal));

    private static string LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget ?? string.Empty;
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>
    /// A region of the good client filled with <paramref name="fill"/>: its token and first chunk.
    /// Its default permissions are cleared, so no other device may attach it without a grant (a new
    /// region lets every device of the domain that knows its token attach it, as the specification says).
    /// </summary>
    private (ulong Token, ulong Chunk) GoodRegion(byte fill)
    {
        IsmMapResult result = _good.Allocate(_goodDevice, 4096, new IsmChunkLimits((long)ChunkLimit, (int)ChunkLimit));
        Assert.That(result.Ack, Is.EqualTo(IsmAck.Ok));
        Assert.That(_good.Grant(_goodDevice, result.Token, IsmPermissions.None, peer: null), Is.EqualTo(IsmAck.Ok));
        ulong chunk = result.Chunks![0];
        _good.Memory.Span.Slice((int)chunk, 4096).Fill(fill);
        return (result.Token, chunk);
    }
}
