using VirtioHw.Firmware;
using VirtioHw.Registers;
using Status = VirtioHw.Registers.VirtioCommonCfg.VirtioDeviceStatus;

namespace VirtioHw.Model.Tests;

public sealed class FeatureNegotiationTests
{
    private const ulong DevMem = 1;

    [Test]
    public async Task DeviceFeatures_AfterBoot_AreVersion1AndTheDescribedBits()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Rig.IsmAddress);

        Assert.That(driver.DeviceFeatures(), Is.EqualTo(VirtioFeatureBits.Version1 | VirtioFeatureBits.RingReset | DevMem));
    }

    [Test]
    public async Task FeaturesOk_ForASubsetWithVersion1_IsKept()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Rig.IsmAddress);

        byte status = driver.Negotiate(VirtioFeatureBits.Version1 | DevMem);

        Assert.That(status & (byte)Status.FeaturesOk, Is.Not.Zero);
    }

    [Test]
    public async Task FeaturesOk_WithoutVersion1_IsCleared()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Rig.IsmAddress);

        byte status = driver.Negotiate(DevMem);

        Assert.That(status & (byte)Status.FeaturesOk, Is.Zero);
        Assert.That(status, Is.EqualTo((byte)(Status.Acknowledge | Status.Driver)));
    }

    [Test]
    public async Task FeaturesOk_WithABitTheDeviceDoesNotOffer_IsCleared()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Rig.IsmAddress);

        // Bit 1 is device-specific and virtio-ism defines no meaning for it, so the device never offers it.
        byte status = driver.Negotiate(VirtioFeatureBits.Version1 | (1UL << 1));

        Assert.That(status & (byte)Status.FeaturesOk, Is.Zero);
    }

    [Test]
    public async Task DriverFeatureWrites_ReachFirmwareAsFeaturesWriteEvents()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Rig.IsmAddress);

        driver.WriteDriverFeatures(VirtioFeatureBits.Version1);

        FirmwareCsr csr = rig.Csr(Rig.IsmAddress);
        Assert.That(csr.DriverFeatures, Is.EqualTo(VirtioFeatureBits.Version1));
        Assert.That(csr.TryPeekEvent(out FirmwareEvent first), Is.True);
        Assert.That(first, Is.EqualTo(new FirmwareEvent(FwCsr.FwEventKind.FeaturesWrite, 0)));
    }

    [Test]
    public async Task Firmware_LearnsTheNegotiatedFeatures_WhenFeaturesOkStands()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Rig.IsmAddress);
        driver.Negotiate(VirtioFeatureBits.Version1 | DevMem);

        VirtioFirmware firmware = rig.Firmware(Rig.IsmAddress);
        firmware.ProcessPendingEvents();

        Assert.That(firmware.FeaturesNegotiated, Is.True);
        Assert.That(firmware.NegotiatedFeatures, Is.EqualTo(VirtioFeatureBits.Version1 | DevMem));
    }

    [Test]
    public async Task Firmware_DoesNotNegotiate_WhenTheHardwareRefusedFeaturesOk()
    {
        await using Rig rig = Rig.Create();
        var driver = new Driver(rig, Rig.IsmAddress);
        driver.Negotiate(DevMem);

        VirtioFirmware firmware = rig.Firmware(Rig.IsmAddress);
        firmware.ProcessPendingEvents();

        Assert.That(firmware.FeaturesNegotiated, Is.False);
    }
}
