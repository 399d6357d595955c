using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class EventTests
{
    private static readonly PciAddress Ism = Rig.IsmAddress;

    [Test]
    public async Task NotifyWrite_AtAQueuesAddress_PushesQueueNotifyForThatQueue()
    {
        await using Rig rig = Rig.Create();
        ulong notify = Notify(rig, out uint multiplier);

        rig.Platform.Write16(notify + (1 * multiplier), 1);

        Assert.That(rig.Csr(Ism).TryPeekEvent(out FirmwareEvent head), Is.True);
        Assert.That(head, Is.EqualTo(new FirmwareEvent(FwCsr.FwEventKind.QueueNotify, 1)));
    }

    [Test]
    public async Task NotifyWrite_WithNotificationData_KeepsTheDataAboveTheQueueIndex()
    {
        await using Rig rig = Rig.Create();
        ulong notify = Notify(rig, out _);

        rig.Platform.Write32(notify, 0x8005_0000);

        Assert.That(rig.Csr(Ism).TryPeekEvent(out FirmwareEvent head), Is.True);
        Assert.That(head.Data, Is.EqualTo(0x8005_0000u));
    }

    [Test]
    public async Task NotifyWrite_ForAQueueTheDeviceDoesNotHave_PushesNothing()
    {
        await using Rig rig = Rig.Create();
        ulong notify = Notify(rig, out uint multiplier);

        rig.Platform.Write16(notify + (5 * multiplier), 5);

        Assert.That(rig.Csr(Ism).PendingEvents, Is.Zero);
    }

    [Test]
    public async Task IsmNotifyAreaWrite_PushesIsmKickWithTheRegionsSlot()
    {
        await using Rig rig = Rig.Create();
        ulong[] bars = rig.Setup(Ism);
        SharedMemoryRegion area = rig.Endpoint(Ism).Hardware.Description.FindSharedMemory(IsmShmId.Notify)!;

        rig.Platform.Write32(bars[area.Bar] + area.Offset + (7 * area.GranuleSize) + 8, 1);

        Assert.That(rig.Csr(Ism).TryPeekEvent(out FirmwareEvent head), Is.True);
        Assert.That(head, Is.EqualTo(new FirmwareEvent(FwCsr.FwEventKind.IsmKick, 7)));
    }

    [Test]
    public async Task Pop_ShowsTheNextEventInOrder()
    {
        await using Rig rig = Rig.Create();
        ulong notify = Notify(rig, out uint multiplier);
        rig.Platform.Write16(notify, 0);
        rig.Platform.Write16(notify + multiplier, 1);
        FirmwareCsr csr = rig.Csr(Ism);

        csr.PopEvent();

        Assert.That(csr.PendingEvents, Is.EqualTo(1));
        Assert.That(csr.TryPeekEvent(out FirmwareEvent head), Is.True);
        Assert.That(head.Data, Is.EqualTo(1u));
    }

    [Test]
    public async Task FullFifo_LosesTheNextEvent_AndSetsOverflowUntilWrittenOne()
    {
        await using Rig rig = Rig.Create();
        ulong notify = Notify(rig, out _);
        int depth = rig.Endpoint(Ism).Hardware.Description.EventFifoDepth;
        FirmwareCsr csr = rig.Csr(Ism);

        for (int i = 0; i <= depth; i++)
        {
            rig.Platform.Write16(notify, 0);
        }

        Assert.That(csr.PendingEvents, Is.EqualTo(depth));
        Assert.That(csr.TakeOverflow(), Is.True);
        Assert.That(csr.TakeOverflow(), Is.False);
    }

    [Test]
    public async Task FirmwareProcessing_DrainsTheFifo()
    {
        await using Rig rig = Rig.Create();
        ulong notify = Notify(rig, out uint multiplier);
        rig.Platform.Write16(notify, 0);
        rig.Platform.Write16(notify + multiplier, 1);

        int handled = rig.Firmware(Ism).ProcessPendingEvents();

        Assert.That(handled, Is.EqualTo(2));
        Assert.That(rig.Csr(Ism).TryPeekEvent(out _), Is.False);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WaitForEvent_CompletesWhenTheDriverNotifies(CancellationToken cancellationToken)
    {
        await using Rig rig = Rig.Create();
        ulong notify = Notify(rig, out _);
        ValueTask waiting = rig.Endpoint(Ism).Hardware.Hal.WaitForEventAsync(cancellationToken);
        bool completedBefore = waiting.IsCompleted;

        rig.Platform.Write16(notify, 0);
        await waiting;

        Assert.That(completedBefore, Is.False);
        Assert.That(rig.Csr(Ism).PendingEvents, Is.EqualTo(1));
    }

    [Test]
    public async Task WaitForEvent_WithAnEventWaiting_CompletesAtOnce()
    {
        await using Rig rig = Rig.Create();
        rig.Platform.Write16(Notify(rig, out _), 0);

        ValueTask waiting = rig.Endpoint(Ism).Hardware.Hal.WaitForEventAsync(CancellationToken.None);

        Assert.That(waiting.IsCompletedSuccessfully, Is.True);
    }

    private static ulong Notify(Rig rig, out uint multiplier)
    {
        ulong[] bars = rig.Setup(Ism);
        VirtioDescription virtio = rig.Endpoint(Ism).Hardware.Description.Virtio!;
        multiplier = virtio.NotifyOffMultiplier;
        return bars[virtio.Notify.Bar] + virtio.Notify.Offset;
    }
}
