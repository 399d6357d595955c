using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Model.Tests;

public sealed class DmaTests
{
    private static readonly PciAddress Ism = Rig.IsmAddress;

    [Test]
    public async Task DmaRead_WithBusMasteringOff_IsRefused()
    {
        await using Rig rig = Rig.Create();
        rig.Setup(Ism, busMaster: false);
        using DmaRegion region = rig.Platform.AllocateDma(64);

        bool done = rig.Endpoint(Ism).Hardware.Hal.DmaRead(region.BusAddress, new byte[16]);

        Assert.That(done, Is.False);
    }

    [Test]
    public async Task DmaWrite_WithBusMasteringOn_LandsInSystemMemory()
    {
        await using Rig rig = Rig.Create();
        rig.Setup(Ism);
        using DmaRegion region = rig.Platform.AllocateDma(64);

        bool done = rig.Endpoint(Ism).Hardware.Hal.DmaWrite(region.BusAddress + 8, [1, 2, 3, 4]);

        Assert.That(done, Is.True);
        Assert.That(region.ReadUInt32(8), Is.EqualTo(0x0403_0201u));
    }

    [Test]
    public async Task DmaRead_WithBusMasteringOn_CopiesSystemMemory()
    {
        await using Rig rig = Rig.Create();
        rig.Setup(Ism);
        using DmaRegion region = rig.Platform.AllocateDma(64);
        region.WriteUInt64(0, 0x1122_3344_5566_7788);
        var bytes = new byte[8];

        bool done = rig.Endpoint(Ism).Hardware.Hal.DmaRead(region.BusAddress, bytes);

        Assert.That(done, Is.True);
        Assert.That(BitConverter.ToUInt64(bytes), Is.EqualTo(0x1122_3344_5566_7788UL));
    }

    [Test]
    public async Task DmaRead_OutsideSystemMemory_IsRefused()
    {
        await using Rig rig = Rig.Create();
        rig.Setup(Ism);

        bool done = rig.Endpoint(Ism).Hardware.Hal.DmaRead(0x1000, new byte[4]);

        Assert.That(done, Is.False);
    }

    [Test]
    public async Task FirmwareDma_WhenRefused_ThrowsNamingTheAddress()
    {
        await using Rig rig = Rig.Create();
        rig.Setup(Ism, busMaster: false);
        var firmware = new DmaProbe(rig.Endpoint(Ism).Hardware.Hal);

        var error = Assert.Throws<DmaException>(() => firmware.Read(0x1_0000_0000, 16));

        Assert.That(error!.Message, Does.Contain("DMA read of 16 bytes at 0x100000000 refused"));
    }

    private sealed class DmaProbe(IDeviceHal hal) : DeviceFirmware(hal)
    {
        public void Read(ulong address, int length) => ReadDma(address, new byte[length]);

        protected override void OnBoot()
        {
        }
    }
}
