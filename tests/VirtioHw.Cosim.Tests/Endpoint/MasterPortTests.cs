using VirtioHw.Registers;

namespace VirtioHw.Cosim.Tests.Endpoint;

/// <summary>
/// The shim's master ports on the ISM endpoint: BAR2 accesses through the chunk table reach the
/// attached memory (and only mapped, permitted slots do), and notify writes reach the firmware's
/// event FIFO. Offsets come from the generated definitions.
/// </summary>
public sealed class MasterPortTests
{
    private const uint ChunkSize = 128 * 1024;
    private const uint NotifyArea = 32 * 1024 * 1024;

    private IsmEndpointTop _top = null!;
    private byte[] _memory = null!;

    [SetUp]
    public void NewTop()
    {
        _top = Cosim.Create<IsmEndpointTop>(IsmEndpointTop.TopName);
        _memory = new byte[1 << 20];
        _top.AttachMemory(_memory);
    }

    [TearDown]
    public void DisposeTop() => _top?.Dispose();

    private void MapSlot(uint slot, ulong address, bool read, bool write, bool system = false)
    {
        _top.FwWrite(FwCsr.ChunkIndex.Offset, slot);
        uint perm = (read ? (uint)FwCsr.ChunkPerm.Read.Mask : 0) | (write ? (uint)FwCsr.ChunkPerm.Write.Mask : 0) | (uint)FwCsr.ChunkPerm.Valid.Mask
            | (system ? (uint)FwCsr.ChunkPerm.System.Mask : 0);
        _top.FwWrite(FwCsr.ChunkPerm.Offset, perm);
        _top.FwWrite(FwCsr.ChunkAddr.Offset, (uint)address);
        _top.FwWrite(FwCsr.ChunkAddr.Offset + 4, (uint)(address >> 32));
        _top.FwWrite(FwCsr.ChunkCommit.Offset, 1);
    }

    [Test]
    public void MappedSlot_WriteThenRead_ReachesTheAttachedMemory()
    {
        MapSlot(1, 0x4000, read: true, write: true);
        _top.Bar2Write(ChunkSize + 8, 0x1122_3344, 0b0111);
        Assert.Multiple(() =>
        {
            Assert.That(_memory[0x4008..0x400c], Is.EqualTo(new byte[] { 0x44, 0x33, 0x22, 0x00 }), "strobed bytes only");
            Assert.That(_top.Bar2Read(ChunkSize + 8), Is.EqualTo(0x0022_3344u));
            Assert.That(_top.OutsideAccesses, Is.Zero);
        });
    }

    [Test]
    public void UnmappedOrReadOnlySlot_ReadsAllOnes_AndDropsWrites()
    {
        MapSlot(2, 0x8000, read: true, write: false);
        _memory[0x8000] = 0x5a;
        _top.Bar2Write(2 * ChunkSize, 0xffff_ffff);
        _top.Bar2Write(3 * ChunkSize, 0xffff_ffff);
        Assert.Multiple(() =>
        {
            Assert.That(_memory[0x8000], Is.EqualTo(0x5a), "read-only slot");
            Assert.That(_top.Bar2Read(2 * ChunkSize), Is.EqualTo(0x5au));
            Assert.That(_top.Bar2Read(3 * ChunkSize), Is.EqualTo(0xffff_ffffu), "unmapped slot");
            Assert.That(_memory.All(b => b == 0 || b == 0x5a), Is.True);
        });
    }

    [Test]
    public void SlotBeyondTheAttachedMemory_ReadsOnes_AndIsCounted()
    {
        // Backing memory is 32 MiB; only 1 MiB is attached here.
        MapSlot(0, 0x10_0000, read: true, write: true);
        Assert.Multiple(() =>
        {
            Assert.That(_top.Bar2Read(0), Is.EqualTo(0xffff_ffffu));
            Assert.That(_top.OutsideAccesses, Is.EqualTo(1UL));
        });
    }

    [Test]
    public void SystemSlot_WithBusMastering_ReachesSystemMemoryByBusAddress_NotBackingMemory()
    {
        const ulong bus = 0x1_0000_0000;
        var system = new byte[1 << 16];
        _top.AttachSystemMemory(bus, system);
        _top.CfgWrite(PciHeader.Command.Offset, (uint)PciHeader.Command.BusMaster.Mask, 0b0011);
        MapSlot(4, bus + 0x3000, read: true, write: true, system: true);

        _top.Bar2Write((4 * ChunkSize) + 0x10, 0xcafe_f00d);
        Assert.Multiple(() =>
        {
            Assert.That(system[0x3010..0x3014], Is.EqualTo(new byte[] { 0x0d, 0xf0, 0xfe, 0xca }));
            Assert.That(_top.Bar2Read((4 * ChunkSize) + 0x10), Is.EqualTo(0xcafe_f00du));
            Assert.That(_memory.All(b => b == 0), Is.True, "backing memory untouched");
            Assert.That(_top.OutsideAccesses, Is.Zero);
        });
    }

    [Test]
    public void SystemSlot_WithoutBusMastering_ReadsAllOnes_AndDropsWrites()
    {
        const ulong bus = 0x1_0000_0000;
        var system = new byte[1 << 16];
        system[0x2000] = 0x77;
        _top.AttachSystemMemory(bus, system);
        MapSlot(5, bus + 0x2000, read: true, write: true, system: true);

        _top.Bar2Write(5 * ChunkSize, 0);
        Assert.Multiple(() =>
        {
            Assert.That(_top.Bar2Read(5 * ChunkSize), Is.EqualTo(0xffff_ffffu));
            Assert.That(system[0x2000], Is.EqualTo(0x77));
        });
    }

    [Test]
    public void SystemSlot_NotPageAligned_IsNotMapped()
    {
        const ulong bus = 0x1_0000_0000;
        var system = new byte[1 << 16];
        system[0x2040] = 0x77;
        _top.AttachSystemMemory(bus, system);
        _top.CfgWrite(PciHeader.Command.Offset, (uint)PciHeader.Command.BusMaster.Mask, 0b0011);
        MapSlot(6, bus + 0x2040, read: true, write: true, system: true);

        Assert.That(_top.Bar2Read(6 * ChunkSize), Is.EqualTo(0xffff_ffffu));
    }

    [Test]
    public void NotifyWrites_ArriveInTheEventFifo_InOrder()
    {
        // Queue 1 exists once firmware gives it a size; a notify of a queue that does not is dropped.
        _top.Bar0Write(0x2000 + 4 * 0, 0);
        _top.FwWrite(FwCsr.QSel.Offset, 1);
        _top.FwWrite(FwCsr.QMaxSize.Offset, 256);
        _top.Bar0Write(0x2000 + 4 * 1, 0xabcd_0001);        // queue 1, with notification data
        _top.Bar2Write(NotifyArea + 5 * 4096 + 0x10, 1);     // ISM notify-address 5
        Assert.Multiple(() =>
        {
            Assert.That(_top.FwIrqO, Is.True);
            Assert.That(_top.FwRead(FwCsr.EvtStatus.Offset) & FwCsr.EvtStatus.CountField.Mask, Is.EqualTo(2u));
            Assert.That(_top.FwRead(FwCsr.EvtKind.Offset), Is.EqualTo((uint)FwCsr.FwEventKind.QueueNotify));
            Assert.That(_top.FwRead(FwCsr.EvtData.Offset), Is.EqualTo(0xabcd_0001u));
        });
        _top.FwWrite(FwCsr.EvtPop.Offset, 1);
        Assert.Multiple(() =>
        {
            Assert.That(_top.FwRead(FwCsr.EvtKind.Offset), Is.EqualTo((uint)FwCsr.FwEventKind.IsmKick));
            Assert.That(_top.FwRead(FwCsr.EvtData.Offset), Is.EqualTo(5u));
        });
        _top.FwWrite(FwCsr.EvtPop.Offset, 1);
        Assert.That(_top.FwIrqO, Is.False);
    }
}
