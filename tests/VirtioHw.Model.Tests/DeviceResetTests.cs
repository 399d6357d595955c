using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class DeviceResetTests
{
    private static readonly PciAddress Ism = Rig.IsmAddress;

    [Test]
    public async Task StatusZero_ClearsQueueStateIsrConfigVectorAndPendingMessages()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        using MsiVector vector = MsixTests.Program(rig, entry: 4, masked: true);
        MsixTests.EnableMsix(rig, functionMask: false);
        driver.Negotiate(VirtioFeatureBits.Version1);
        QueueTests.SetUpQueue(driver, queue: 0);
        driver.ConfigMsixVector = 4;
        rig.Csr(Ism).SetQueueInterrupt();
        rig.Csr(Ism).TriggerMsix(4);

        driver.Status = 0;

        driver.SelectQueue(0);
        var msix = rig.Endpoint(Ism).Hardware.Description.Msix!;
        ulong pba = (rig.Platform.ReadConfig32(Ism, (int)PciHeader.Bar.OffsetOf(msix.PbaBar)) & PciHeader.Bar.Address.Mask) + msix.PbaOffset;
        Assert.Multiple(() =>
        {
            Assert.That(driver.Status, Is.Zero);
            Assert.That(driver.QueueEnable, Is.Zero);
            Assert.That(driver.QueueSize, Is.EqualTo(256), "back to the maximum");
            Assert.That(driver.QueueMsixVector, Is.EqualTo(VirtioFirmware.NoVector));
            Assert.That(driver.QueueDescriptorArea, Is.Zero);
            Assert.That(driver.ConfigMsixVector, Is.EqualTo(VirtioFirmware.NoVector));
            Assert.That(driver.Isr, Is.Zero);
            Assert.That(rig.Platform.Read64(pba), Is.Zero);
            Assert.That(rig.Csr(Ism).DriverFeatures, Is.Zero);
        });
    }

    [Test]
    public async Task StatusZero_TellsFirmware_WhichForgetsItsNegotiationAndQueues()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        driver.Negotiate(VirtioFeatureBits.Version1);
        QueueTests.SetUpQueue(driver, queue: 0);
        VirtioFirmware firmware = rig.Firmware(Ism);
        firmware.ProcessPendingEvents();
        bool negotiatedBefore = firmware.FeaturesNegotiated;

        driver.Status = 0;
        firmware.ProcessPendingEvents();

        Assert.That(negotiatedBefore, Is.True);
        Assert.That(firmware.FeaturesNegotiated, Is.False);
        Assert.That(firmware.NegotiatedFeatures, Is.Zero);
        Assert.That(firmware.Queues, Has.All.Null);
    }

    [Test]
    public async Task StatusZero_PushesStatusWriteWithZero()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);

        driver.Status = 0;

        Assert.That(rig.Csr(Ism).TryPeekEvent(out FirmwareEvent head), Is.True);
        Assert.That(head, Is.EqualTo(new FirmwareEvent(FwCsr.FwEventKind.StatusWrite, 0)));
    }

    [Test]
    public async Task StatusZero_KeepsTheFirmwareProgrammedFeaturesAndSizes()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Ism);
        ulong offered = driver.DeviceFeatures();

        driver.Status = 0;

        driver.SelectQueue(1);
        Assert.That(driver.DeviceFeatures(), Is.EqualTo(offered));
        Assert.That(driver.QueueSize, Is.EqualTo(256));
    }
}
