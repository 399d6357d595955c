using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Model.Tests;

/// <summary>Block reads and writes (<see cref="Platform.ReadMemory(ulong, Span{byte})"/>) across chunk slots keep each slot's permissions.</summary>
public sealed class ChunkWindowBlockTests
{
    private const int ChunkSize = 128 * 1024;
    private static readonly PciAddress Ism = Rig.IsmAddress;

    [Test]
    public async Task BlockWrite_AcrossSlots_LandsInEachSlotsChunk_AndDropsTheUnwritableOnes()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Csr(Ism).CommitChunk(0, 7 * (ulong)ChunkSize, ChunkAccess.ReadWrite);
        rig.Csr(Ism).CommitChunk(1, 2 * (ulong)ChunkSize, ChunkAccess.Valid | ChunkAccess.Read);
        rig.Csr(Ism).CommitChunk(2, 4 * (ulong)ChunkSize, ChunkAccess.ReadWrite);
        byte[] data = Pattern((2 * ChunkSize) + 100);

        rig.Platform.WriteMemory(window + 13, data);

        byte[] first = BackingBytes(rig, (7 * (ulong)ChunkSize) + 13, ChunkSize - 13);
        byte[] third = BackingBytes(rig, 4 * (ulong)ChunkSize, 113);
        Assert.That(first, Is.EqualTo(data[..(ChunkSize - 13)]));
        Assert.That(BackingBytes(rig, 2 * (ulong)ChunkSize, ChunkSize), Is.All.Zero);
        Assert.That(third, Is.EqualTo(data[^113..]));
    }

    [Test]
    public async Task BlockRead_MatchesOneAccessAtATime_AllOnesWhereUnreadable()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Endpoint(Ism).Hardware.Backing!.Write(0, Pattern(2 * ChunkSize));
        rig.Csr(Ism).CommitChunk(0, ChunkSize, ChunkAccess.ReadWrite);
        rig.Csr(Ism).CommitChunk(1, 0, ChunkAccess.Valid | ChunkAccess.Write);
        rig.Csr(Ism).CommitChunk(2, 0, ChunkAccess.Valid | ChunkAccess.Read);
        int length = 5 + ChunkSize + 37;
        ulong start = window + (ChunkSize - 5);

        var block = new byte[length];
        rig.Platform.ReadMemory(start, block);

        var single = new byte[length];
        for (int i = 0; i < length; i++)
        {
            single[i] = rig.Platform.Read8(start + (ulong)i);
        }

        Assert.That(block, Is.EqualTo(single));
        Assert.That(block[5..(5 + ChunkSize)], Is.All.EqualTo(0xff));
        Assert.That(block[^1], Is.EqualTo(Pattern(2 * ChunkSize)[36]));
    }

    [Test]
    public async Task BlockWrite_ThroughSlotsOfAdjacentChunks_StopsWhereTheAccessChanges()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        rig.Csr(Ism).CommitChunk(0, 2 * (ulong)ChunkSize, ChunkAccess.ReadWrite);
        rig.Csr(Ism).CommitChunk(1, 3 * (ulong)ChunkSize, ChunkAccess.ReadWrite);
        rig.Csr(Ism).CommitChunk(2, 4 * (ulong)ChunkSize, ChunkAccess.Valid | ChunkAccess.Read);
        rig.Csr(Ism).CommitChunk(3, 5 * (ulong)ChunkSize, ChunkAccess.ReadWrite);
        byte[] data = Pattern(4 * ChunkSize);

        rig.Platform.WriteMemory(window, data);

        Assert.That(BackingBytes(rig, 2 * (ulong)ChunkSize, 2 * ChunkSize), Is.EqualTo(data[..(2 * ChunkSize)]));
        Assert.That(BackingBytes(rig, 4 * (ulong)ChunkSize, ChunkSize), Is.All.Zero);
        Assert.That(BackingBytes(rig, 5 * (ulong)ChunkSize, ChunkSize), Is.EqualTo(data[(3 * ChunkSize)..]));
    }

    [Test]
    public async Task BlockRead_ThroughAdjacentChunks_ToTheWindowsEnd_MatchesTheBacking()
    {
        await using Rig rig = Rig.Create();
        ulong window = Regions(rig);
        uint slots = rig.Csr(Ism).ChunkSlots;
        byte[] data = Pattern(3 * ChunkSize);
        rig.Endpoint(Ism).Hardware.Backing!.Write(6 * (ulong)ChunkSize, data);
        for (uint i = 0; i < 3; i++)
        {
            rig.Csr(Ism).CommitChunk(slots - 3 + i, (6 + i) * (ulong)ChunkSize, ChunkAccess.ReadWrite);
        }

        var block = new byte[(3 * ChunkSize) - 11];
        rig.Platform.ReadMemory(window + ((ulong)(slots - 3) * ChunkSize) + 11, block);

        Assert.That(block, Is.EqualTo(data[11..]));
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 7) + (i >> 8) + 1);
        }

        return bytes;
    }

    private static ulong Regions(Rig rig)
    {
        ulong[] bars = rig.Setup(Ism);
        SharedMemoryRegion regions = rig.Endpoint(Ism).Hardware.Description.FindSharedMemory(IsmShmId.Regions)!;
        return bars[regions.Bar] + regions.Offset;
    }

    private static byte[] BackingBytes(Rig rig, ulong address, int length)
    {
        var bytes = new byte[length];
        rig.Endpoint(Ism).Hardware.Backing!.Read(address, bytes);
        return bytes;
    }
}
