using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Tests;

public class MsiVectorTests
{
    private FakePlatform _platform = null!;

    [SetUp]
    public void SetUp() => _platform = new FakePlatform();

    [TearDown]
    public async Task TearDown() => await _platform.DisposeAsync();

    [Test]
    public async Task DeviceWritesOfTheMessage_ArriveInOrderWithSequenceNumbers()
    {
        using MsiVector vector = _platform.AllocateMsiVector();
        for (int i = 0; i < 3; i++)
        {
            _platform.Write32(vector.Address, vector.Data);
        }

        long[] received = [await vector.WaitAsync(), await vector.WaitAsync(), await vector.WaitAsync()];

        Assert.Multiple(() =>
        {
            Assert.That(received, Is.EqualTo(new long[] { 1, 2, 3 }));
            Assert.That(vector.DeliveredCount, Is.EqualTo(3));
        });
    }

    [Test]
    public void Allocate_GivesEachVectorItsOwnMessage_AndDeliversOnlyToIt()
    {
        using MsiVector first = _platform.AllocateMsiVector();
        using MsiVector second = _platform.AllocateMsiVector();
        _platform.Write32(second.Address, second.Data);

        Assert.Multiple(() =>
        {
            Assert.That((first.Address, first.Data), Is.Not.EqualTo((second.Address, second.Data)));
            Assert.That(first.TryTake(out _), Is.False);
            Assert.That(second.TryTake(out long sequence), Is.True);
            Assert.That(sequence, Is.EqualTo(1));
        });
    }

    [Test]
    public void TryTake_EmptyThenDelivered_ReportsEachMessageOnce()
    {
        using MsiVector vector = _platform.AllocateMsiVector();
        bool before = vector.TryTake(out _);
        vector.Deliver();
        bool first = vector.TryTake(out long sequence);
        bool again = vector.TryTake(out _);

        Assert.That((before, first, sequence, again), Is.EqualTo((false, true, 1L, false)));
    }

    [Test]
    public void WaitAsync_Cancelled_ThrowsOperationCanceledAndKeepsLaterMessages()
    {
        using MsiVector vector = _platform.AllocateMsiVector();
        using var cancellation = new CancellationTokenSource();
        ValueTask<long> waiting = vector.WaitAsync(cancellation.Token);
        cancellation.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await waiting);
        vector.Deliver();
        Assert.That(vector.TryTake(out long sequence) ? sequence : 0, Is.EqualTo(1));
    }

    [Test]
    public async Task ReadAllAsync_YieldsEveryMessageThenEndsWhenDisposed()
    {
        MsiVector vector = _platform.AllocateMsiVector();
        vector.Deliver();
        vector.Deliver();
        vector.Dispose();
        vector.Deliver();

        var received = new List<long>();
        await foreach (long sequence in vector.ReadAllAsync())
        {
            received.Add(sequence);
        }

        Assert.That(received, Is.EqualTo(new long[] { 1, 2 }));
    }

    [Test]
    public void Dispose_ReturnsTheDataValueForReuse()
    {
        MsiVector vector = _platform.AllocateMsiVector();
        uint data = vector.Data;
        vector.Dispose();
        using MsiVector next = _platform.AllocateMsiVector();

        Assert.Multiple(() =>
        {
            Assert.That(next.Data, Is.EqualTo(data));
            Assert.That(_platform.Msi.TryDeliver(FakePlatform.MsiAddress, data + 1), Is.False);
        });
    }
}
