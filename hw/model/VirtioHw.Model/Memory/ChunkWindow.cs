using System.Buffers.Binary;
using System.Diagnostics;
using VirtioHw.Firmware;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// A shared memory region made of chunk slots. Firmware loads the chunk table one slot at a time
/// (chunk_index, chunk_perm, chunk_addr, then chunk_commit); an access to a slot reaches backing
/// memory at the slot's address only when the slot is valid and grants that access. Otherwise a
/// read returns all-ones and a write is dropped. A slot with chunk_perm.system maps host system
/// memory instead (a driver's buffer): the access becomes the endpoint's DMA at the slot's bus
/// address, so it needs bus mastering, and memory that does not answer reads all-ones.
/// </summary>
internal sealed class ChunkWindow : IRunMemoryTarget
{
    /// <summary>A system-memory slot's bus address is page-aligned and below 2^48, as the RTL keeps it as a page number.</summary>
    internal const int SystemAddressBits = 48;

    internal const int SystemPageShift = 12;

    private readonly SharedMemoryBacking _backing;
    private readonly EndpointModel _endpoint;
    private readonly FwCsrModel _csr;
    private readonly Slot[] _slots;
    private readonly int _chunkShift;
    private readonly ulong _chunkMask;

    /// <param name="region">The chunk region of the description: its length and chunk size.</param>
    /// <param name="backing">The device memory non-system slots map.</param>
    /// <param name="endpoint">The endpoint the window belongs to: its fw_csr chunk table, and its DMA for system-memory slots.</param>
    public ChunkWindow(SharedMemoryRegion region, SharedMemoryBacking backing, EndpointModel endpoint)
    {
        Debug.Assert(region.Kind == SharedMemoryKind.Chunks && ulong.IsPow2(region.GranuleSize), "validated description");
        _backing = backing;
        _endpoint = endpoint;
        FwCsrModel csr = endpoint.Csr;
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
        if (!Grants(slot, ChunkAccess.Read))
        {
            return ByteLanes.Ones(width);
        }

        ulong address = slot.Address + (offset & _chunkMask);
        if ((slot.Access & ChunkAccess.System) == 0)
        {
            return _backing.Read(address, width);
        }

        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        bytes.Clear();
        return MasterRead(address, bytes[..width]) ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : ByteLanes.Ones(width);
    }

    public void Write(ulong offset, int width, ulong value)
    {
        ref readonly Slot slot = ref _slots[offset >> _chunkShift];
        if (!Grants(slot, ChunkAccess.Write))
        {
            return;
        }

        ulong address = slot.Address + (offset & _chunkMask);
        if ((slot.Access & ChunkAccess.System) == 0)
        {
            _backing.Write(address, width, value);
            return;
        }

        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        MasterWrite(address, bytes[..width]);
    }

    /// <summary>To the end of the slot at <paramref name="offset"/> (or of the slots that continue it), with that slot's permissions.</summary>
    public int ReadRun(ulong offset, Span<byte> destination)
    {
        ref readonly Slot slot = ref _slots[offset >> _chunkShift];
        Span<byte> run = destination[..RunLength(offset, destination.Length)];
        ulong address = slot.Address + (offset & _chunkMask);
        if (!Grants(slot, ChunkAccess.Read))
        {
            run.Fill(0xff);
        }
        else if ((slot.Access & ChunkAccess.System) == 0)
        {
            _backing.Read(address, run);
        }
        else if (!MasterRead(address, run))
        {
            run.Fill(0xff);
        }

        return run.Length;
    }

    /// <summary>To the end of the slot at <paramref name="offset"/> (or of the slots that continue it), with that slot's permissions.</summary>
    public int WriteRun(ulong offset, ReadOnlySpan<byte> source)
    {
        ref readonly Slot slot = ref _slots[offset >> _chunkShift];
        ReadOnlySpan<byte> run = source[..RunLength(offset, source.Length)];
        ulong address = slot.Address + (offset & _chunkMask);
        if (Grants(slot, ChunkAccess.Write))
        {
            if ((slot.Access & ChunkAccess.System) == 0)
            {
                _backing.Write(address, run);
            }
            else
            {
                MasterWrite(address, run);
            }
        }

        return run.Length;
    }

    private static bool Grants(in Slot slot, ChunkAccess needed) => (slot.Access & (ChunkAccess.Valid | needed)) == (ChunkAccess.Valid | needed);

    // System memory through the endpoint's bus master port, which is off until the driver enables bus mastering.
    private bool MasterRead(ulong address, Span<byte> destination) =>
        _endpoint.BusMasterEnabled && _endpoint.Upstream.TryMemoryRead(address, destination);

    private void MasterWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (_endpoint.BusMasterEnabled)
        {
            _endpoint.Upstream.TryMemoryWrite(address, source);
        }
    }

    /// <summary>
    /// The bytes from <paramref name="offset"/> to the end of its slot, and on through the next slots
    /// while each maps the next chunk of device memory with the same access: one copy instead of one
    /// per chunk, so a large block is one memmove (which then picks its large-copy strategy, such as
    /// non-temporal stores) rather than hundreds of chunk-sized ones. System-memory slots stay one
    /// run per slot: each is a DMA request of its own on the bus.
    /// </summary>
    private int RunLength(ulong offset, int length)
    {
        int index = (int)(offset >> _chunkShift);
        Slot first = _slots[index];
        ulong chunk = _chunkMask + 1;
        ulong run = chunk - (offset & _chunkMask);
        if ((first.Access & (ChunkAccess.Valid | ChunkAccess.System)) == ChunkAccess.Valid)
        {
            ulong next = first.Address + chunk;
            while (run < (ulong)length && ++index < _slots.Length && _slots[index] == first with { Address = next })
            {
                run += chunk;
                next += chunk;
            }
        }

        return (int)Math.Min((ulong)length, run);
    }

    private void Commit()
    {
        uint index = _csr.ChunkIndex;
        if (index >= (uint)_slots.Length)
        {
            return;
        }

        ChunkAccess access = (_csr.ChunkPermValid ? ChunkAccess.Valid : 0)
            | (_csr.ChunkPermRead ? ChunkAccess.Read : 0)
            | (_csr.ChunkPermWrite ? ChunkAccess.Write : 0)
            | (_csr.ChunkPermSystem ? ChunkAccess.System : 0);
        ulong address = _csr.ChunkAddr;

        // A chunk that does not lie wholly in backing memory is never mapped, so accesses need no
        // range check; a system-memory chunk must start on a page below 2^48, which the RTL can hold.
        bool mappable = (access & ChunkAccess.System) != 0
            ? address % (1UL << SystemPageShift) == 0 && address >> SystemAddressBits == 0
            : _backing.Contains(address, _chunkMask + 1);
        if (!mappable)
        {
            access = ChunkAccess.None;
            address = 0;
        }

        _slots[index] = new Slot(address, access);
    }

    private readonly record struct Slot(ulong Address, ChunkAccess Access);
}
