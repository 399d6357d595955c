using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class ConfigSpaceTests
{
    [Test]
    public async Task IsmHeader_ReportsTheIdentityOfItsDescription()
    {
        await using Rig rig = Rig.Create();
        ModelPlatform p = rig.Platform;
        PciAddress ism = Rig.IsmAddress;

        Assert.Multiple(() =>
        {
            Assert.That(p.ReadConfig16(ism, (int)PciHeader.VendorId.Offset), Is.EqualTo(0x1af4));
            Assert.That(p.ReadConfig16(ism, (int)PciHeader.DeviceId.Offset), Is.EqualTo(0x106c));
            Assert.That(p.ReadConfig8(ism, (int)PciHeader.RevisionId.Offset), Is.EqualTo(1));
            Assert.That(p.ReadConfig8(ism, (int)PciHeader.BaseClass.Offset), Is.EqualTo(0x05));
            Assert.That(p.ReadConfig8(ism, (int)PciHeader.Subclass.Offset), Is.EqualTo(0x80));
            Assert.That(p.ReadConfig16(ism, (int)PciHeader.SubsystemVendorId.Offset), Is.EqualTo(0x1af4));
            Assert.That(p.ReadConfig16(ism, (int)PciHeader.SubsystemId.Offset), Is.EqualTo(44));
            Assert.That(p.ReadConfig8(ism, (int)PciHeader.HeaderType.Offset), Is.EqualTo((byte)PciHeader.PciHeaderType.Type0));
        });
    }

    [Test]
    public async Task IvshmemHeader_IsRevision1RamController()
    {
        await using Rig rig = Rig.Create();

        uint word = rig.Platform.ReadConfig32(Rig.IvshmemAddress, (int)PciHeader.VendorId.Offset);
        uint classAndRevision = rig.Platform.ReadConfig32(Rig.IvshmemAddress, (int)PciHeader.RevisionId.Offset);

        Assert.That(word, Is.EqualTo(0x1110_1af4u));
        Assert.That(classAndRevision, Is.EqualTo(0x0500_0001u));
    }

    [Test]
    public async Task AbsentFunction_ReadsAllOnesOfTheAccessWidth()
    {
        await using Rig rig = Rig.Create();
        var absent = new PciAddress(0, 9, 0);

        Assert.That(rig.Platform.ReadConfig32(absent, 0), Is.EqualTo(uint.MaxValue));
        Assert.That(rig.Platform.ReadConfig16(absent, 2), Is.EqualTo(ushort.MaxValue));
    }

    [Test]
    public async Task UnimplementedConfigSpace_ReadsZero_AndIgnoresWrites()
    {
        await using Rig rig = Rig.Create();

        rig.Platform.WriteConfig32(Rig.IsmAddress, 0x400, 0x1234_5678);

        Assert.That(rig.Platform.ReadConfig32(Rig.IsmAddress, 0x400), Is.Zero);
        Assert.That(rig.Platform.ReadConfig32(Rig.IsmAddress, (int)PciHeader.Size + 0xfc), Is.Zero);
    }

    [Test]
    public async Task ByteWriteToCommand_LeavesStatusAlone()
    {
        await using Rig rig = Rig.Create();
        ushort statusBefore = rig.Platform.ReadConfig16(Rig.IsmAddress, (int)PciHeader.Status.Offset);

        rig.Platform.WriteConfig8(Rig.IsmAddress, (int)PciHeader.Command.Offset, (byte)PciHeader.Command.MemorySpace.Mask);

        Assert.That(rig.Platform.ReadConfig16(Rig.IsmAddress, (int)PciHeader.Command.Offset), Is.EqualTo(PciHeader.Command.MemorySpace.Mask));
        Assert.That(rig.Platform.ReadConfig16(Rig.IsmAddress, (int)PciHeader.Status.Offset), Is.EqualTo(statusBefore));
    }
}
