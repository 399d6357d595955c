using VirtioHw.Cosim;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Platforms.Cosim.Tests;

/// <summary>
/// CosimPlatform on a real ism_endpoint_top: config cycles, BAR decode from what the host
/// programmed, access widths split and strobed onto 32-bit AXI4-Lite, the firmware port, and an
/// instance that stops responding. The MSI-X table of BAR1 serves as plain read/write registers.
/// </summary>
[CancelAfter(60_000)]
public sealed class PlatformTests
{
    private CosimPlatform _platform = null!;

    [SetUp]
    public void CreatePlatform() => _platform = Rtl.Create();

    [TearDown]
    public async Task DisposePlatform()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }
    }

    /// <summary>Bus address of the MSI-X table entry 0 register at <paramref name="offset"/>, after enumeration.</summary>
    private ulong TableEntry0(uint offset)
    {
        PciFunction ism = PciBus.Scan(_platform).Find(Rtl.Ism);
        MsixDescription msix = Rtl.IsmDescription.Msix!;
        return ism.GetBar(msix.TableBar)!.Address + msix.TableOffset + offset;
    }

    [Test]
    public void ConfigRead_OfTheFunction_ReadsTheIdentityOfItsDescription()
    {
        Model.PciIdentity id = Rtl.IsmDescription.Identity;
        Assert.Multiple(() =>
        {
            Assert.That(_platform.ReadConfig16(Rtl.Ism, (int)PciHeader.VendorId.Offset), Is.EqualTo(id.VendorId));
            Assert.That(_platform.ReadConfig16(Rtl.Ism, (int)PciHeader.DeviceId.Offset), Is.EqualTo(id.DeviceId));
            Assert.That(_platform.ReadConfig8(Rtl.Ism, (int)PciHeader.RevisionId.Offset), Is.EqualTo(id.Revision));
            Assert.That(_platform.ReadConfig8(Rtl.Ism, (int)PciHeader.BaseClass.Offset), Is.EqualTo(id.BaseClass));
            Assert.That(_platform.ReadConfig32(Rtl.Ism, 0), Is.EqualTo((uint)id.VendorId | ((uint)id.DeviceId << 16)));
        });
    }

    [Test]
    public void ConfigRead_OfAnAbsentFunction_ReadsAllOnes()
    {
        Assert.That(_platform.ReadConfig32(new PciAddress(0, 5, 0), 0), Is.EqualTo(uint.MaxValue));
    }

    [Test]
    public void Bars_AfterEnumeration_DecodeAtTheAddressesTheHostProgrammed()
    {
        ulong data = TableEntry0(MsixTable.EntryMsgData.Offset);
        _platform.Write32(data, 0x1234_5678);
        Assert.That(_platform.Read32(data), Is.EqualTo(0x1234_5678u));
    }

    [Test]
    public void Bars_WithMemorySpaceOff_DoNotDecode()
    {
        ulong data = TableEntry0(MsixTable.EntryMsgData.Offset);
        _platform.Write32(data, 0x1111_2222);
        ushort command = _platform.ReadConfig16(Rtl.Ism, (int)PciHeader.Command.Offset);
        _platform.WriteConfig16(Rtl.Ism, (int)PciHeader.Command.Offset, (ushort)(command & ~(ushort)PciHeader.Command.MemorySpace.Mask));

        uint whileOff = _platform.Read32(data);
        _platform.Write32(data, 0x3333_4444);
        _platform.WriteConfig16(Rtl.Ism, (int)PciHeader.Command.Offset, command);

        Assert.Multiple(() =>
        {
            Assert.That(whileOff, Is.EqualTo(uint.MaxValue), "nothing answers: all-ones");
            Assert.That(_platform.Read32(data), Is.EqualTo(0x1111_2222u), "the write while off was dropped");
        });
    }

    [Test]
    public void Bars_MovedByTheHost_DecodeAtTheNewAddressOnly()
    {
        ulong data = TableEntry0(MsixTable.EntryMsgData.Offset);
        _platform.Write32(data, 0x5555_6666);
        int bar = Rtl.IsmDescription.Msix!.TableBar;
        ulong size = Rtl.IsmDescription.FindBar(bar)!.Size;
        uint register = _platform.ReadConfig32(Rtl.Ism, (int)PciHeader.Bar.OffsetOf(bar));
        _platform.WriteConfig32(Rtl.Ism, (int)PciHeader.Bar.OffsetOf(bar), register + (uint)size);

        Assert.Multiple(() =>
        {
            Assert.That(_platform.Read32(data), Is.EqualTo(uint.MaxValue), "the old address");
            Assert.That(_platform.Read32(data + size), Is.EqualTo(0x5555_6666u), "the new address");
        });
    }

    [Test]
    public void Write64_IsTwo32BitAccesses_LowWordAtTheLowerAddress()
    {
        ulong entry = TableEntry0(MsixTable.EntryMsgAddrLo.Offset);
        _platform.Write64(entry, 0x1122_3344_5566_7788);
        Assert.Multiple(() =>
        {
            Assert.That(_platform.Read32(entry), Is.EqualTo(0x5566_7788u));
            Assert.That(_platform.Read32(entry + 4), Is.EqualTo(0x1122_3344u));
            Assert.That(_platform.Read64(entry), Is.EqualTo(0x1122_3344_5566_7788ul));
        });
    }

    [Test]
    public void NarrowWrites_ChangeOnlyTheirBytes_AndNarrowReadsTakeTheirBytes()
    {
        ulong data = TableEntry0(MsixTable.EntryMsgData.Offset);
        _platform.Write32(data, 0x1122_3344);
        _platform.Write8(data + 2, 0xaa);
        uint afterByte = _platform.Read32(data);
        _platform.Write16(data, 0xbeef);
        Assert.Multiple(() =>
        {
            Assert.That(afterByte, Is.EqualTo(0x11aa_3344u));
            Assert.That(_platform.Read32(data), Is.EqualTo(0x11aa_beefu));
            Assert.That(_platform.Read8(data + 3), Is.EqualTo(0x11));
            Assert.That(_platform.Read16(data + 2), Is.EqualTo(0x11aa));
        });
    }

    [Test]
    public void FirmwarePort_ReadsTheFwCsrIdentity()
    {
        CosimEndpoint endpoint = _platform.FindEndpoint(Rtl.Ism)!;
        Assert.That(endpoint.Hal.ReadCsr(FwCsr.Id.Offset), Is.EqualTo((uint)FwCsr.Id.ResetValue));
    }

    [Test]
    public void FirmwareDma_ReachesSystemMemory_OnlyWhileBusMasteringIsOn()
    {
        CosimEndpoint endpoint = _platform.FindEndpoint(Rtl.Ism)!;
        using DmaRegion region = _platform.AllocateDma(4096);
        _platform.WriteMemory(region.BusAddress, [1, 2, 3, 4]);
        var before = new byte[4];
        bool refused = !endpoint.Hal.DmaRead(region.BusAddress, before);

        PciBus.Scan(_platform);   // assignment turns bus mastering on
        var after = new byte[4];
        bool read = endpoint.Hal.DmaRead(region.BusAddress, after);
        bool wrote = endpoint.Hal.DmaWrite(region.BusAddress + 8, [9, 8]);

        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.True, "bus mastering is off after reset");
            Assert.That(read && wrote, Is.True);
            Assert.That(after, Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
            Assert.That(_platform.Read16(region.BusAddress + 8), Is.EqualTo(0x0809));
        });
    }

    [Test]
    public async Task FirmwareWait_CompletesOnceTheHostKicksANotifyAddress()
    {
        CosimEndpoint endpoint = _platform.FindEndpoint(Rtl.Ism)!;
        PciFunction ism = PciBus.Scan(_platform).Find(Rtl.Ism);
        SharedMemoryRegion notify = Rtl.IsmDescription.SharedMemory.Single(r => r.Kind == SharedMemoryKind.Notify);
        ValueTask wait = endpoint.Hal.WaitForEventAsync(CancellationToken.None);
        bool early = wait.IsCompleted;

        _platform.Write32(ism.GetBar(notify.Bar)!.Address + notify.Offset + notify.GranuleSize, 1);
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(early, Is.False, "the event FIFO was empty");
            Assert.That(endpoint.Hal.ReadCsr(FwCsr.EvtKind.Offset), Is.EqualTo((uint)FwCsr.FwEventKind.IsmKick));
        });
    }

    [Test]
    public void Access_WhenTheInstanceStopsResponding_IsACosimException_AndLaterAccessesFailAtOnce()
    {
        CosimEndpoint endpoint = _platform.FindEndpoint(Rtl.Ism)!;
        endpoint.TimeoutCycles = 1;   // no access completes in one clock

        var first = Assert.Throws<CosimException>(() => _platform.ReadConfig32(Rtl.Ism, 0))!;
        ulong cycle = endpoint.Cycle;
        var second = Assert.Throws<CosimException>(() => _platform.ReadConfig32(Rtl.Ism, 0))!;

        Assert.Multiple(() =>
        {
            Assert.That(first.Message, Does.StartWith("virtio-ism-00.01.0: the RTL stopped responding: config read of config space 0x0"));
            Assert.That(second.Message, Is.EqualTo(first.Message));
            Assert.That(endpoint.Cycle, Is.EqualTo(cycle), "the failed instance is not driven again");
            Assert.ThrowsAsync<CosimException>(async () => await endpoint.Hal.WaitForEventAsync(CancellationToken.None));
        });
    }
}
