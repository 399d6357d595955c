using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Tests;

/// <summary>IsmDevice.BindUpdateVectorAsync: a region's updates on an MSI-X entry of their own (Inform Event IRQ Vector).</summary>
[CancelAfter(30_000)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class IsmUpdateVectorTests(PlatformKind kind)
{
    [Test]
    public async Task BoundVector_EachKickIsOneInterrupt_AndTheEventqGetsNoUpdateOfThatRegion(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 2, cancellationToken);
        (IsmRegion bound, IsmRegion boundAtB) = await ShareAsync(bench, cancellationToken);
        (IsmRegion other, IsmRegion otherAtB) = await ShareAsync(bench, cancellationToken);
        await using IsmUpdateVector vector = await bench.Devices[1].BindUpdateVectorAsync(boundAtB.Token, cancellationToken);

        var sequences = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            bound.Kick();
            sequences.Add(await vector.WaitAsync(cancellationToken));
        }

        other.Kick();
        IsmEvent update = await bench.Devices[1].Next(IsmEventType.Update, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(sequences, Is.EqualTo(new long[] { 1, 2, 3 }));
            Assert.That(update.Offset, Is.EqualTo(otherAtB.Offset), "the first update on the eventq is the unbound region's");
            Assert.That(vector.DeliveredCount, Is.EqualTo(3));
        }
    }

    [Test]
    public async Task DisposedVector_GivesTheUpdatesBackToTheEventq(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 2, cancellationToken);
        (IsmRegion region, IsmRegion atB) = await ShareAsync(bench, cancellationToken);
        IsmUpdateVector vector = await bench.Devices[1].BindUpdateVectorAsync(atB.Token, cancellationToken);
        region.Kick();
        await vector.WaitAsync(cancellationToken);
        await vector.DisposeAsync();

        region.Kick();
        IsmEvent update = await bench.Devices[1].Next(IsmEventType.Update, cancellationToken);
        Assert.That((update.Offset, update.DevId), Is.EqualTo((atB.Offset, bench.Devices[0].DevId)));
    }

    [Test]
    public async Task EachBinding_GetsAnEntryOfItsOwn_NeitherTheConfigurationsNorAQueues(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 2, cancellationToken);
        IsmDevice b = bench.Devices[1];
        var transport = (VirtioPciTransport)b.Transport;
        int free = transport.Msix!.TableSize - 3;
        var vectors = new List<IsmUpdateVector>();
        try
        {
            for (int i = 0; i < free; i++)
            {
                (_, IsmRegion atB) = await ShareAsync(bench, cancellationToken);
                vectors.Add(await b.BindUpdateVectorAsync(atB.Token, cancellationToken));
            }

            (_, IsmRegion oneTooMany) = await ShareAsync(bench, cancellationToken);
            ushort[] entries = [.. vectors.Select(v => v.Entry)];
            using (Assert.EnterMultipleScope())
            {
                Assert.That(entries, Is.Unique);
                Assert.That(entries, Has.None.EqualTo(0), "entry 0 signals configuration changes");
                Assert.That(entries, Has.None.EqualTo((ushort)1).And.None.EqualTo((ushort)2), "the queues' entries");
                Assert.That(() => b.BindUpdateVectorAsync(oneTooMany.Token, cancellationToken), Throws.InvalidOperationException);
            }
        }
        finally
        {
            foreach (IsmUpdateVector vector in vectors)
            {
                await vector.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task Bind_ARegionNotAttached_ThrowsNoEntry_AndKeepsTheEntryFree(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 2, cancellationToken);
        IsmDevice b = bench.Devices[1];
        (IsmRegion region, _) = await ShareAsync(bench, cancellationToken);
        IsmRegion notAtB = await bench.Devices[0].AllocateAsync(1, cancellationToken);

        Assert.That(() => b.BindUpdateVectorAsync(notAtB.Token, cancellationToken), Throws.InstanceOf<IsmNoEntryException>());
        await using IsmUpdateVector vector = await b.BindUpdateVectorAsync(region.Token, cancellationToken);
        Assert.That(vector.Entry, Is.EqualTo(((VirtioPciTransport)b.Transport).Msix!.TableSize - 1), "the refused binding gave its entry back");
    }

    /// <summary>Device 0 allocates a chunk, device 1 attaches it; the attach event is consumed.</summary>
    private static async Task<(IsmRegion AtA, IsmRegion AtB)> ShareAsync(ModeBench bench, CancellationToken cancellationToken)
    {
        IsmRegion atA = await bench.Devices[0].AllocateAsync(1, cancellationToken);
        IsmRegion atB = await bench.Devices[1].AttachAsync(atA.Token, cancellationToken: cancellationToken);
        await bench.Devices[0].Next(IsmEventType.Attach, cancellationToken);
        return (atA, atB);
    }
}
