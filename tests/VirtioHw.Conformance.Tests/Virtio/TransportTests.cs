using System.Text;
using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Virtio;

namespace VirtioHw.Conformance.Tests.Virtio;

/// <summary>
/// The driver API both transports share, run once per transport against a fake device: device
/// status sequence, feature negotiation and its failures, device configuration, queues, round
/// trips, queue reset and shared memory.
/// </summary>
[TestFixture(TransportKind.Pci)]
[TestFixture(TransportKind.Mmio)]
[CancelAfter(30_000)]
public sealed class TransportTests(TransportKind kind)
{
    private static readonly ulong Version1 = VirtioFeatures.Bit(VirtioFeatures.Version1);
    private static readonly VirtioTransportOptions Impatient = new() { ResetTimeout = TimeSpan.FromMilliseconds(20) };

    private FakeRig Rig(FakeVirtioSpec? spec = null, VirtioTransportOptions? options = null) =>
        FakeRig.Create(kind, spec, options: options);

    [Test]
    public async Task Initialize_WritesResetAcknowledgeDriverFeaturesOk_InThatOrder()
    {
        await using FakeRig rig = Rig();

        await rig.Transport.InitializeAsync(1);
        rig.Transport.DriverOk();

        var ack = (byte)VirtioStatus.Acknowledge;
        var driver = (byte)(VirtioStatus.Acknowledge | VirtioStatus.Driver);
        var featuresOk = (byte)(driver | (byte)VirtioStatus.FeaturesOk);
        var driverOk = (byte)(featuresOk | (byte)VirtioStatus.DriverOk);
        Assert.That(rig.Device.StatusWrites, Is.EqualTo(new byte[] { 0, ack, driver, featuresOk, driverOk }));
    }

    [Test]
    public async Task Initialize_AcceptsVersion1AndTheRequestedBitsTheDeviceOffers_AndNothingElse()
    {
        await using FakeRig rig = Rig();

        ulong negotiated = await rig.Transport.InitializeAsync(0b10_0001);

        Assert.That(negotiated, Is.EqualTo(Version1 | 1));
        Assert.That(rig.Device.DriverFeatures, Is.EqualTo(negotiated), "the device holds what the driver wrote");
        Assert.That(rig.Transport.DeviceFeatures, Is.EqualTo(rig.Device.Spec.Features));
    }

    [Test]
    public async Task Initialize_NeverAcceptsReservedFeaturesTheTransportDoesNotImplement()
    {
        ulong unimplemented = VirtioFeatures.Bit(VirtioFeatures.RingPacked) | VirtioFeatures.Bit(VirtioFeatures.NotificationData)
            | VirtioFeatures.Bit(VirtioFeatures.InOrder) | VirtioFeatures.Bit(VirtioFeatures.SrIov);
        await using FakeRig rig = Rig(new FakeVirtioSpec { Features = Version1 | unimplemented });

        ulong negotiated = await rig.Transport.InitializeAsync(unimplemented);

        Assert.That(negotiated, Is.EqualTo(Version1));
    }

    [Test]
    public async Task Initialize_DeviceWithoutVersion1_IsMarkedFailed()
    {
        await using FakeRig rig = Rig(new FakeVirtioSpec { Features = 1 });

        VirtioException? error = Assert.ThrowsAsync<VirtioException>(async () => await rig.Transport.InitializeAsync(1));

        Assert.That(error!.Message, Does.Contain("VIRTIO_F_VERSION_1"));
        Assert.That(rig.Transport.ReadStatus() & VirtioStatus.Failed, Is.EqualTo(VirtioStatus.Failed));
        Assert.That(rig.Transport.ReadStatus() & VirtioStatus.FeaturesOk, Is.EqualTo(VirtioStatus.Reset), "FEATURES_OK was never set");
    }

    [Test]
    public async Task Initialize_DeviceThatClearsFeaturesOk_IsMarkedFailed_AndTheMessageNamesTheFeatures()
    {
        await using FakeRig rig = Rig();
        rig.Device.AcceptFeatures = _ => false;

        VirtioException? error = Assert.ThrowsAsync<VirtioException>(async () => await rig.Transport.InitializeAsync(1));

        Assert.That(error!.Message, Does.Contain("FEATURES_OK did not stay set").And.Contain("(bit0 VERSION_1)"));
        Assert.That(rig.Transport.ReadStatus() & VirtioStatus.Failed, Is.EqualTo(VirtioStatus.Failed));
        Assert.That(rig.Transport.NegotiatedFeatures, Is.Zero);
    }

    [Test]
    public async Task Reset_WaitsUntilTheStatusReadsZero()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        rig.Device.ResetReads = 3;

        await rig.Transport.ResetAsync();

        Assert.That(rig.Transport.ReadStatus(), Is.EqualTo(VirtioStatus.Reset));
        Assert.That(rig.Transport.NegotiatedFeatures, Is.Zero);
    }

    [Test]
    public async Task Reset_ThatNeverCompletes_FailsWithAClearMessage()
    {
        await using FakeRig rig = Rig(options: Impatient);
        rig.Device.ResetReads = -1;

        VirtioException? error = Assert.ThrowsAsync<VirtioException>(async () => await rig.Transport.ResetAsync());

        Assert.That(error!.Message, Does.StartWith(rig.Transport.Location).And.Contain("did not complete its reset"));
        rig.Device.ResetReads = 0;
        await rig.Transport.ResetAsync();
    }

    [Test]
    public async Task DriverOk_OnADeviceThatNeedsReset_Throws()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        rig.Device.Break();

        Assert.That(rig.Transport.NeedsReset, Is.True);
        Assert.That(rig.Transport.DriverOk, Throws.TypeOf<VirtioException>().With.Message.Contains("DEVICE_NEEDS_RESET"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task DeviceNeedsReset_SignalledByTheDevice_RaisesTheEvent(CancellationToken cancellationToken)
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var broken = new TaskCompletionSource();
        rig.Transport.DeviceNeedsReset += (_, _) => broken.TrySetResult();
        _ = rig.Transport.RunInterruptsAsync(stop.Token);
        rig.Transport.DriverOk();

        rig.Device.Break();

        await broken.Task.WaitAsync(stop.Token);
        Assert.That(rig.Transport.NeedsReset, Is.True);
        await rig.Transport.ResetAsync();
        Assert.That(rig.Transport.NeedsReset, Is.False);
        await stop.CancelAsync();
    }

    [Test]
    public async Task ReadDeviceConfig_RetriesUntilTheGenerationHoldsStill()
    {
        await using FakeRig rig = Rig();
        rig.Device.ConfigChurn = 3;
        byte[] config = new byte[rig.Device.DeviceConfig.Length];

        rig.Transport.ReadDeviceConfig(0, config);

        Assert.That(config, Is.EqualTo(rig.Device.DeviceConfig));
        Assert.That(rig.Device.ConfigChurn, Is.Zero, "the churning reads were repeated");
    }

    [Test]
    public async Task ReadDeviceConfig_GivesUpOnAGenerationThatNeverSettles()
    {
        await using FakeRig rig = Rig(options: new VirtioTransportOptions { ConfigRetries = 5 });
        rig.Device.ConfigChurn = int.MaxValue;

        Assert.That(() => rig.Transport.ReadDeviceConfig64(0),
            Throws.TypeOf<VirtioException>().With.Message.Contains("config_generation kept moving"));
    }

    [Test]
    public async Task ReadDeviceConfig64_CombinesTwoHalvesLittleEndian()
    {
        await using FakeRig rig = Rig();

        ulong value = rig.Transport.ReadDeviceConfig64(8);

        Assert.That(value, Is.EqualTo(BitConverter.ToUInt64(rig.Device.DeviceConfig, 8)));
    }

    [Test]
    public async Task SetupQueue_TakesTheSmallerOfDriverAndDeviceMaximum_AndProgramsTheRings()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);

        VirtioQueue big = rig.Transport.SetupQueue(0, new VirtioQueueOptions { MaxSize = 1024 });
        VirtioQueue small = rig.Transport.SetupQueue(1, new VirtioQueueOptions { MaxSize = 8 });

        Assert.Multiple(() =>
        {
            Assert.That(big.Size, Is.EqualTo(rig.Device.Spec.QueueMaxSizes[0]));
            Assert.That(small.Size, Is.EqualTo(8));
            Assert.That(rig.Device.Queues[1].Size, Is.EqualTo(8), "the chosen size reaches the device");
            Assert.That(rig.Device.Queues[0].Desc, Is.EqualTo(big.Virtqueue.DescriptorTableAddress));
            Assert.That(rig.Device.Queues[0].Driver, Is.EqualTo(big.Virtqueue.DriverAreaAddress));
            Assert.That(rig.Device.Queues[0].Device, Is.EqualTo(big.Virtqueue.DeviceAreaAddress));
            Assert.That(rig.Device.Queues[0].Enabled, Is.True);
            Assert.That(rig.Transport.Queues, Is.EqualTo(new[] { big, small }));
        });
    }

    [Test]
    public async Task SetupQueue_ThatTheDeviceLacks_SaysSo()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);

        Assert.That(() => rig.Transport.SetupQueue(5), Throws.TypeOf<VirtioException>().With.Message.Contains("has no queue 5"));
    }

    [Test]
    public async Task SetupQueue_BeforeFeatureNegotiation_IsRefused()
    {
        await using FakeRig rig = Rig();

        Assert.That(() => rig.Transport.SetupQueue(0), Throws.InvalidOperationException.With.Message.Contains("after feature negotiation"));
    }

    [Test]
    public async Task RoundTrip_GoesThroughTheDeviceAndCompletesOnItsInterrupt()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        VirtioQueue queue = rig.Transport.SetupQueue(0);
        using var stop = new CancellationTokenSource();
        Task interrupts = rig.Transport.RunInterruptsAsync(stop.Token);
        rig.Transport.DriverOk();

        byte[] reply = new byte[16];
        UsedBuffer used = await queue.SubmitAsync([Encoding.ASCII.GetBytes("virtio")], [reply], TestContext.CurrentContext.CancellationToken);

        Assert.That(Encoding.ASCII.GetString(reply, 0, used.Length), Is.EqualTo("oitriv"));
        Assert.That(rig.Device.Served, Is.EqualTo(1));
        await stop.CancelAsync();
        Assert.That(async () => await interrupts, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task RoundTrips_ManyInFlight_AllComplete()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        VirtioQueue queue = rig.Transport.SetupQueue(1);
        using var stop = new CancellationTokenSource();
        _ = rig.Transport.RunInterruptsAsync(stop.Token);
        rig.Transport.DriverOk();

        byte[][] replies = [.. Enumerable.Range(0, 100).Select(_ => new byte[4])];
        UsedBuffer[] used = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            queue.SubmitAsync([BitConverter.GetBytes(i)], [replies[i]], TestContext.CurrentContext.CancellationToken).AsTask()));

        Assert.That(used.Select(u => u.Length), Has.All.EqualTo(4));
        Assert.That(replies.Select((r, i) => BitConverter.ToInt32([.. r.Reverse()])), Is.EqualTo(Enumerable.Range(0, 100)));
        await stop.CancelAsync();
    }

    [Test]
    public async Task ResetQueue_FailsOutstandingSubmissions_AndTheQueueWorksAgain()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(VirtioFeatures.Bit(VirtioFeatures.RingReset));
        VirtioQueue queue = rig.Transport.SetupQueue(0);
        using var stop = new CancellationTokenSource();
        _ = rig.Transport.RunInterruptsAsync(stop.Token);
        rig.Transport.DriverOk();
        rig.Device.Paused = true;
        ValueTask<UsedBuffer> stranded = queue.SubmitAsync([new byte[] { 1 }], [new byte[1]]);

        await rig.Transport.ResetQueueAsync(queue);

        Assert.That(async () => await stranded, Throws.TypeOf<VirtqueueResetException>());
        Assert.That(rig.Device.Queues[0].Enabled, Is.True, "enabled again");
        Assert.That(rig.Device.Queues[0].Desc, Is.EqualTo(queue.Virtqueue.DescriptorTableAddress));
        rig.Device.Paused = false;
        byte[] reply = new byte[2];
        UsedBuffer used = await queue.SubmitAsync([new byte[] { 1, 2 }], [reply], TestContext.CurrentContext.CancellationToken);
        Assert.That(reply.Take(used.Length), Is.EqualTo(new byte[] { 2, 1 }));
        await stop.CancelAsync();
    }

    [Test]
    public async Task ResetQueue_WithoutRingResetNegotiated_IsRefused()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        VirtioQueue queue = rig.Transport.SetupQueue(0);

        Assert.That(async () => await rig.Transport.ResetQueueAsync(queue),
            Throws.InvalidOperationException.With.Message.Contains("VIRTIO_F_RING_RESET"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task ConfigurationChange_RaisesTheEvent(CancellationToken cancellationToken)
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var changed = new TaskCompletionSource();
        rig.Transport.ConfigurationChanged += (_, _) => changed.TrySetResult();
        _ = rig.Transport.RunInterruptsAsync(stop.Token);
        rig.Transport.DriverOk();

        rig.Device.ChangeConfig(0, 0x5a);

        await changed.Task.WaitAsync(stop.Token);
        Assert.That(rig.Transport.ReadDeviceConfig8(0), Is.EqualTo(0x5a));
        await stop.CancelAsync();
    }

    [Test]
    public async Task SharedMemory_RegionsAreFoundByShmid_WithTheirLengths()
    {
        await using FakeRig rig = Rig();

        IReadOnlyList<VirtioSharedMemoryRegion> regions = rig.Transport.GetSharedMemoryRegions();

        Assert.That(regions.Select(r => (r.Id, r.Length)), Is.EqualTo(rig.Device.Spec.SharedMemory.Select(s => (s.Id, s.Length))));
        ulong first = regions[0].PhysicalAddress;
        Assert.That(regions.Select(r => r.PhysicalAddress - first), Is.EqualTo(rig.Device.Spec.SharedMemory.Select(s => s.Offset - rig.Device.Spec.SharedMemory[0].Offset)));
    }

    [Test]
    public async Task SharedMemory_AbsentShmid_IsNotFound()
    {
        await using FakeRig rig = Rig();

        Assert.That(rig.Transport.TryGetSharedMemoryRegion(9, out VirtioSharedMemoryRegion? region), Is.False);
        Assert.That(region, Is.Null);
        Assert.That(() => rig.Transport.GetSharedMemoryRegion(9), Throws.TypeOf<VirtioException>().With.Message.Contains("no shared memory region with shmid 9"));
    }

    [Test]
    public async Task SharedMemory_WritesAreSeenThroughTheSameRegion()
    {
        await using FakeRig rig = Rig();
        VirtioSharedMemoryRegion region = rig.Transport.GetSharedMemoryRegion(1);

        region.Write(0x100, "shared"u8);
        region.Write64(0x200, 0x0123_4567_89ab_cdef);

        byte[] back = new byte[6];
        region.Read(0x100, back);
        Assert.That(back, Is.EqualTo("shared"u8.ToArray()));
        Assert.That(region.Read32(0x204), Is.EqualTo(0x0123_4567));
    }

    [Test]
    public async Task SharedMemory_AccessPastTheRegion_IsRefused()
    {
        await using FakeRig rig = Rig();
        VirtioSharedMemoryRegion region = rig.Transport.GetSharedMemoryRegion(2);

        Assert.That(() => region.Read32(region.Length - 2), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("shared memory region 2"));
    }
}
