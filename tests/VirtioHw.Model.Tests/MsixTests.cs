using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class MsixTests
{
    private static readonly PciAddress Ism = Rig.IsmAddress;

    [Test]
    public async Task Trigger_OfAnUnmaskedVector_DeliversItsMessage()
    {
        await using Rig rig = Rig.Create();
        using MsiVector vector = Program(rig, entry: 3, masked: false);
        EnableMsix(rig, functionMask: false);

        rig.Csr(Ism).TriggerMsix(3);

        Assert.That(vector.TryTake(out long sequence), Is.True);
        Assert.That(sequence, Is.EqualTo(1));
    }

    [Test]
    public async Task Trigger_OfAMaskedVector_SetsItsPendingBitAndSendsNothing()
    {
        await using Rig rig = Rig.Create();
        using MsiVector vector = Program(rig, entry: 2, masked: true);
        EnableMsix(rig, functionMask: false);

        rig.Csr(Ism).TriggerMsix(2);

        Assert.That(vector.DeliveredCount, Is.Zero);
        Assert.That(Pending(rig), Is.EqualTo(1UL << 2));
    }

    [Test]
    public async Task Unmasking_APendingVector_DeliversOnceAndClearsThePendingBit()
    {
        await using Rig rig = Rig.Create();
        using MsiVector vector = Program(rig, entry: 2, masked: true);
        EnableMsix(rig, functionMask: false);
        rig.Csr(Ism).TriggerMsix(2);

        rig.Platform.Write32(Table(rig) + MsixTable.EntryVectorControl.OffsetOf(2), 0);

        Assert.That(vector.DeliveredCount, Is.EqualTo(1));
        Assert.That(Pending(rig), Is.Zero);
    }

    [Test]
    public async Task FunctionMask_HoldsEveryVector_UntilItIsCleared()
    {
        await using Rig rig = Rig.Create();
        using MsiVector vector = Program(rig, entry: 0, masked: false);
        EnableMsix(rig, functionMask: true);

        rig.Csr(Ism).TriggerMsix(0);
        long whileMasked = vector.DeliveredCount;
        ulong pending = Pending(rig);
        EnableMsix(rig, functionMask: false);

        Assert.That(whileMasked, Is.Zero);
        Assert.That(pending, Is.EqualTo(1UL));
        Assert.That(vector.DeliveredCount, Is.EqualTo(1));
        Assert.That(Pending(rig), Is.Zero);
    }

    [Test]
    public async Task Trigger_WhileMsixIsDisabled_IsDropped()
    {
        await using Rig rig = Rig.Create();
        using MsiVector vector = Program(rig, entry: 1, masked: false);

        rig.Csr(Ism).TriggerMsix(1);

        Assert.That(vector.DeliveredCount, Is.Zero);
        Assert.That(Pending(rig), Is.Zero);
    }

    [Test]
    public async Task Trigger_WithBusMasteringOff_SendsNothing()
    {
        await using Rig rig = Rig.Create();
        using MsiVector vector = Program(rig, entry: 1, masked: false);
        EnableMsix(rig, functionMask: false);
        rig.Command(Ism, memorySpace: true, busMaster: false);

        rig.Csr(Ism).TriggerMsix(1);

        Assert.That(vector.DeliveredCount, Is.Zero);
    }

    [Test]
    public async Task Trigger_OfAVectorPastTheTable_IsIgnored()
    {
        await using Rig rig = Rig.Create();
        using MsiVector vector = Program(rig, entry: 7, masked: false);
        EnableMsix(rig, functionMask: false);

        rig.Csr(Ism).TriggerMsix(8);

        Assert.That(vector.DeliveredCount, Is.Zero);
        Assert.That(Pending(rig), Is.Zero);
    }

    /// <summary>Sets up the function and points table entry <paramref name="entry"/> at a fresh platform vector.</summary>
    internal static MsiVector Program(Rig rig, int entry, bool masked)
    {
        rig.Setup(Ism);
        MsiVector vector = rig.Platform.AllocateMsiVector();
        ulong table = Table(rig);
        rig.Platform.Write32(table + MsixTable.EntryMsgAddrLo.OffsetOf(entry), (uint)vector.Address);
        rig.Platform.Write32(table + MsixTable.EntryMsgAddrHi.OffsetOf(entry), (uint)(vector.Address >> 32));
        rig.Platform.Write32(table + MsixTable.EntryMsgData.OffsetOf(entry), vector.Data);
        rig.Platform.Write32(table + MsixTable.EntryVectorControl.OffsetOf(entry), masked ? (uint)MsixTable.EntryVectorControl.MaskField.Mask : 0);
        return vector;
    }

    internal static void EnableMsix(Rig rig, bool functionMask)
    {
        int cap = rig.FindCapability(Ism, (byte)MsixCap.PciCapId.Msix);
        ushort control = (ushort)(MsixCap.MessageControl.Enable.Mask | (functionMask ? MsixCap.MessageControl.FunctionMask.Mask : 0));
        rig.Platform.WriteConfig16(Ism, cap + (int)MsixCap.MessageControl.Offset, control);
    }

    private static ulong Table(Rig rig)
    {
        var msix = rig.Endpoint(Ism).Hardware.Description.Msix!;
        return BarAddress(rig, msix.TableBar) + msix.TableOffset;
    }

    private static ulong Pending(Rig rig)
    {
        var msix = rig.Endpoint(Ism).Hardware.Description.Msix!;
        return rig.Platform.Read64(BarAddress(rig, msix.PbaBar) + msix.PbaOffset + MsixPba.Pending.Offset);
    }

    private static ulong BarAddress(Rig rig, int bar) =>
        rig.Platform.ReadConfig32(Ism, (int)PciHeader.Bar.OffsetOf(bar)) & PciHeader.Bar.Address.Mask;
}
