using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;

namespace VirtioHw.Conformance.Tests.Virtio;

/// <summary>What only virtio-mmio has: identification checks, InterruptStatus/ACK, SHMSel.</summary>
[CancelAfter(30_000)]
public sealed class MmioTransportTests
{
    private static (FakePciPlatform Platform, FakeVirtioMmioDevice Device) Rig()
    {
        var platform = new FakePciPlatform();
        FakeVirtioMmioDevice device = platform.AddMmio(new FakeVirtioMmioDevice(platform, FakeRig.MmioBase, new FakeVirtioSpec(), FakeRig.MmioSharedMemoryBase));
        platform.AddMmio(new FakeRam(FakeRig.MmioSharedMemoryBase, FakeVirtioPciFunction.SharedMemorySize), virtio: false);
        return (platform, device);
    }

    [Test]
    public async Task Open_WrongMagic_FailsSayingWhatItRead()
    {
        (FakePciPlatform platform, FakeVirtioMmioDevice device) = Rig();
        await using FakePciPlatform owner = platform;
        device.Magic = 0x1234_5678;

        Assert.That(() => VirtioMmioTransport.Open(platform, platform.VirtioMmioDevices[0]), Throws.TypeOf<VirtioException>()
            .With.Message.EqualTo("virtio-mmio@0xd0000000: the magic value reads 0x12345678, not 0x74726976 ('virt')"));
    }

    [Test]
    public async Task Open_LegacyVersion1Device_IsRefused()
    {
        (FakePciPlatform platform, FakeVirtioMmioDevice device) = Rig();
        await using FakePciPlatform owner = platform;
        device.Version = 1;

        Assert.That(() => VirtioMmioTransport.Open(platform, platform.VirtioMmioDevices[0]), Throws.TypeOf<VirtioException>()
            .With.Message.EqualTo("virtio-mmio@0xd0000000: the device is virtio-mmio version 1; only version 2 (virtio 1.x) is supported"));
    }

    [Test]
    public async Task Identify_DeviceId0_IsAnEmptySlot_AndNoOtherRegisterIsRead()
    {
        (FakePciPlatform platform, FakeVirtioMmioDevice device) = Rig();
        await using FakePciPlatform owner = platform;
        device.DeviceId = 0;

        VirtioMmioProbe probe = VirtioMmioTransport.Identify(platform, FakeRig.MmioBase);

        Assert.That(probe.IsVirtio, Is.True);
        Assert.That(probe.IsPresent, Is.False);
        Assert.That(probe.Problem, Does.Contain("DeviceID reads 0"));
        Assert.That(device.ReadsAfterEmptyDeviceId, Is.Empty);
        Assert.That(() => VirtioMmioTransport.Open(platform, platform.VirtioMmioDevices[0]), Throws.TypeOf<VirtioException>());
    }

    [Test]
    public async Task Identify_ReadsDeviceAndVendor()
    {
        (FakePciPlatform platform, FakeVirtioMmioDevice device) = Rig();
        await using FakePciPlatform owner = platform;

        VirtioMmioProbe probe = VirtioMmioTransport.Identify(platform, FakeRig.MmioBase);

        Assert.That(probe.IsPresent, Is.True);
        Assert.That(probe.DeviceId, Is.EqualTo(device.DeviceId));
        Assert.That(probe.VendorId, Is.Not.Zero);
    }

    [Test]
    public async Task Interrupts_AreAcknowledgedThroughInterruptAck()
    {
        await using FakeRig rig = FakeRig.Create(TransportKind.Mmio);
        var transport = (VirtioMmioTransport)rig.Transport;
        await transport.InitializeAsync(1);
        VirtioQueue queue = transport.SetupQueue(0);
        using var stop = new CancellationTokenSource();
        _ = transport.RunInterruptsAsync(stop.Token);
        transport.DriverOk();

        await queue.SubmitAsync([new byte[] { 1 }], [new byte[1]], TestContext.CurrentContext.CancellationToken);
        await stop.CancelAsync();

        Assert.That(transport.ReadInterruptStatus(), Is.Zero);
    }

    [Test]
    public async Task WithoutAnInterruptLine_TheTransportPolls()
    {
        (FakePciPlatform platform, _) = Rig();
        await using FakePciPlatform owner = platform;
        await using var transport = VirtioMmioTransport.Open(platform, platform.VirtioMmioDevices[0]);
        await transport.InitializeAsync(1);
        VirtioQueue queue = transport.SetupQueue(0);
        using var stop = new CancellationTokenSource();
        _ = transport.RunInterruptsAsync(stop.Token);
        transport.DriverOk();

        byte[] reply = new byte[2];
        await queue.SubmitAsync([new byte[] { 3, 4 }], [reply], TestContext.CurrentContext.CancellationToken);

        Assert.That(reply, Is.EqualTo(new byte[] { 4, 3 }));
        await stop.CancelAsync();
    }

    [Test]
    public async Task SharedMemory_RegionSitsWhereShmBaseSays()
    {
        await using FakeRig rig = FakeRig.Create(TransportKind.Mmio);

        VirtioSharedMemoryRegion region = rig.Transport.GetSharedMemoryRegion(2);

        (_, ulong offset, ulong length) = rig.Device.Spec.SharedMemory.Single(s => s.Id == 2);
        Assert.That(region.PhysicalAddress, Is.EqualTo(FakeRig.MmioSharedMemoryBase + offset));
        Assert.That(region.Length, Is.EqualTo(length));
        Assert.That(region.Bar, Is.Null);
    }

    [Test]
    public async Task DeviceType_ComesFromDeviceId()
    {
        await using FakeRig rig = FakeRig.Create(TransportKind.Mmio);

        Assert.That(rig.Transport.DeviceType, Is.EqualTo((int)rig.Mmio!.DeviceId));
        Assert.That(rig.Transport.Location, Is.EqualTo("virtio-mmio@0xd0000000"));
    }
}
