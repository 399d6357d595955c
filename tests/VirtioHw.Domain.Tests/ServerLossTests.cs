using VirtioHw.Firmware.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Domain.Tests;

/// <summary>
/// The client's side of a lost server, in this process: the server hangs up (it stops), and the
/// client's mapping of the domain memory is replaced in place by zeroed memory of its own, each
/// member is told once, and operations fail with <see cref="IsmDomainUnavailableException"/>.
/// A client that closes the connection itself is not told of a loss.
/// </summary>
[CancelAfter(60_000)]
public sealed class ServerLossTests
{
    [Test]
    public async Task ServerGone_ReplacesTheMemoryInPlace_TellsEveryMemberOnce_AndOperationsFail(CancellationToken cancellationToken)
    {
        using var domain = new TestDomain();
        using var client = RemoteIsmDomain.Connect(domain.SocketPath);
        var first = new LossRecorder();
        var second = new LossRecorder();
        ulong devid = client.Join(first);
        client.Join(second);
        IsmMapResult region = client.Allocate(devid, 4096, new IsmChunkLimits(16, 16));
        Assert.That(region.Ack, Is.EqualTo(IsmAck.Ok));
        Memory<byte> memory = client.Memory;
        memory.Span.Slice((int)region.Chunks![0], 4096).Fill(0x77);

        domain.Server.Dispose();
        await client.Disconnected.WaitAsync(cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Losses, Is.EqualTo(1));
            Assert.That(second.Losses, Is.EqualTo(1));
            Assert.That(memory.Span.ContainsAnyExcept((byte)0), Is.False, "the same memory object now reads this process's zeroed copy");
            Assert.That(() => client.Query(devid, region.Token), Throws.InstanceOf<IsmDomainUnavailableException>());
            Assert.That(() => client.Kick(devid, region.Token), Throws.InstanceOf<IsmDomainUnavailableException>());
        }

        memory.Span[0] = 1;
        Assert.That(client.Memory.Span[0], Is.EqualTo(1), "still writable: a device's window keeps working on its own copy");
    }

    [Test]
    public async Task ClientClosesItself_IsNoLoss(CancellationToken cancellationToken)
    {
        using var domain = new TestDomain();
        var member = new LossRecorder();
        var client = RemoteIsmDomain.Connect(domain.SocketPath);
        client.Join(member);
        client.Dispose();
        await client.Disconnected.WaitAsync(cancellationToken);
        await domain.WaitForPeersAsync(0, cancellationToken);
        Assert.That(member.Losses, Is.Zero);
    }

    private sealed class LossRecorder : IIsmDomainMember
    {
        private int _losses;

        public int Losses => Volatile.Read(ref _losses);

        public void OnDomainEvent(IsmDomainEvent domainEvent)
        {
        }

        public void OnDomainLost() => Interlocked.Increment(ref _losses);
    }
}
