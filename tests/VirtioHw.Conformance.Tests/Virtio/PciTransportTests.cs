using System.Text;
using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Conformance.Tests.Virtio;

/// <summary>What only virtio-pci has: capabilities, notify addresses, MSI-X entries, the PCI cfg window.</summary>
[CancelAfter(30_000)]
public sealed class PciTransportTests
{
    private static FakeRig Rig(FakeVirtioSpec? spec = null, int msixVectors = 4, Action<FakePciPlatform, FakeVirtioPciFunction?>? configure = null) =>
        FakeRig.Create(TransportKind.Pci, spec, msixVectors, configure: configure);

    [Test]
    public async Task NotifyAddress_IsTheNotifyOffsetPlusQueueNotifyOffTimesTheMultiplier()
    {
        await using FakeRig rig = Rig();
        var transport = (VirtioPciTransport)rig.Transport;
        await transport.InitializeAsync(1);

        VirtioQueue queue = transport.SetupQueue(1);

        ulong bar0 = transport.Function.GetBar(0)!.Address;
        Assert.That(transport.NotifyOffMultiplier, Is.EqualTo(FakeVirtioPciFunction.NotifyMultiplier));
        Assert.That(queue.NotifyAddress, Is.EqualTo(bar0 + FakeVirtioPciFunction.NotifyOffset + (1 * FakeVirtioPciFunction.NotifyMultiplier)));
        Assert.That(transport.GetNotifyAddress(1), Is.EqualTo(queue.NotifyAddress));
    }

    [Test]
    public async Task Notify_WritesTheQueueIndexAtItsNotifyAddress()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        VirtioQueue queue = rig.Transport.SetupQueue(1);
        rig.Device.Paused = true;
        rig.Transport.DriverOk();

        _ = queue.SubmitAsync([new byte[] { 1 }], [new byte[1]]);

        Assert.That(rig.Pci!.Notifications, Is.EqualTo(new[] { (1UL * FakeVirtioPciFunction.NotifyMultiplier, 1UL) }));
    }

    [Test]
    public async Task Queues_GetAnMsixEntryEach_AfterTheConfigurationEntry()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);

        VirtioQueue first = rig.Transport.SetupQueue(0);
        VirtioQueue second = rig.Transport.SetupQueue(1);

        Assert.That((first.MsixEntry, second.MsixEntry), Is.EqualTo(((ushort)1, (ushort)2)));
        Assert.That((rig.Device.Queues[0].Vector, rig.Device.Queues[1].Vector), Is.EqualTo(((ushort)1, (ushort)2)));
        Assert.That(first.Vector, Is.Not.SameAs(second.Vector));
        PciMsix msix = ((VirtioPciTransport)rig.Transport).Msix!;
        Assert.That(msix.ReadEntry(2), Is.EqualTo((second.Vector!.Address, second.Vector.Data)));
        Assert.That(msix.IsMasked(2), Is.False);
        Assert.That(msix.IsMasked(3), Is.True, "an unused entry stays masked");
    }

    [Test]
    public async Task Queues_ShareEntries_WhenTheTableIsSmall_AndStillComplete()
    {
        await using FakeRig rig = Rig(new FakeVirtioSpec { QueueMaxSizes = [16, 16, 16] }, msixVectors: 2);
        await rig.Transport.InitializeAsync(1);
        VirtioQueue[] queues = [rig.Transport.SetupQueue(0), rig.Transport.SetupQueue(1), rig.Transport.SetupQueue(2)];
        using var stop = new CancellationTokenSource();
        _ = rig.Transport.RunInterruptsAsync(stop.Token);
        rig.Transport.DriverOk();

        UsedBuffer[] used = await Task.WhenAll(queues.Select(q => q.SubmitAsync([new byte[] { 7, 8 }], [new byte[2]], TestContext.CurrentContext.CancellationToken).AsTask()));

        Assert.That(queues.Select(q => q.MsixEntry), Has.All.EqualTo((ushort)1));
        Assert.That(used.Select(u => u.Length), Has.All.EqualTo(2));
        await stop.CancelAsync();
    }

    [Test]
    public async Task SetupQueue_MsixEntryTheDeviceRefuses_FailsAndNamesTheQueue()
    {
        await using FakeRig rig = Rig();
        await rig.Transport.InitializeAsync(1);
        rig.Device.RefuseVectors = true;

        Assert.That(() => rig.Transport.SetupQueue(1),
            Throws.TypeOf<VirtioException>().With.Message.EqualTo("00:01.0 refused MSI-X entry 2 for queue 1 (queue_msix_vector reads 0xffff)"));
        Assert.That(rig.Transport.Queues, Is.Empty);
    }

    [Test]
    public async Task Initialize_ConfigurationEntryTheDeviceRefuses_Fails()
    {
        await using FakeRig rig = Rig();
        rig.Device.RefuseVectors = true;

        Assert.That(async () => await rig.Transport.InitializeAsync(1),
            Throws.TypeOf<VirtioException>().With.Message.Contains("refused MSI-X entry 0 for configuration changes"));
    }

    [Test]
    public async Task WithoutMsix_QueuesHaveNoVector_AndCompleteByPollingTheIsr()
    {
        await using FakeRig rig = Rig(msixVectors: 0);
        await rig.Transport.InitializeAsync(1);
        VirtioQueue queue = rig.Transport.SetupQueue(0);
        using var stop = new CancellationTokenSource();
        _ = rig.Transport.RunInterruptsAsync(stop.Token);
        rig.Transport.DriverOk();

        byte[] reply = new byte[3];
        UsedBuffer used = await queue.SubmitAsync([Encoding.ASCII.GetBytes("abc")], [reply], TestContext.CurrentContext.CancellationToken);

        Assert.That(queue.MsixEntry, Is.EqualTo(VirtioTransport.NoVector));
        Assert.That(Encoding.ASCII.GetString(reply, 0, used.Length), Is.EqualTo("cba"));
        await stop.CancelAsync();
    }

    [Test]
    public async Task Isr_ReadingClearsIt()
    {
        await using FakeRig rig = Rig(msixVectors: 0);
        var transport = (VirtioPciTransport)rig.Transport;
        await transport.InitializeAsync(1);
        transport.DriverOk();

        rig.Device.ChangeConfig(1, 1);

        Assert.That(transport.ReadIsr(), Is.EqualTo((byte)VirtioIsr.Isr.ConfigInterrupt.Mask));
        Assert.That(transport.ReadIsr(), Is.Zero);
    }

    [Test]
    public async Task PciCfgWindow_ReadsWhatTheBarHolds()
    {
        await using FakeRig rig = Rig();
        var transport = (VirtioPciTransport)rig.Transport;

        uint queues = transport.PciCfgWindow!.Read(0, (uint)FakeVirtioPciFunction.CommonOffset + VirtioCommonCfg.NumQueues.Offset, 2);

        Assert.That(queues, Is.EqualTo((uint)transport.QueueCount));
    }

    [Test]
    public async Task PciCfgWindow_WritesReachTheBar()
    {
        await using FakeRig rig = Rig();
        var transport = (VirtioPciTransport)rig.Transport;
        VirtioSharedMemoryRegion region = transport.GetSharedMemoryRegion(1);

        transport.PciCfgWindow!.Write(region.Bar!.Value, (uint)region.BarOffset + 8, 4, 0xfeed_f00d);

        Assert.That(region.Read32(8), Is.EqualTo(0xfeed_f00d));
    }

    [Test]
    public async Task SharedMemory_RegionSitsAtItsBarPlusOffset()
    {
        await using FakeRig rig = Rig();
        var transport = (VirtioPciTransport)rig.Transport;

        VirtioSharedMemoryRegion region = transport.GetSharedMemoryRegion(2);

        (byte id, ulong offset, ulong length) = rig.Device.Spec.SharedMemory.Single(s => s.Id == 2);
        Assert.That(region.Bar, Is.EqualTo(2));
        Assert.That(region.BarOffset, Is.EqualTo(offset));
        Assert.That(region.PhysicalAddress, Is.EqualTo(transport.Function.GetBar(2)!.Address + offset));
        Assert.That(region.Length, Is.EqualTo(length));
        Assert.That(id, Is.EqualTo(region.Id));
    }

    [TestCase((byte)6, 0x0UL, 0x1000UL, "names BAR 6, a reserved value")]
    [TestCase((byte)3, 0x0UL, 0x1000UL, "BAR 3, which is not implemented")]
    [TestCase((byte)2, 0xffff_ffff_ffff_f000UL, 0x2000UL, "overflows")]
    [TestCase((byte)2, 0xf_f000UL, 0x2000UL, "runs past the end of BAR 2")]
    public async Task SharedMemory_RegionFailingLinuxChecks_IsLeftOut(byte bar, ulong offset, ulong length, string why)
    {
        await using FakeRig rig = Rig(configure: (_, f) => f!.AddSharedMemoryCapability(bar, 5, offset, length));
        var transport = (VirtioPciTransport)rig.Transport;

        Assert.That(transport.TryGetSharedMemoryRegion(5, out _), Is.False);
        Assert.That(transport.Diagnostics, Has.One.Contains(why));
        Assert.That(transport.GetSharedMemoryRegions().Select(r => r.Id), Is.EqualTo(new byte[] { 1, 2 }), "the valid regions are still there");
    }

    [Test]
    public async Task SharedMemory_RepeatedShmid_KeepsTheFirst()
    {
        await using FakeRig rig = Rig(configure: (_, f) => f!.AddSharedMemoryCapability(2, 1, 0x8_0000, 0x1000));
        var transport = (VirtioPciTransport)rig.Transport;

        Assert.That(transport.GetSharedMemoryRegion(1).BarOffset, Is.EqualTo(rig.Device.Spec.SharedMemory[0].Offset));
        Assert.That(transport.Diagnostics, Has.One.Contains("repeats shmid 1"));
    }

    [Test]
    public async Task Open_OnAFunctionThatIsNotVirtio_Fails()
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeFunction(new PciAddress(0, 2, 0), VirtioPciIds.VendorId, VirtioPciIds.IvshmemDeviceId));
        PciFunction function = PciBus.Scan(platform).Single();

        Assert.That(() => VirtioPciTransport.Open(function),
            Throws.TypeOf<VirtioException>().With.Message.EqualTo("00:02.0 (1af4:1110) is not a virtio device"));
    }

    [Test]
    public async Task Open_WithDecodingOff_Fails()
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeVirtioPciFunction(platform, FakeRig.PciAddress, new FakeVirtioSpec()));
        PciFunction function = PciBus.Scan(platform, new PciScanOptions { AssignResources = false }).Single();

        Assert.That(() => VirtioPciTransport.Open(function), Throws.TypeOf<VirtioException>().With.Message.Contains("memory decoding off"));
    }

    [Test]
    public async Task Open_CommonConfigurationOutsideItsBar_FailsNamingTheStructure()
    {
        await using var platform = new FakePciPlatform();
        FakeVirtioPciFunction fake = platform.Add(new FakeVirtioPciFunction(platform, FakeRig.PciAddress, new FakeVirtioSpec()));
        int common = PciCapabilityWalker.Walk(platform, FakeRig.PciAddress, true).Capabilities
            .OfType<VirtioPciCapabilityInfo>().First(c => c.CfgType == VirtioPciCfgType.CommonCfg).Position;
        fake.Set32((uint)common + VirtioPciCap.OffsetRegister.Offset, 0x3ff0);
        PciFunction function = PciBus.Scan(platform).Single();

        Assert.That(() => VirtioPciTransport.Open(function), Throws.TypeOf<VirtioException>()
            .With.Message.StartsWith("00:01.0 has no usable virtio common configuration structure").And.Message.Contains("runs past the end of BAR 0"));
    }

    [Test]
    public async Task DeviceType_ComesFromThePciDeviceId()
    {
        await using FakeRig rig = Rig(new FakeVirtioSpec { DeviceType = 36 });

        Assert.That(rig.Transport.DeviceType, Is.EqualTo(36));
        Assert.That(rig.Transport.DeviceConfigLength, Is.EqualTo(rig.Device.Spec.DeviceConfigLength));
    }

    [Test]
    public async Task DeviceConfigAccess_PastItsLength_IsRefused()
    {
        await using FakeRig rig = Rig();

        Assert.That(() => rig.Transport.ReadDeviceConfig32(rig.Device.Spec.DeviceConfigLength),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("run past the 16-byte device configuration"));
    }
}
