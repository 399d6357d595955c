using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;
using CfgType = VirtioHw.Registers.VirtioPciCap.VirtioPciCfgType;

namespace VirtioHw.Model.Tests;

public sealed class CapabilityTests
{
    private static readonly PciAddress Ism = Rig.IsmAddress;

    [Test]
    public async Task CapabilitiesPointer_IsSetAndAnnouncedInStatus()
    {
        await using Rig rig = Rig.Create();

        byte pointer = rig.Platform.ReadConfig8(Ism, (int)PciHeader.CapabilitiesPtr.Offset);
        ushort status = rig.Platform.ReadConfig16(Ism, (int)PciHeader.Status.Offset);

        Assert.That(pointer, Is.EqualTo(CapabilityLayout.FirstOffset));
        Assert.That(status & PciHeader.Status.CapabilitiesList.Mask, Is.Not.Zero);
    }

    [Test]
    public async Task Chain_IsMsixThenCommonNotifyIsrDeviceSharedMemoryPciCfg()
    {
        await using Rig rig = Rig.Create();
        var seen = new List<(byte Id, byte CfgType)>();

        for (int offset = rig.Platform.ReadConfig8(Ism, (int)PciHeader.CapabilitiesPtr.Offset); offset != 0;
             offset = rig.Platform.ReadConfig8(Ism, offset + (int)VirtioPciCap.CapNext.Offset))
        {
            Assert.That(offset % 4, Is.Zero, "capabilities are dword aligned");
            Assert.That(offset, Is.LessThan(CapabilityLayout.StandardConfigSpaceSize));
            byte id = rig.Platform.ReadConfig8(Ism, offset);
            seen.Add((id, id == (byte)VirtioPciCap.PciCapId.Vendor ? rig.Platform.ReadConfig8(Ism, offset + (int)VirtioPciCap.CfgType.Offset) : (byte)0));
        }

        Assert.That(seen, Is.EqualTo(new (byte, byte)[]
        {
            ((byte)MsixCap.PciCapId.Msix, 0),
            ((byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.CommonCfg),
            ((byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.NotifyCfg),
            ((byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.IsrCfg),
            ((byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.DeviceCfg),
            ((byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.SharedMemoryCfg),
            ((byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.SharedMemoryCfg),
            ((byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.PciCfg),
        }));
    }

    private static IEnumerable<TestCaseData> VirtioStructures()
    {
        VirtioDescription v = EndpointDescriptions.LoadBuiltin("virtio-ism").Virtio!;
        yield return new TestCaseData(CfgType.CommonCfg, v.Common).SetArgDisplayNames("common");
        yield return new TestCaseData(CfgType.NotifyCfg, v.Notify).SetArgDisplayNames("notify");
        yield return new TestCaseData(CfgType.IsrCfg, v.Isr).SetArgDisplayNames("isr");
        yield return new TestCaseData(CfgType.DeviceCfg, v.Device).SetArgDisplayNames("device");
    }

    [TestCaseSource(nameof(VirtioStructures))]
    public async Task VirtioCap_DecodesToTheDescribedBarOffsetAndLength(CfgType type, StructureLocation expected)
    {
        await using Rig rig = Rig.Create();
        int cap = rig.FindCapability(Ism, (byte)VirtioPciCap.PciCapId.Vendor, (byte)type);

        Assert.That(cap, Is.Positive);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Platform.ReadConfig8(Ism, cap + (int)VirtioPciCap.Bar.Offset), Is.EqualTo(expected.Bar));
            Assert.That(rig.Platform.ReadConfig32(Ism, cap + (int)VirtioPciCap.OffsetRegister.Offset), Is.EqualTo(expected.Offset));
            Assert.That(rig.Platform.ReadConfig32(Ism, cap + (int)VirtioPciCap.Length.Offset), Is.EqualTo(expected.Length));
            Assert.That(rig.Platform.ReadConfig8(Ism, cap + (int)VirtioPciCap.CapLen.Offset), Is.GreaterThanOrEqualTo(VirtioPciCap.Size));
        });
    }

    [Test]
    public async Task NotifyCap_CarriesTheNotifyOffMultiplier()
    {
        await using Rig rig = Rig.Create();
        int cap = rig.FindCapability(Ism, (byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.NotifyCfg);

        Assert.That(rig.Platform.ReadConfig32(Ism, cap + (int)VirtioPciNotifyCap.NotifyOffMultiplier.Offset), Is.EqualTo(4));
        Assert.That(rig.Platform.ReadConfig8(Ism, cap + (int)VirtioPciCap.CapLen.Offset), Is.EqualTo(VirtioPciNotifyCap.Size));
    }

    [TestCase(IsmShmId.Regions, 0UL, 32UL << 20)]
    [TestCase(IsmShmId.Notify, 32UL << 20, 1UL << 20)]
    public async Task SharedMemoryCap_IsCap64WithItsShmidOffsetAndLength(byte shmid, ulong offset, ulong length)
    {
        await using Rig rig = Rig.Create();
        int cap = rig.FindCapability(Ism, (byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.SharedMemoryCfg, shmid);
        PciAddress f = Ism;
        ModelPlatform p = rig.Platform;

        Assert.That(cap, Is.Positive);
        Assert.Multiple(() =>
        {
            Assert.That(p.ReadConfig8(f, cap + (int)VirtioPciCap64.CapLen.Offset), Is.EqualTo(VirtioPciCap64.Size));
            Assert.That(p.ReadConfig8(f, cap + (int)VirtioPciCap64.Bar.Offset), Is.EqualTo(2));
            Assert.That(p.ReadConfig32(f, cap + (int)VirtioPciCap64.OffsetRegister.Offset) | ((ulong)p.ReadConfig32(f, cap + (int)VirtioPciCap64.OffsetHi.Offset) << 32), Is.EqualTo(offset));
            Assert.That(p.ReadConfig32(f, cap + (int)VirtioPciCap64.Length.Offset) | ((ulong)p.ReadConfig32(f, cap + (int)VirtioPciCap64.LengthHi.Offset) << 32), Is.EqualTo(length));
        });
    }

    [Test]
    public async Task MsixCap_GivesTableSizeAndWhereTableAndPbaAre()
    {
        await using Rig rig = Rig.Create();
        int cap = rig.FindCapability(Ism, (byte)MsixCap.PciCapId.Msix);

        ushort control = rig.Platform.ReadConfig16(Ism, cap + (int)MsixCap.MessageControl.Offset);
        uint table = rig.Platform.ReadConfig32(Ism, cap + (int)MsixCap.VectorTable.Offset);
        uint pba = rig.Platform.ReadConfig32(Ism, cap + (int)MsixCap.PendingArray.Offset);

        Assert.That(control & MsixCap.MessageControl.TableSize.Mask, Is.EqualTo(8 - 1));
        Assert.That(table, Is.EqualTo(1u), "BIR 1, offset 0");
        Assert.That(pba, Is.EqualTo(0x800u | 1u), "BIR 1, offset 0x800");
    }

    [Test]
    public async Task IvshmemFunction_HasMsixOnlyAndNoVirtioCaps()
    {
        await using Rig rig = Rig.Create();

        Assert.That(rig.FindCapability(Rig.IvshmemAddress, (byte)MsixCap.PciCapId.Msix), Is.Positive);
        Assert.That(rig.FindCapability(Rig.IvshmemAddress, (byte)VirtioPciCap.PciCapId.Vendor), Is.EqualTo(-1));
    }

    [Test]
    public async Task PciCfgAccessWindow_ReadsTheBarEvenWithMemorySpaceOff()
    {
        await using Rig rig = Rig.Create();
        int cap = rig.FindCapability(Ism, (byte)VirtioPciCap.PciCapId.Vendor, (byte)CfgType.PciCfg);
        StructureLocation common = rig.Endpoint(Ism).Hardware.Description.Virtio!.Common;

        rig.Platform.WriteConfig8(Ism, cap + (int)VirtioPciCfgCap.Bar.Offset, (byte)common.Bar);
        rig.Platform.WriteConfig32(Ism, cap + (int)VirtioPciCfgCap.OffsetRegister.Offset, (uint)common.Offset + VirtioCommonCfg.NumQueues.Offset);
        rig.Platform.WriteConfig32(Ism, cap + (int)VirtioPciCfgCap.Length.Offset, 2);

        Assert.That(rig.Platform.ReadConfig32(Ism, cap + (int)VirtioPciCfgCap.PciCfgData.Offset), Is.EqualTo(2));
    }
}
