using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class QueueTests
{
    private static readonly PciAddress Ism = Rig.IsmAddress;

    [Test]
    public async Task QueueSize_AfterBoot_IsTheMaximumFirmwareProgrammed()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);

        driver.SelectQueue(0);
        ushort controlq = driver.QueueSize;
        driver.SelectQueue(1);
        ushort eventq = driver.QueueSize;

        Assert.That((controlq, eventq), Is.EqualTo(((ushort)256, (ushort)256)));
    }

    [Test]
    public async Task QueueSize_OfAQueueTheDeviceDoesNotHave_ReadsZero()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);

        driver.SelectQueue(2);

        Assert.That(driver.QueueSize, Is.Zero);
    }

    [Test]
    public async Task QueueNotifyOff_IsTheQueueIndex()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);

        driver.SelectQueue(1);

        Assert.That(driver.QueueNotifyOff, Is.EqualTo(1));
    }

    [Test]
    public async Task QueueMsixVector_PastTheTable_ReadsNoVector()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        driver.SelectQueue(0);

        driver.QueueMsixVector = 8;

        Assert.That(driver.QueueMsixVector, Is.EqualTo(VirtioFirmware.NoVector));
    }

    [Test]
    public async Task ConfigMsixVector_PastTheTable_ReadsNoVector()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);

        driver.ConfigMsixVector = 100;

        Assert.That(driver.ConfigMsixVector, Is.EqualTo(VirtioFirmware.NoVector));
    }

    [Test]
    public async Task QueueEnable_GivesFirmwareTheDriversSetup()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        SetUpQueue(driver, queue: 1);

        rig.Firmware(Ism).ProcessPendingEvents();

        Assert.That(rig.Firmware(Ism).Queues[1], Is.EqualTo(new QueueSetup(128, 2, 0x1_0000_1000, 0x1_0000_2000, 0x1_0000_3000)));
        Assert.That(rig.Firmware(Ism).Queues[0], Is.Null);
    }

    [Test]
    public async Task QueueReset_ReadsOneUntilFirmwareCompletesIt_ThenTheQueueIsDown()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        SetUpQueue(driver, queue: 0);
        rig.Firmware(Ism).ProcessPendingEvents();

        driver.QueueReset = 1;
        ushort beforeFirmware = driver.QueueReset;
        rig.Firmware(Ism).ProcessPendingEvents();

        Assert.That(beforeFirmware, Is.EqualTo(1));
        Assert.That(driver.QueueReset, Is.Zero);
        Assert.That(driver.QueueEnable, Is.Zero);
        Assert.That(driver.QueueSize, Is.EqualTo(256));
        Assert.That(rig.Firmware(Ism).Queues[0], Is.Null);
    }

    [Test]
    public async Task ConfigChange_FromFirmware_SetsIsrAdvancesGenerationAndSendsTheConfigVector()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        using MsiVector vector = MsixTests.Program(rig, entry: 5, masked: false);
        MsixTests.EnableMsix(rig, functionMask: false);
        driver.ConfigMsixVector = 5;
        byte generation = driver.ConfigGeneration;

        rig.Csr(Ism).SetConfigChange();

        Assert.That(driver.Isr & VirtioIsr.Isr.ConfigInterrupt.Mask, Is.Not.Zero);
        Assert.That(driver.ConfigGeneration, Is.Not.EqualTo(generation));
        Assert.That(vector.DeliveredCount, Is.EqualTo(1));
    }

    [Test]
    public async Task NeedsReset_FromFirmware_ShowsInDeviceStatus()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        driver.Negotiate(VirtioFeatureBits.Version1);

        rig.Csr(Ism).SetNeedsReset();

        Assert.That(driver.Status & (byte)VirtioCommonCfg.VirtioDeviceStatus.DeviceNeedsReset, Is.Not.Zero);
        Assert.That(driver.Isr & VirtioIsr.Isr.ConfigInterrupt.Mask, Is.Not.Zero);
    }

    [Test]
    public async Task IsrRead_ReturnsTheCausesAndClearsThem()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        rig.Csr(Ism).SetQueueInterrupt();

        byte first = driver.Isr;
        byte second = driver.Isr;

        Assert.That(first, Is.EqualTo(VirtioIsr.Isr.QueueInterrupt.Mask));
        Assert.That(second, Is.Zero);
    }

    [Test]
    public async Task IsmDeviceConfig_AfterBoot_ReadsWhatTheDescriptionSays()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        EndpointDescription d = rig.Endpoint(Ism).Hardware.Description;

        Assert.Multiple(() =>
        {
            Assert.That(rig.Platform.Read64(driver.DeviceConfig + IsmConfig.ChunkSize.Offset), Is.EqualTo(d.FindSharedMemory(IsmShmId.Regions)!.GranuleSize));
            Assert.That(rig.Platform.Read64(driver.DeviceConfig + IsmConfig.NotifySize.Offset), Is.EqualTo(d.FindSharedMemory(IsmShmId.Notify)!.GranuleSize));
            Assert.That(rig.Platform.Read64(driver.DeviceConfig + IsmConfig.Devid.Offset), Is.EqualTo(1UL));
            Assert.That(rig.Platform.Read64(driver.DeviceConfig + IsmConfig.CdidHi.Offset), Is.EqualTo(0x2f6d1b7c_93a4_4e0bUL));
            Assert.That(rig.Platform.Read64(driver.DeviceConfig + IsmConfig.CdidLo.Offset), Is.EqualTo(0x8d5e_6a1c0f3b9e72UL));
        });
    }

    [Test]
    public async Task IsmDeviceConfig_IsReadOnlyToTheDriver()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);

        rig.Platform.Write64(driver.DeviceConfig + IsmConfig.Devid.Offset, 99);

        Assert.That(rig.Platform.Read64(driver.DeviceConfig + IsmConfig.Devid.Offset), Is.EqualTo(1UL));
    }

    internal static void SetUpQueue(Driver driver, ushort queue)
    {
        driver.SelectQueue(queue);
        driver.QueueSize = 128;
        driver.QueueMsixVector = 2;
        driver.QueueDescriptorArea = 0x1_0000_1000;
        driver.QueueDriverArea = 0x1_0000_2000;
        driver.QueueDeviceArea = 0x1_0000_3000;
        driver.QueueEnable = 1;
    }
}
