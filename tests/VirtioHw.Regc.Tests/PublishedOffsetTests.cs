using VirtioHw.Registers;

namespace VirtioHw.Regc.Tests;

/// <summary>
/// The generated offsets against the published register maps: the virtio 1.x specification's
/// virtio_pci_common_cfg and virtio-mmio layouts, the seed's SHM registers, and QEMU's ivshmem.
/// These numbers are the specification speaking, so this is the one place they are written out.
/// </summary>
public sealed class PublishedOffsetTests
{
    public static IEnumerable<TestCaseData> CommonCfg()
    {
        yield return Case(VirtioCommonCfg.DeviceFeatureSelect.Offset, VirtioCommonCfg.DeviceFeatureSelect.Width, 0, 32, "device_feature_select");
        yield return Case(VirtioCommonCfg.DeviceFeature.Offset, VirtioCommonCfg.DeviceFeature.Width, 4, 32, "device_feature");
        yield return Case(VirtioCommonCfg.DriverFeatureSelect.Offset, VirtioCommonCfg.DriverFeatureSelect.Width, 8, 32, "driver_feature_select");
        yield return Case(VirtioCommonCfg.DriverFeature.Offset, VirtioCommonCfg.DriverFeature.Width, 12, 32, "driver_feature");
        yield return Case(VirtioCommonCfg.ConfigMsixVector.Offset, VirtioCommonCfg.ConfigMsixVector.Width, 16, 16, "config_msix_vector");
        yield return Case(VirtioCommonCfg.NumQueues.Offset, VirtioCommonCfg.NumQueues.Width, 18, 16, "num_queues");
        yield return Case(VirtioCommonCfg.DeviceStatus.Offset, VirtioCommonCfg.DeviceStatus.Width, 20, 8, "device_status");
        yield return Case(VirtioCommonCfg.ConfigGeneration.Offset, VirtioCommonCfg.ConfigGeneration.Width, 21, 8, "config_generation");
        yield return Case(VirtioCommonCfg.QueueSelect.Offset, VirtioCommonCfg.QueueSelect.Width, 22, 16, "queue_select");
        yield return Case(VirtioCommonCfg.QueueSize.Offset, VirtioCommonCfg.QueueSize.Width, 24, 16, "queue_size");
        yield return Case(VirtioCommonCfg.QueueMsixVector.Offset, VirtioCommonCfg.QueueMsixVector.Width, 26, 16, "queue_msix_vector");
        yield return Case(VirtioCommonCfg.QueueEnable.Offset, VirtioCommonCfg.QueueEnable.Width, 28, 16, "queue_enable");
        yield return Case(VirtioCommonCfg.QueueNotifyOff.Offset, VirtioCommonCfg.QueueNotifyOff.Width, 30, 16, "queue_notify_off");
        yield return Case(VirtioCommonCfg.QueueDesc.Offset, VirtioCommonCfg.QueueDesc.Width, 32, 64, "queue_desc");
        yield return Case(VirtioCommonCfg.QueueDriver.Offset, VirtioCommonCfg.QueueDriver.Width, 40, 64, "queue_driver");
        yield return Case(VirtioCommonCfg.QueueDevice.Offset, VirtioCommonCfg.QueueDevice.Width, 48, 64, "queue_device");
        yield return Case(VirtioCommonCfg.QueueNotifyData.Offset, VirtioCommonCfg.QueueNotifyData.Width, 56, 16, "queue_notify_data");
        yield return Case(VirtioCommonCfg.QueueReset.Offset, VirtioCommonCfg.QueueReset.Width, 58, 16, "queue_reset");
    }

    public static IEnumerable<TestCaseData> Mmio()
    {
        yield return Case(VirtioMmio.MagicValue.Offset, 32, 0x000, 32, "MagicValue");
        yield return Case(VirtioMmio.Version.Offset, 32, 0x004, 32, "Version");
        yield return Case(VirtioMmio.DeviceId.Offset, 32, 0x008, 32, "DeviceID");
        yield return Case(VirtioMmio.VendorId.Offset, 32, 0x00c, 32, "VendorID");
        yield return Case(VirtioMmio.DeviceFeatures.Offset, 32, 0x010, 32, "DeviceFeatures");
        yield return Case(VirtioMmio.DeviceFeaturesSel.Offset, 32, 0x014, 32, "DeviceFeaturesSel");
        yield return Case(VirtioMmio.DriverFeatures.Offset, 32, 0x020, 32, "DriverFeatures");
        yield return Case(VirtioMmio.DriverFeaturesSel.Offset, 32, 0x024, 32, "DriverFeaturesSel");
        yield return Case(VirtioMmio.QueueSel.Offset, 32, 0x030, 32, "QueueSel");
        yield return Case(VirtioMmio.QueueNumMax.Offset, 32, 0x034, 32, "QueueNumMax");
        yield return Case(VirtioMmio.QueueNum.Offset, 32, 0x038, 32, "QueueNum");
        yield return Case(VirtioMmio.QueueReady.Offset, 32, 0x044, 32, "QueueReady");
        yield return Case(VirtioMmio.QueueNotify.Offset, 32, 0x050, 32, "QueueNotify");
        yield return Case(VirtioMmio.InterruptStatus.Offset, 32, 0x060, 32, "InterruptStatus");
        yield return Case(VirtioMmio.InterruptAck.Offset, 32, 0x064, 32, "InterruptACK");
        yield return Case(VirtioMmio.Status.Offset, 32, 0x070, 32, "Status");
        yield return Case(VirtioMmio.QueueDescLow.Offset, 32, 0x080, 32, "QueueDescLow");
        yield return Case(VirtioMmio.QueueDescHigh.Offset, 32, 0x084, 32, "QueueDescHigh");
        yield return Case(VirtioMmio.QueueDriverLow.Offset, 32, 0x090, 32, "QueueDriverLow");
        yield return Case(VirtioMmio.QueueDriverHigh.Offset, 32, 0x094, 32, "QueueDriverHigh");
        yield return Case(VirtioMmio.QueueDeviceLow.Offset, 32, 0x0a0, 32, "QueueDeviceLow");
        yield return Case(VirtioMmio.QueueDeviceHigh.Offset, 32, 0x0a4, 32, "QueueDeviceHigh");
        yield return Case(VirtioMmio.ShmSel.Offset, 32, 0x0ac, 32, "SHMSel");
        yield return Case(VirtioMmio.ShmLenLow.Offset, 32, 0x0b0, 32, "SHMLenLow");
        yield return Case(VirtioMmio.ShmLenHigh.Offset, 32, 0x0b4, 32, "SHMLenHigh");
        yield return Case(VirtioMmio.ShmBaseLow.Offset, 32, 0x0b8, 32, "SHMBaseLow");
        yield return Case(VirtioMmio.ShmBaseHigh.Offset, 32, 0x0bc, 32, "SHMBaseHigh");
        yield return Case(VirtioMmio.QueueReset.Offset, 32, 0x0c0, 32, "QueueReset");
        yield return Case(VirtioMmio.ConfigGeneration.Offset, 32, 0x0fc, 32, "ConfigGeneration");
    }

    public static IEnumerable<TestCaseData> Ivshmem()
    {
        yield return Case(Registers.Ivshmem.IntrMask.Offset, Registers.Ivshmem.IntrMask.Width, 0, 32, "IntrMask");
        yield return Case(Registers.Ivshmem.IntrStatus.Offset, Registers.Ivshmem.IntrStatus.Width, 4, 32, "IntrStatus");
        yield return Case(Registers.Ivshmem.IvPosition.Offset, Registers.Ivshmem.IvPosition.Width, 8, 32, "IVPosition");
        yield return Case(Registers.Ivshmem.Doorbell.Offset, Registers.Ivshmem.Doorbell.Width, 12, 32, "Doorbell");
    }

    public static IEnumerable<TestCaseData> IsmConfig()
    {
        // struct virtio_ism_config { le128 cdid; le64 devid; le64 chunk_size; le64 notify_size; }
        yield return Case(Registers.IsmConfig.CdidLo.Offset, 64, 0, 64, "cdid (low)");
        yield return Case(Registers.IsmConfig.CdidHi.Offset, 64, 8, 64, "cdid (high)");
        yield return Case(Registers.IsmConfig.Devid.Offset, 64, 16, 64, "devid");
        yield return Case(Registers.IsmConfig.ChunkSize.Offset, 64, 24, 64, "chunk_size");
        yield return Case(Registers.IsmConfig.NotifySize.Offset, 64, 32, 64, "notify_size");
    }

    private static TestCaseData Case(uint offset, int width, uint published, int publishedWidth, string name) =>
        new TestCaseData(offset, width, published, publishedWidth).SetName($"{{m}}_{name}");

    [TestCaseSource(nameof(CommonCfg))]
    [TestCaseSource(nameof(Mmio))]
    [TestCaseSource(nameof(Ivshmem))]
    [TestCaseSource(nameof(IsmConfig))]
    public void Offset_EqualsPublishedLayout(uint offset, int width, uint published, int publishedWidth) =>
        Assert.That((offset, width), Is.EqualTo((published, publishedWidth)));

    [Test]
    public void CommonCfg_SpansTheFullPublishedStructure() => Assert.That(VirtioCommonCfg.Size, Is.EqualTo(60u));

    [Test]
    public void Mmio_IdentityRegisters_HoldPublishedValues()
    {
        var m = new VirtioMmioModel();
        Assert.Multiple(() =>
        {
            Assert.That(m.Read(VirtioMmio.MagicValue.Offset), Is.EqualTo(0x74726976u), "'virt'");
            Assert.That(m.Read(VirtioMmio.Version.Offset), Is.EqualTo(2u));
        });
    }

    [Test]
    public void DeviceStatusBits_HavePublishedValues()
    {
        Assert.That(new[]
        {
            (ulong)VirtioCommonCfg.VirtioDeviceStatus.Acknowledge, (ulong)VirtioCommonCfg.VirtioDeviceStatus.Driver,
            (ulong)VirtioCommonCfg.VirtioDeviceStatus.DriverOk, (ulong)VirtioCommonCfg.VirtioDeviceStatus.FeaturesOk,
            (ulong)VirtioCommonCfg.VirtioDeviceStatus.DeviceNeedsReset, (ulong)VirtioCommonCfg.VirtioDeviceStatus.Failed,
        }, Is.EqualTo(new ulong[] { 1, 2, 4, 8, 64, 128 }));
    }

    [Test]
    public void Isr_ReadClears_AndKeepsCausesSeparate()
    {
        var isr = new VirtioIsrModel();
        isr.HwSetIsrConfigInterrupt();
        Assert.Multiple(() =>
        {
            Assert.That(isr.Read(VirtioIsr.Isr.Offset), Is.EqualTo((uint)VirtioIsr.Isr.ConfigInterrupt.Mask));
            Assert.That(isr.Read(VirtioIsr.Isr.Offset), Is.Zero);
        });
    }
}
