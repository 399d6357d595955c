using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Model.Tests;

public sealed class ChunkWindowTests
{
    private const ulong ChunkSize = 128 * 1024;
    private static readonly PciAddress Ism = Rig.IsmAddress;

    [Test]
    public async Task ChunkSlots_CountsTheRegionsChunks()
    {
        await using Rig rig = Rig.Create();

        Assert.That(rig.Csr(Ism).ChunkSlots, Is.EqualTo((32u << 20) / ChunkSize));
    }

    [Test]
    public async Task UnmappedSlot_ReadsAllOnes_AndDropsWrites()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);

        rig.Platform.Write64(window + 0x40, 0x0123_4567_89ab_cdef);

        Assert.That(rig.Platform.Read64(window + 0x40), Is.EqualTo(ulong.MaxValue));
        Assert.That(Backing(rig, 0x40), Is.Zero);
    }

    [Test]
    public async Task MappedSlot_ReachesBackingMemoryAtItsAddress()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Csr(Ism).CommitChunk(3, 5 * ChunkSize, ChunkAccess.ReadWrite);

        rig.Platform.Write32(window + (3 * ChunkSize) + 0x10, 0xfeed_f00d);

        Assert.That(Backing(rig, (5 * ChunkSize) + 0x10), Is.EqualTo(0xfeed_f00dUL));
        Assert.That(rig.Platform.Read32(window + (3 * ChunkSize) + 0x10), Is.EqualTo(0xfeed_f00du));
    }

    [Test]
    public async Task ReadOnlySlot_ReadsBacking_ButDropsWrites()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Endpoint(Ism).Hardware.Backing!.Write(0, [0xaa, 0xbb]);
        rig.Csr(Ism).CommitChunk(0, 0, ChunkAccess.Valid | ChunkAccess.Read);

        rig.Platform.Write16(window, 0x1234);

        Assert.That(rig.Platform.Read16(window), Is.EqualTo(0xbbaa));
    }

    [Test]
    public async Task WriteOnlySlot_TakesWrites_ButReadsAllOnes()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Csr(Ism).CommitChunk(1, 0, ChunkAccess.Valid | ChunkAccess.Write);

        rig.Platform.Write8(window + ChunkSize, 0x5a);

        Assert.That(rig.Platform.Read8(window + ChunkSize), Is.EqualTo(0xff));
        Assert.That(Backing(rig, 0), Is.EqualTo(0x5aUL));
    }

    [Test]
    public async Task SlotWithoutTheValidBit_IsUnmapped()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Csr(Ism).CommitChunk(0, 0, ChunkAccess.Read | ChunkAccess.Write);

        rig.Platform.Write32(window, 0x1111_1111);

        Assert.That(rig.Platform.Read32(window), Is.EqualTo(uint.MaxValue));
        Assert.That(Backing(rig, 0), Is.Zero);
    }

    [Test]
    public async Task ChunkPastTheEndOfBackingMemory_StaysUnmapped()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        ulong backingLength = rig.Endpoint(Ism).Hardware.Backing!.Length;
        rig.Csr(Ism).CommitChunk(0, backingLength - (ChunkSize / 2), ChunkAccess.ReadWrite);

        Assert.That(rig.Platform.Read32(window), Is.EqualTo(uint.MaxValue));
    }

    [Test]
    public async Task RemappingASlot_ToNone_UnmapsIt()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Csr(Ism).CommitChunk(2, 0, ChunkAccess.ReadWrite);
        rig.Platform.Write32(window + (2 * ChunkSize), 7);

        rig.Csr(Ism).CommitChunk(2, 0, ChunkAccess.None);

        Assert.That(rig.Platform.Read32(window + (2 * ChunkSize)), Is.EqualTo(uint.MaxValue));
        Assert.That(Backing(rig, 0), Is.EqualTo(7UL));
    }

    [Test]
    public async Task TwoSlotsOnOneChunk_SeeEachOthersWrites()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Csr(Ism).CommitChunk(0, ChunkSize, ChunkAccess.ReadWrite);
        rig.Csr(Ism).CommitChunk(9, ChunkSize, ChunkAccess.Valid | ChunkAccess.Read);

        rig.Platform.Write64(window + 0x100, 42);

        Assert.That(rig.Platform.Read64(window + (9 * ChunkSize) + 0x100), Is.EqualTo(42UL));
    }

    private static ulong Regions(Rig rig)
    {
        ulong[] bars = rig.Setup(Ism);
        SharedMemoryRegion regions = rig.Endpoint(Ism).Hardware.Description.FindSharedMemory(IsmShmId.Regions)!;
        return bars[regions.Bar] + regions.Offset;
    }

    private static ulong Backing(Rig rig, ulong address)
    {
        var bytes = new byte[8];
        rig.Endpoint(Ism).Hardware.Backing!.Read(address, bytes);
        return BitConverter.ToUInt64(bytes);
    }
}
