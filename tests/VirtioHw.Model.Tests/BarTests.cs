using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class BarTests
{
    private static readonly PciAddress Function = Rig.IsmAddress;

    [Test]
    public async Task Bar32_AllOnesWrite_ReadsBackTheSizeMask()
    {
        await using Rig rig = Rig.WithEndpoint(Yaml.EveryBarKind);

        uint value = Size(rig, 0);

        Assert.That(value, Is.EqualTo(~(16u * 1024 - 1)));
    }

    [Test]
    public async Task Bar64Prefetchable_ReadsTypeAndSizeMaskInBothHalves()
    {
        await using Rig rig = Rig.WithEndpoint(Yaml.EveryBarKind);

        uint low = Size(rig, 2);
        uint high = Size(rig, 3);

        Assert.That(low & PciHeader.Bar.MemType.Mask, Is.EqualTo(2UL << PciHeader.Bar.MemType.Shift));
        Assert.That(low & PciHeader.Bar.Prefetchable.Mask, Is.EqualTo(PciHeader.Bar.Prefetchable.Mask));
        Assert.That(low & PciHeader.Bar.Address.Mask, Is.EqualTo(~((1UL << 20) - 1) & PciHeader.Bar.Address.Mask));
        Assert.That(high, Is.EqualTo(uint.MaxValue));
    }

    [Test]
    public async Task Bar32Prefetchable_ReadsPrefetchableWithType32()
    {
        await using Rig rig = Rig.WithEndpoint(Yaml.EveryBarKind);

        uint value = Size(rig, 4);

        Assert.That(value, Is.EqualTo(~(4096u - 1) | (uint)PciHeader.Bar.Prefetchable.Mask));
    }

    [Test]
    public async Task IoBar_ReadsTheIoBitAndItsSizeMask()
    {
        await using Rig rig = Rig.WithEndpoint(Yaml.EveryBarKind);

        uint value = Size(rig, 1);

        Assert.That(value, Is.EqualTo(~(256u - 1) | (uint)PciHeader.Bar.Io.Mask));
    }

    [Test]
    public async Task UnimplementedBar_ReadsZeroAfterAllOnes()
    {
        await using Rig rig = Rig.WithEndpoint(Yaml.EveryBarKind);

        Assert.That(Size(rig, 5), Is.Zero);
    }

    [Test]
    public async Task AssignedBar_ReadsBackItsAddressAndTypeBits()
    {
        await using Rig rig = Rig.WithEndpoint(Yaml.EveryBarKind);

        ulong[] bars = rig.AssignBars(Function);

        uint low = rig.Platform.ReadConfig32(Function, (int)PciHeader.Bar.OffsetOf(2));
        uint high = rig.Platform.ReadConfig32(Function, (int)PciHeader.Bar.OffsetOf(3));
        Assert.That(((ulong)high << 32) | (low & PciHeader.Bar.Address.Mask), Is.EqualTo(bars[2]));
        Assert.That(bars[2], Is.GreaterThan((ulong)uint.MaxValue));
    }

    [Test]
    public async Task BarDecode_WithMemorySpaceOff_DoesNotAnswer()
    {
        await using Rig rig = Rig.Create();
        ulong[] bars = rig.AssignBars(Rig.IsmAddress);
        rig.Command(Rig.IsmAddress, memorySpace: false, busMaster: false);

        ulong numQueues = rig.Platform.ReadMemory(bars[0] + VirtioCommonCfg.NumQueues.Offset, 2);

        Assert.That(numQueues, Is.EqualTo(ushort.MaxValue), "an access nothing decodes reads all-ones");
    }

    [Test]
    public async Task BarDecode_WithMemorySpaceOn_ReachesCommonCfg()
    {
        await using Rig rig = Rig.Create();
        ulong[] bars = rig.Setup(Rig.IsmAddress);

        ulong numQueues = rig.Platform.ReadMemory(bars[0] + VirtioCommonCfg.NumQueues.Offset, 2);

        Assert.That(numQueues, Is.EqualTo(2));
    }

    [Test]
    public async Task BarDecode_StopsWhenMemorySpaceIsTurnedOff()
    {
        await using Rig rig = Rig.Create();
        ulong[] bars = rig.Setup(Rig.IsmAddress);
        rig.Platform.Write32(bars[0] + VirtioCommonCfg.DeviceFeatureSelect.Offset, 1);

        rig.Command(Rig.IsmAddress, memorySpace: false, busMaster: true);
        rig.Platform.Write32(bars[0] + VirtioCommonCfg.DeviceFeatureSelect.Offset, 0);
        rig.Command(Rig.IsmAddress, memorySpace: true, busMaster: true);

        Assert.That(rig.Platform.Read32(bars[0] + VirtioCommonCfg.DeviceFeatureSelect.Offset), Is.EqualTo(1));
    }

    private static uint Size(Rig rig, int bar)
    {
        int offset = (int)PciHeader.Bar.OffsetOf(bar);
        rig.Platform.WriteConfig32(Function, offset, uint.MaxValue);
        return rig.Platform.ReadConfig32(Function, offset);
    }
}
