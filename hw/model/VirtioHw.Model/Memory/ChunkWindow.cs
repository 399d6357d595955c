using System.Diagnostics;
using VirtioHw.Firmware;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// A shared memory region made of chunk slots. Firmware loads the chunk table one slot at a time
/// (chunk_index, chunk_perm, chunk_addr, then chunk_commit); an access to a slot reaches backing
/// memory at the slot's address only when the slot is valid and grants that access. Otherwise a
/// read returns all-ones and a write is dropped.
/// </summary>
internal sealed class ChunkWindow : IRunMemoryTarget
{
    private readonly SharedMemoryBacking _backing;
    private readonly FwCsrModel _csr;
    private readonly Slot[] _slots;
    private readonly int _chunkShift;
    private readonly ulong _chunkMask;

    public ChunkWindow(SharedMemoryRegion region, SharedMemoryBacking backing, FwCsrModel csr)
    {
        Debug.Assert(region.Kind == SharedMemoryKind.Chunks && ulong.IsPow2(region.GranuleSize), "validated description");
        _backing = backing;
        _csr = csr;
        _chunkShift = (int)ulong.Log2(region.GranuleSize);
        _chunkMask = region.GranuleSize - 1;
        _slots = new Slot[region.Length >> _chunkShift];
        csr.SetChunkSlots((uint)_slots.Length);
        csr.ChunkCommitPulsed += (_, e) =>
        {
            if (e.Value != 0)
            {
                Commit();
            }
        };
    }

    public ulong Read(ulong offset, int width)
    {
        ref readonly Slot slot = ref _slots[offset >> _chunkShift];
        return (slot.Access & (ChunkAccess.Valid | ChunkAccess.Read)) == (ChunkAccess.Valid | ChunkAccess.Read)
            ? _backing.Read(slot.Address + (offset & _chunkMask), width)
            : ByteLanes.Ones(width);
    }

    public void Write(ulong offset, int width, ulong value)
    {
        ref readonly Slot slot = ref _slots[offset >> _chunkShift];
        if ((slot.Access & (ChunkAccess.Valid | ChunkAccess.Write)) == (ChunkAccess.Valid | ChunkAccess.Write))
        {
            _backing.Write(slot.Address + (offset & _chunkMask), width, value);
        }
    }

    /// <summary>To the end of the slot at <paramref name="offset"/>, with that slot's permissions.</summary>
    public int ReadRun(ulong offset, Span<byte> destination)
    {
        ref readonly Slot slot = ref _slots[offset >> _chunkShift];
        Span<byte> run = destination[..RunLength(offset, destination.Length)];
        if ((slot.Access & (ChunkAccess.Valid | ChunkAccess.Read)) == (ChunkAccess.Valid | ChunkAccess.Read))
        {
            _backing.Read(slot.Address + (offset & _chunkMask), run);
        }
        else
        {
            run.Fill(0xff);
        }

        return run.Length;
    }

    /// <summary>To the end of the slot at <paramref name="offset"/>, with that slot's permissions.</summary>
    public int WriteRun(ulong offset, ReadOnlySpan<byte> source)
    {
        ref readonly Slot slot = ref _slots[offset >> _chunkShift];
        ReadOnlySpan<byte> run = source[..RunLength(offset, source.Length)];
        if ((slot.Access & (ChunkAccess.Valid | ChunkAccess.Write)) == (ChunkAccess.Valid | ChunkAccess.Write))
        {
            _backing.Write(slot.Address + (offset & _chunkMask), run);
        }

        return run.Length;
    }

    private int RunLength(ulong offset, int length) => (int)Math.Min((ulong)length, _chunkMask + 1 - (offset & _chunkMask));

    private void Commit()
    {
        uint index = _csr.ChunkIndex;
        if (index >= (uint)_slots.Length)
        {
            return;
        }

        ChunkAccess access = (_csr.ChunkPermValid ? ChunkAccess.Valid : 0)
            | (_csr.ChunkPermRead ? ChunkAccess.Read : 0)
            | (_csr.ChunkPermWrite ? ChunkAccess.Write : 0);
        ulong address = _csr.ChunkAddr;

        // A chunk that does not lie wholly in backing memory is never mapped, so accesses need no range check.
        if (!_backing.Contains(address, _chunkMask + 1))
        {
            access = ChunkAccess.None;
        }

        _slots[index] = new Slot(address, access);
    }

    private readonly record struct Slot(ulong Address, ChunkAccess Access);
}
