using System.Text;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// Queues on every virtio device, on both transports: the described sizes, setup as the device
/// sees it, and round trips through the device's real queue hardware (echo firmware).
/// </summary>
[TestFixture(PlatformKind.Fake)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class QueueConformance(PlatformKind kind) : ConformanceFixture(kind)
{
    protected override bool EchoQueues => true;

    [Test]
    public async Task EveryDescribedQueue_OffersItsMaximumSize()
    {
        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);
            await transport.InitializeAsync(0);

            int[] sizes = [.. e.Virtio!.QueueMaxSizes.Select((_, i) => transport.SetupQueue((ushort)i, new VirtioQueueOptions { MaxSize = SplitVirtqueueOptions.MaxSize }).DeviceMaxSize)];

            Assert.That(sizes, Is.EqualTo(e.Virtio.QueueMaxSizes), e.ToString());
            Assert.That(() => transport.SetupQueue((ushort)sizes.Length), Throws.TypeOf<VirtioException>(), $"{e}: no queue past the last");
        }
    }

    [Test]
    public async Task NumQueues_IsTheDescribedCount()
    {
        foreach (ExpectedEndpoint e in VirtioPciEndpoints)
        {
            var transport = (VirtioPciTransport)Open(e);

            Assert.That(transport.QueueCount, Is.EqualTo(e.Virtio!.QueueMaxSizes.Count), e.ToString());
        }
    }

    [Test]
    public async Task QueueSetup_IsWhatTheCommonConfigurationHolds()
    {
        foreach (ExpectedEndpoint e in VirtioPciEndpoints)
        {
            var transport = (VirtioPciTransport)Open(e);
            await transport.InitializeAsync(0);
            VirtioQueue queue = transport.SetupQueue(1, new VirtioQueueOptions { MaxSize = 16 });
            ulong common = transport.Function.GetBarAddress(transport.CommonCapability.Bar, transport.CommonCapability.Offset);

            Platform.Write16(common + VirtioCommonCfg.QueueSelect.Offset, 1);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(Platform.Read16(common + VirtioCommonCfg.QueueSize.Offset), Is.EqualTo(16), e.ToString());
                Assert.That(Platform.Read16(common + VirtioCommonCfg.QueueEnable.Offset), Is.EqualTo(1), e.ToString());
                Assert.That(Platform.Read16(common + VirtioCommonCfg.QueueMsixVector.Offset), Is.EqualTo(queue.MsixEntry), e.ToString());
                Assert.That(Read64(common + VirtioCommonCfg.QueueDesc.Offset), Is.EqualTo(queue.Virtqueue.DescriptorTableAddress), e.ToString());
                Assert.That(Read64(common + VirtioCommonCfg.QueueDriver.Offset), Is.EqualTo(queue.Virtqueue.DriverAreaAddress), e.ToString());
                Assert.That(Read64(common + VirtioCommonCfg.QueueDevice.Offset), Is.EqualTo(queue.Virtqueue.DeviceAreaAddress), e.ToString());
            }
        }
    }

    [Test]
    public async Task NotifyAddresses_LieInsideTheNotificationStructure()
    {
        foreach (ExpectedEndpoint e in VirtioPciEndpoints)
        {
            var transport = (VirtioPciTransport)Open(e);
            await transport.InitializeAsync(0);
            ulong start = transport.Function.GetBarAddress(transport.NotifyCapability.Bar, transport.NotifyCapability.Offset);

            for (ushort q = 0; q < e.Virtio!.QueueMaxSizes.Count; q++)
            {
                VirtioQueue queue = transport.SetupQueue(q);
                Assert.That(queue.NotifyAddress - start, Is.LessThanOrEqualTo(transport.NotifyCapability.Length - sizeof(ushort)), $"{e} queue {q}");
                Assert.That((queue.NotifyAddress - start) % Math.Max(transport.NotifyOffMultiplier, 1), Is.Zero, $"{e} queue {q}");
            }
        }
    }

    [Test]
    public async Task MsixEntries_AreAcceptedByTheDevice_ForConfigurationAndEveryQueue()
    {
        foreach (ExpectedEndpoint e in VirtioPciEndpoints)
        {
            var transport = (VirtioPciTransport)Open(e);
            await transport.InitializeAsync(0);

            VirtioQueue[] queues = [.. e.Virtio!.QueueMaxSizes.Select((_, i) => transport.SetupQueue((ushort)i))];

            Assert.That(queues.Select(q => q.MsixEntry), Has.None.EqualTo(VirtioTransport.NoVector), e.ToString());
            Assert.That(transport.Msix!.Enabled, Is.True, e.ToString());
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task RoundTrip_OnEveryQueueOfEveryDevice_ComesBackThroughItsInterrupt(CancellationToken cancellationToken)
    {
        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);
            await transport.InitializeAsync(0, cancellationToken);
            VirtioQueue[] queues = [.. e.Virtio!.QueueMaxSizes.Select((_, i) => transport.SetupQueue((ushort)i))];
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task interrupts = transport.RunInterruptsAsync(stop.Token);
            transport.DriverOk();

            foreach (VirtioQueue queue in queues)
            {
                byte[] request = Encoding.ASCII.GetBytes($"{e} queue {queue.Index}");
                byte[] reply = new byte[request.Length];
                UsedBuffer used = await queue.SubmitAsync([request], [reply], cancellationToken);

                Assert.That(reply.Take(used.Length), Is.EqualTo(Fakes.EchoRing.Reply(request)), $"{e} queue {queue.Index}");
            }

            await stop.CancelAsync();
            Assert.That(async () => await interrupts, Throws.InstanceOf<OperationCanceledException>());
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task RoundTrips_ManyOutstanding_AllComeBackInFull(CancellationToken cancellationToken)
    {
        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);
            await transport.InitializeAsync(0, cancellationToken);
            VirtioQueue queue = transport.SetupQueue(0, new VirtioQueueOptions { MaxSize = 16 });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _ = transport.RunInterruptsAsync(stop.Token);
            transport.DriverOk();

            byte[][] replies = [.. Enumerable.Range(0, 64).Select(_ => new byte[64])];
            UsedBuffer[] used = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
                queue.SubmitAsync([Enumerable.Range(0, 64).Select(b => (byte)(b + i)).ToArray()], [replies[i]], cancellationToken).AsTask()));

            Assert.That(used.Select(u => u.Length), Has.All.EqualTo(64), e.ToString());
            Assert.That(replies.Select((r, i) => r[63] == (byte)i && r[0] == (byte)(63 + i)), Has.All.True, e.ToString());
            await stop.CancelAsync();
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task QueueReset_WhenOffered_FailsOutstandingAndTheQueueWorksAgain(CancellationToken cancellationToken)
    {
        ExpectedEndpoint[] resettable = [.. VirtioEndpoints.Where(e => VirtioFeatures.Has(e.Virtio!.DeviceFeatures, VirtioFeatures.RingReset))];
        if (resettable.Length == 0)
        {
            Assert.Ignore($"no device of the {Kind} platform offers VIRTIO_F_RING_RESET");
        }

        foreach (ExpectedEndpoint e in resettable)
        {
            VirtioTransport transport = Open(e);
            await transport.InitializeAsync(VirtioFeatures.Bit(VirtioFeatures.RingReset), cancellationToken);
            VirtioQueue queue = transport.SetupQueue(0);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _ = transport.RunInterruptsAsync(stop.Token);
            transport.DriverOk();

            await transport.ResetQueueAsync(queue, cancellationToken);
            byte[] reply = new byte[2];
            UsedBuffer used = await queue.SubmitAsync([new byte[] { 5, 6 }], [reply], cancellationToken);

            Assert.That(reply.Take(used.Length), Is.EqualTo(new byte[] { 6, 5 }), e.ToString());
            await stop.CancelAsync();
        }
    }

    private ulong Read64(ulong address) => Platform.Read32(address) | ((ulong)Platform.Read32(address + sizeof(uint)) << 32);
}
