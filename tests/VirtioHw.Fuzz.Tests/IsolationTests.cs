using System.Buffers.Binary;
using System.Security.Cryptography;
using VirtioHw.Drivers.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Fuzz.Tests;

/// <summary>
/// Tenant isolation, on the model and on the RTL endpoints (the same firmware on both): region
/// memory is zero when handed out and after it is freed, a BAR2 access outside the caller's mapped
/// chunks touches no region (every slot of every device), forged tokens are refused, and a
/// read-only attachment cannot write through the window.
/// </summary>
[TestFixture(IsmSide.Model)]
[TestFixture(IsmSide.Rtl)]
[CancelAfter(300_000)]
public sealed class IsolationTests(IsmSide side)
{
    [Test]
    public async Task Alloc_AfterAnotherRegionWasFreed_HandsOutZeroedChunks(CancellationToken ct)
    {
        await using IsmSetup bench = await IsmSetup.StartAsync(side, 1, ct);
        IsmDevice device = bench.Devices[0];
        IsmRegion first = await device.AllocateAsync(2 * device.ChunkSize, ct);
        Fill(first, 0xa5);
        await first.DetachAsync(ct);

        IsmRegion second = await device.AllocateAsync(2 * device.ChunkSize, ct);

        Assert.That(Contents(second), Has.All.EqualTo((byte)0));
    }

    [Test]
    public async Task Detach_OfTheLastReferrer_LeavesTheDomainMemoryZero(CancellationToken ct)
    {
        await using IsmSetup bench = await IsmSetup.StartAsync(side, 2, ct);
        IsmRegion region = await bench.Devices[0].AllocateAsync(3 * bench.Devices[0].ChunkSize, ct);
        await bench.Devices[1].AttachAsync(region.Token, cancellationToken: ct);
        Fill(region, 0x5a);
        await bench.Devices[1].DetachAsync(region.Token, ct);
        await region.DetachAsync(ct);

        Assert.That(bench.NonZeroBytes(), Is.Zero, "bytes of a freed region still readable in the domain memory");
    }

    [Test]
    public async Task Bar2_AccessOutsideTheMappedChunks_NeverReadsOrWritesARegion_EverySlotOfEveryDevice(CancellationToken ct)
    {
        await using IsmSetup bench = await IsmSetup.StartAsync(side, 2, ct);
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        IsmRegion ofA = await a.AllocateAsync(2 * a.ChunkSize, ct);
        IsmRegion ofB = await b.AllocateAsync(a.ChunkSize, ct);
        IsmRegion shared = await a.AllocateAsync(a.ChunkSize, ct);
        IsmRegion sharedAtB = await b.AttachAsync(shared.Token, cancellationToken: ct);
        Fill(ofA, 0xaa);
        Fill(ofB, 0xbb);
        Fill(shared, 0xcc);
        ulong bytesInUse = (ulong)(ofA.Chunks.Count + ofB.Chunks.Count + shared.Chunks.Count) * a.ChunkSize;

        foreach ((IsmDevice device, IsmRegion[] own) in new[] { (a, new[] { ofA, shared }), (b, new[] { ofB, sharedAtB }) })
        {
            var mapped = own.SelectMany(r => r.Chunks).ToHashSet();
            for (ulong slot = 0; slot < device.Regions.Length; slot += device.ChunkSize)
            {
                if (mapped.Contains(slot))
                {
                    continue;
                }

                foreach (ulong at in new[] { slot, slot + (device.ChunkSize / 2), slot + device.ChunkSize - 8 })
                {
                    Assert.That(device.Regions.Read64(at), Is.EqualTo(ulong.MaxValue), $"{device.Transport.Location}: unmapped slot offset 0x{at:x} read data");
                    device.Regions.Write64(at, 0x0123_4567_89ab_cdef);
                }
            }
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Contents(ofA), Has.All.EqualTo((byte)0xaa));
            Assert.That(Contents(ofB), Has.All.EqualTo((byte)0xbb));
            Assert.That(Contents(shared), Has.All.EqualTo((byte)0xcc));
            Assert.That(Contents(sharedAtB), Has.All.EqualTo((byte)0xcc));
            Assert.That(bench.NonZeroBytes(), Is.EqualTo(bytesInUse), "a write outside the mapped chunks reached the domain memory");
        }
    }

    [Test]
    public async Task ForgedTokens_AreRefusedByEveryCommandThatNamesOne(CancellationToken ct)
    {
        await using IsmSetup bench = await IsmSetup.StartAsync(side, 2, ct);
        IsmRegion real = await bench.Devices[0].AllocateAsync(4096, ct);
        byte[] forged = new byte[8];
        var acks = new List<IsmAck>();
        for (int i = 0; i < 200; i++)
        {
            RandomNumberGenerator.Fill(forged);
            ulong token = BinaryPrimitives.ReadUInt64LittleEndian(forged);
            if (token == real.Token)
            {
                continue;
            }

            foreach (byte[] request in new[]
            {
                Command(1, 0, token),
                Command(2, 0, token, 3),
                Command(3, 0, token),
                Command(4, 0, token, 7),
                Command(4, 1, token, 7, 1),
                Command(5, 0, token, 0),
            })
            {
                acks.Add((await bench.Devices[i % 2].SendAsync(request, 17 + 64, ct)).Ack);
            }
        }

        Assert.That(acks, Has.All.EqualTo(IsmAck.NoEntry));
    }

    [Test]
    public async Task Tokens_AreDistinctAndNotGuessableFromOneAnother(CancellationToken ct)
    {
        await using IsmSetup bench = await IsmSetup.StartAsync(side, 1, ct);
        var tokens = new List<ulong>();
        for (int i = 0; i < 64; i++)
        {
            IsmRegion region = await bench.Devices[0].AllocateAsync(4096, ct);
            tokens.Add(region.Token);
            await region.DetachAsync(ct);
        }

        var steps = tokens.Zip(tokens.Skip(1), (x, y) => y - x).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tokens, Is.Unique);
            Assert.That(steps.Distinct().Count(), Is.GreaterThan(60), "tokens follow a pattern");
            Assert.That(tokens.Count(t => (t >> 32) != 0), Is.GreaterThan(50), "tokens do not use the high half");
        }
    }

    [Test]
    public async Task ReadOnlyAttachment_CannotWriteThroughTheWindow(CancellationToken ct)
    {
        await using IsmSetup bench = await IsmSetup.StartAsync(side, 2, ct);
        IsmRegion owner = await bench.Devices[0].AllocateAsync(2 * bench.Devices[0].ChunkSize, ct);
        Fill(owner, 0x3c);
        IsmRegion reader = await bench.Devices[1].AttachAsync(owner.Token, IsmPermissions.Read, ct);

        byte[] attempt = new byte[4096];
        attempt.AsSpan().Fill(0xee);
        for (ulong offset = 0; offset < reader.Size; offset += 4096)
        {
            reader.Write(offset, attempt);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Contents(owner), Has.All.EqualTo((byte)0x3c));
            Assert.That(Contents(reader), Has.All.EqualTo((byte)0x3c), "the reader does not see the region");
        }
    }

    private static byte[] Command(byte cls, byte command, params ulong[] fields)
    {
        var request = new byte[2 + (8 * fields.Length)];
        request[0] = cls;
        request[1] = command;
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2 + (8 * i)), fields[i]);
        }

        return request;
    }

    private static void Fill(IsmRegion region, byte value)
    {
        byte[] bytes = new byte[region.Size];
        bytes.AsSpan().Fill(value);
        region.Write(0, bytes);
    }

    private static byte[] Contents(IsmRegion region)
    {
        byte[] bytes = new byte[region.Size];
        region.Read(0, bytes);
        return bytes;
    }
}
