using VirtioHw.Host.Virtio;

namespace VirtioHw.Host.Tests;

/// <summary>
/// Both directions of notification suppression: the driver's notifications honour
/// VIRTQ_USED_F_NO_NOTIFY or avail_event, and the device's interrupts follow
/// VIRTQ_AVAIL_F_NO_INTERRUPT or used_event as the driver sets them.
/// </summary>
public class NotificationSuppressionTests
{
    [Test]
    public async Task DriverNotify_WithoutEventIdx_SkippedWhileDeviceSetsNoNotify()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8));
        rig.Device.SetNoNotify(true);
        Submit(rig, 3);
        int whileSuppressed = rig.Notifier.Count;
        rig.Device.SetNoNotify(false);
        Submit(rig, 2);

        Assert.That((whileSuppressed, rig.Notifier.Count), Is.EqualTo((0, 2)));
    }

    [Test]
    public async Task DriverNotify_WithEventIdx_OnlyWhenPublishingTheEntryAtAvailEvent()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8) { EventIndex = true });

        // avail_event starts at 0: the first entry is announced, the next two are not.
        Submit(rig, 3);
        int afterFirstThree = rig.Notifier.Count;
        rig.Device.SetAvailEvent(4);
        Submit(rig, 1);
        int beforeEvent = rig.Notifier.Count;
        Submit(rig, 1);
        int atEvent = rig.Notifier.Count;
        Submit(rig, 1);

        Assert.That((afterFirstThree, beforeEvent, atEvent, rig.Notifier.Count), Is.EqualTo((1, 1, 2, 2)));
    }

    [Test]
    public async Task DriverNotify_WithEventIdx_AvailEventBehindAfterWrap_StillDecidedModulo65536()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8) { EventIndex = true });
        for (int round = 0; round < 65535 / 5; round++)
        {
            rig.Device.SetAvailEvent((ushort)(rig.Queue.AvailableIndex + 100));
            Submit(rig, 5);
            foreach (DeviceChain chain in rig.Device.TakeAvailable())
            {
                rig.Device.Complete(chain, 0);
            }

            rig.Queue.ProcessUsed();
        }

        int suppressed = rig.Notifier.Count;
        ushort next = rig.Queue.AvailableIndex;
        rig.Device.SetAvailEvent(next);
        Submit(rig, 2);

        Assert.Multiple(() =>
        {
            Assert.That(next, Is.EqualTo((ushort)65535), "the next entry sits at the wrap");
            Assert.That(suppressed, Is.Zero);
            Assert.That(rig.Notifier.Count, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task DeviceInterrupt_WithoutEventIdx_FollowsDisableAndEnable()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8));
        Submit(rig, 4);
        List<DeviceChain> chains = rig.Device.TakeAvailable();
        rig.Device.Complete(chains[0], 0);
        int enabled = rig.Device.Interrupts;

        rig.Queue.DisableUsedNotifications();
        rig.Device.Complete(chains[1], 0);
        rig.Device.Complete(chains[2], 0);
        int disabled = rig.Device.Interrupts;
        bool pendingOnEnable = rig.Queue.EnableUsedNotifications();
        rig.Device.Complete(chains[3], 0);

        Assert.That((enabled, disabled, pendingOnEnable, rig.Device.Interrupts), Is.EqualTo((1, 1, true, 2)));
    }

    [Test]
    public async Task DeviceInterrupt_WithEventIdx_OnePerBatchUntilDriverProcessesUsed()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8) { EventIndex = true });
        Submit(rig, 4);
        List<DeviceChain> chains = rig.Device.TakeAvailable();

        // used_event is 0: the first returned chain interrupts, the rest ride along with it.
        rig.Device.Complete(chains[0], 0);
        rig.Device.Complete(chains[1], 0);
        rig.Device.Complete(chains[2], 0);
        int beforeProcessing = rig.Device.Interrupts;
        int processed = rig.Queue.ProcessUsed();
        rig.Device.Complete(chains[3], 0);

        Assert.That((beforeProcessing, processed, rig.Device.Interrupts), Is.EqualTo((1, 3, 2)));
    }

    [Test]
    public async Task DeviceInterrupt_WithEventIdxDisabled_NoneAcrossManyWraps()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8) { EventIndex = true });
        rig.Queue.DisableUsedNotifications();
        int polled = 0;
        for (int round = 0; round < 20_000; round++)
        {
            Submit(rig, 8);
            foreach (DeviceChain chain in rig.Device.TakeAvailable())
            {
                rig.Device.Complete(chain, 0);
            }

            polled += rig.Queue.ProcessUsed();
        }

        bool pendingOnEnable = rig.Queue.EnableUsedNotifications();
        Submit(rig, 1);
        rig.Device.Complete(rig.Device.TakeAvailable().Single(), 0);

        Assert.Multiple(() =>
        {
            Assert.That(polled, Is.EqualTo(160_000));
            Assert.That(pendingOnEnable, Is.False);
            Assert.That(rig.Device.Interrupts, Is.EqualTo(1), "only the chain returned after enabling interrupts");
        });
    }

    [Test]
    public async Task EnableUsedNotifications_WithEventIdx_ReportsChainsReturnedWhileDisabled()
    {
        await using var rig = new QueueRig(new SplitVirtqueueOptions(8) { EventIndex = true });
        rig.Queue.DisableUsedNotifications();
        Submit(rig, 1);
        rig.Device.Complete(rig.Device.TakeAvailable().Single(), 0);

        bool pending = rig.Queue.EnableUsedNotifications();
        int processed = rig.Queue.ProcessUsed();

        Assert.That((rig.Device.Interrupts, pending, processed), Is.EqualTo((0, true, 1)));
    }

    private static void Submit(QueueRig rig, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _ = rig.Queue.SubmitAsync([new byte[] { (byte)i }], []);
        }
    }
}
