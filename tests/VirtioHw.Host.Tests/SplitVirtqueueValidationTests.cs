using VirtioHw.Host.Virtio;

namespace VirtioHw.Host.Tests;

public class SplitVirtqueueValidationTests
{
    [TestCase(0)]
    [TestCase(3)]
    [TestCase(100)]
    [TestCase(32769)]
    [TestCase(65536)]
    [TestCase(-8)]
    public void Options_SizeNotAPowerOfTwoUpTo32768_Rejected(int size)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SplitVirtqueueOptions(size));
        Assert.That(error!.ParamName, Is.EqualTo("size"));
    }

    [TestCase(1)]
    [TestCase(32768)]
    public async Task Queue_SmallestAndLargestSizes_Accepted(int size)
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(size));

        Assert.That((rig.Queue.Size, rig.Queue.FreeDescriptors), Is.EqualTo((size, size)));
    }

    [Test]
    public void Options_FromFeatures_ReadsEventIdxAndIndirectBits()
    {
        var both = SplitVirtqueueOptions.FromFeatures(64, (1UL << 28) | (1UL << 29) | (1UL << 32), queueIndex: 3);
        var neither = SplitVirtqueueOptions.FromFeatures(64, 1UL << 32);

        Assert.That((both.IndirectDescriptors, both.EventIndex, both.QueueIndex, neither.IndirectDescriptors, neither.EventIndex),
            Is.EqualTo((true, true, (ushort)3, false, false)));
    }

    [Test]
    public void Options_ThresholdOrStagingTooSmall_Rejected()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SplitVirtqueueOptions(8) { IndirectThreshold = 0 });
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SplitVirtqueueOptions(8) { StagingBytes = 8 });
        });
    }

    [Test]
    public async Task Submit_NoBuffers_ThrowsArgumentException()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8));

        Assert.Throws<ArgumentException>(() => rig.Queue.SubmitAsync([], []));
    }

    [Test]
    public async Task Submit_EmptyBuffer_ThrowsNamingIt()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8));

        var error = Assert.Throws<ArgumentException>(() => rig.Queue.SubmitAsync([new byte[1]], [new byte[1], Memory<byte>.Empty]));
        Assert.That(error!.Message, Does.Contain("in buffer 1"));
    }

    [Test]
    public async Task Submit_ChainLongerThanQueueSize_ThrowsEvenWithIndirectDescriptors()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(4) { IndirectDescriptors = true });
        ReadOnlyMemory<byte>[] five = [.. Enumerable.Range(0, 5).Select(_ => new ReadOnlyMemory<byte>(new byte[1]))];

        var error = Assert.Throws<ArgumentException>(() => rig.Queue.SubmitAsync(five, []));
        Assert.That(error!.Message, Does.Contain("queue size 4"));
    }

    [Test]
    public async Task Submit_LargerThanStagingMemory_ThrowsInsteadOfWaitingForever()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8) { StagingBytes = 256 });

        var error = Assert.Throws<ArgumentException>(() => rig.Queue.SubmitAsync([new byte[200]], [new byte[100]]));
        Assert.That(error!.Message, Does.Contain("StagingBytes"));
    }

    [Test]
    public async Task ProcessUsed_DeviceReturnsAnIdNotOutstanding_ThrowsProtocolError()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8));
        _ = rig.Queue.SubmitAsync([new byte[1]], []);
        DeviceChain chain = rig.Device.TakeAvailable().Single();
        rig.Device.Complete(chain with { Head = 5 }, 0);

        var error = Assert.Throws<InvalidOperationException>(() => rig.Queue.ProcessUsed());
        Assert.That(error!.Message, Does.Contain("descriptor 5"));
    }
}
