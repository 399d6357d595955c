using VirtioHw.Registers;

namespace VirtioHw.Firmware;

/// <summary>What the host may do with a chunk slot of the shared memory window (<c>chunk_perm</c>).</summary>
[Flags]
public enum ChunkAccess : uint
{
    /// <summary>The slot is unmapped: reads return all-ones and writes are dropped.</summary>
    None = 0,

    Read = (uint)FwCsr.ChunkPerm.Read.Mask,

    Write = (uint)FwCsr.ChunkPerm.Write.Mask,

    /// <summary>The slot is mapped; without it the other bits have no effect.</summary>
    Valid = (uint)FwCsr.ChunkPerm.Valid.Mask,

    /// <summary>The slot maps host system memory at a bus address (a driver's buffer) instead of backing memory.</summary>
    System = (uint)FwCsr.ChunkPerm.System.Mask,

    ReadWrite = Valid | Read | Write,
}
