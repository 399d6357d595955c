using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class MmioTests
{
    [Test]
    public async Task Registers_IdentifyAVersion2IsmDevice()
    {
        await using Rig rig = Rig.Create();
        ulong b = Mmio(rig).Base;

        Assert.Multiple(() =>
        {
            Assert.That(rig.Platform.Read32(b + VirtioMmio.MagicValue.Offset), Is.EqualTo(VirtioMmio.MagicValue.ResetValue));
            Assert.That(rig.Platform.Read32(b + VirtioMmio.Version.Offset), Is.EqualTo(2));
            Assert.That(rig.Platform.Read32(b + VirtioMmio.DeviceId.Offset), Is.EqualTo(44));
            Assert.That(rig.Platform.Read32(b + VirtioMmio.VendorId.Offset), Is.EqualTo(0x1af4));
        });
    }

    [Test]
    public async Task Platform_ListsTheRegisterWindow()
    {
        await using Rig rig = Rig.Create();

        Assert.That(rig.Platform.VirtioMmioDevices, Is.EqualTo(new[] { new MmioDeviceWindow(0xfe00_0000, VirtioMmioEndpointModel.WindowSize) }));
    }

    [TestCase(IsmShmId.Regions, 0UL, 32UL << 20)]
    [TestCase(IsmShmId.Notify, 32UL << 20, 1UL << 20)]
    public async Task ShmSel_OfARegion_ReadsItsLengthAndPhysicalBase(byte shmid, ulong offset, ulong length)
    {
        await using Rig rig = Rig.Create();
        VirtioMmioEndpointModel device = Mmio(rig);

        rig.Platform.Write32(device.Base + VirtioMmio.ShmSel.Offset, shmid);

        Assert.That(Read64(rig, device.Base + VirtioMmio.ShmLenLow.Offset, device.Base + VirtioMmio.ShmLenHigh.Offset), Is.EqualTo(length));
        Assert.That(Read64(rig, device.Base + VirtioMmio.ShmBaseLow.Offset, device.Base + VirtioMmio.ShmBaseHigh.Offset), Is.EqualTo(device.SharedMemoryBase + offset));
    }

    [TestCase(0u)]
    [TestCase(3u)]
    [TestCase(0x1_0000u)]
    public async Task ShmSel_OfAnUnusedShmid_ReadsAllOnesLengthAndBase(uint shmid)
    {
        await using Rig rig = Rig.Create();
        ulong b = Mmio(rig).Base;

        rig.Platform.Write32(b + VirtioMmio.ShmSel.Offset, shmid);

        Assert.That(Read64(rig, b + VirtioMmio.ShmLenLow.Offset, b + VirtioMmio.ShmLenHigh.Offset), Is.EqualTo(ulong.MaxValue));
        Assert.That(Read64(rig, b + VirtioMmio.ShmBaseLow.Offset, b + VirtioMmio.ShmBaseHigh.Offset), Is.EqualTo(ulong.MaxValue));
    }

    [Test]
    public async Task ChunkWindow_AtTheSharedMemoryBase_FollowsTheChunkTable()
    {
        await using Rig rig = Rig.Create();
        VirtioMmioEndpointModel device = Mmio(rig);
        new FirmwareCsr(device.Hal).CommitChunk(0, 0, ChunkAccess.ReadWrite);

        rig.Platform.Write32(device.SharedMemoryBase + 4, 0xabcd_0123);

        Assert.That(rig.Platform.Read32(device.SharedMemoryBase + 4), Is.EqualTo(0xabcd_0123u));
        Assert.That(rig.Platform.Read32(device.SharedMemoryBase + (128 * 1024)), Is.EqualTo(uint.MaxValue), "slot 1 is unmapped");
    }

    [Test]
    public async Task QueueNotify_PushesQueueNotify()
    {
        await using Rig rig = Rig.Create();
        VirtioMmioEndpointModel device = Mmio(rig);

        rig.Platform.Write32(device.Base + VirtioMmio.QueueNotify.Offset, 1);

        Assert.That(new FirmwareCsr(device.Hal).TryPeekEvent(out FirmwareEvent head), Is.True);
        Assert.That(head, Is.EqualTo(new FirmwareEvent(FwCsr.FwEventKind.QueueNotify, 1)));
    }

    [Test]
    public async Task QueueInterrupt_SetsInterruptStatusAndSendsOneMessage_AckClearsIt()
    {
        await using Rig rig = Rig.Create();
        VirtioMmioEndpointModel device = Mmio(rig);
        using MsiVector line = rig.Platform.ConnectMmioInterrupt(rig.Platform.VirtioMmioDevices[0]);

        new FirmwareCsr(device.Hal).SetQueueInterrupt();
        uint status = rig.Platform.Read32(device.Base + VirtioMmio.InterruptStatus.Offset);
        rig.Platform.Write32(device.Base + VirtioMmio.InterruptAck.Offset, status);

        Assert.That(status, Is.EqualTo(VirtioMmio.InterruptStatus.UsedBuffer.Mask));
        Assert.That(line.DeliveredCount, Is.EqualTo(1));
        Assert.That(rig.Platform.Read32(device.Base + VirtioMmio.InterruptStatus.Offset), Is.Zero);
        Assert.That(device.InterruptAsserted, Is.False);
    }

    [Test]
    public async Task ConfigChange_SetsItsCauseAndAdvancesConfigGeneration()
    {
        await using Rig rig = Rig.Create();
        VirtioMmioEndpointModel device = Mmio(rig);
        uint generation = rig.Platform.Read32(device.Base + VirtioMmio.ConfigGeneration.Offset);

        new FirmwareCsr(device.Hal).SetConfigChange();

        Assert.That(rig.Platform.Read32(device.Base + VirtioMmio.InterruptStatus.Offset), Is.EqualTo(VirtioMmio.InterruptStatus.ConfigChange.Mask));
        Assert.That(rig.Platform.Read32(device.Base + VirtioMmio.ConfigGeneration.Offset), Is.Not.EqualTo(generation));
        Assert.That(device.InterruptAsserted, Is.True);
    }

    [Test]
    public async Task FeaturesOk_WithoutVersion1_IsClearedHereToo()
    {
        await using Rig rig = Rig.Create();
        ulong b = Mmio(rig).Base;
        rig.Platform.Write32(b + VirtioMmio.DriverFeaturesSel.Offset, 0);
        rig.Platform.Write32(b + VirtioMmio.DriverFeatures.Offset, 1);

        rig.Platform.Write32(b + VirtioMmio.Status.Offset, (uint)VirtioMmio.VirtioMmioStatus.FeaturesOk);

        Assert.That(rig.Platform.Read32(b + VirtioMmio.Status.Offset) & (uint)VirtioMmio.VirtioMmioStatus.FeaturesOk, Is.Zero);
    }

    [Test]
    public async Task QueueSetup_ReachesFirmware_AndStatusZeroTakesItDown()
    {
        await using Rig rig = Rig.Create();
        VirtioMmioEndpointModel device = Mmio(rig);
        ulong b = device.Base;
        rig.Platform.Write32(b + VirtioMmio.QueueSel.Offset, 0);
        uint max = rig.Platform.Read32(b + VirtioMmio.QueueNumMax.Offset);
        rig.Platform.Write32(b + VirtioMmio.QueueNum.Offset, 64);
        rig.Platform.Write32(b + VirtioMmio.QueueDescLow.Offset, 0x2000);
        rig.Platform.Write32(b + VirtioMmio.QueueDescHigh.Offset, 0x1);
        rig.Platform.Write32(b + VirtioMmio.QueueReady.Offset, 1);
        var firmware = (VirtioFirmware)rig.Platform.Endpoints.Single(e => e.Hardware == device).Firmware!;
        firmware.ProcessPendingEvents();
        QueueSetup? setup = firmware.Queues[0];

        rig.Platform.Write32(b + VirtioMmio.Status.Offset, 0);

        Assert.That(max, Is.EqualTo(256));
        Assert.That(setup, Is.EqualTo(new QueueSetup(64, VirtioFirmware.NoVector, 0x1_0000_2000, 0, 0)));
        Assert.That(rig.Platform.Read32(b + VirtioMmio.QueueReady.Offset), Is.Zero);
    }

    [Test]
    public async Task DeviceConfig_FollowsTheRegisterFile()
    {
        await using Rig rig = Rig.Create();
        ulong config = Mmio(rig).Base + VirtioMmio.Size;

        Assert.That(rig.Platform.Read64(config + IsmConfig.ChunkSize.Offset), Is.EqualTo(128UL * 1024));
        Assert.That(rig.Platform.Read64(config + IsmConfig.Devid.Offset), Is.EqualTo(2UL), "the second ISM device of the platform");
    }

    private static VirtioMmioEndpointModel Mmio(Rig rig) =>
        rig.Platform.Endpoints.Select(e => e.Hardware).OfType<VirtioMmioEndpointModel>().Single();

    private static ulong Read64(Rig rig, ulong low, ulong high) =>
        rig.Platform.Read32(low) | ((ulong)rig.Platform.Read32(high) << 32);
}
