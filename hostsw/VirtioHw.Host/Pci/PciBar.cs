namespace VirtioHw.Host.Pci;

/// <summary>What a BAR decodes.</summary>
public enum PciBarKind
{
    /// <summary>A 32-bit memory BAR.</summary>
    Memory32,

    /// <summary>A 64-bit memory BAR; it uses the next BAR slot for its upper half.</summary>
    Memory64,

    /// <summary>An I/O BAR.</summary>
    Io,
}

/// <summary>
/// One implemented base address register of a function, as sized at enumeration and placed by
/// <see cref="PciResourceAssigner"/>. Immutable: assignment produces a new value.
/// </summary>
/// <param name="Index">The BAR slot, 0-5 (the lower slot of a 64-bit BAR).</param>
/// <param name="Kind">Memory (32- or 64-bit) or I/O.</param>
/// <param name="Prefetchable">The memory BAR is prefetchable.</param>
/// <param name="Size">Bytes the BAR decodes: a power of two.</param>
/// <param name="Address">The bus address programmed into the BAR.</param>
public sealed record PciBar(int Index, PciBarKind Kind, bool Prefetchable, ulong Size, ulong Address)
{
    public bool IsMemory => Kind != PciBarKind.Io;

    public bool Is64Bit => Kind == PciBarKind.Memory64;

    /// <summary>The BAR holds an address (0 is where an unassigned BAR sits after reset).</summary>
    public bool IsAssigned => Address != 0;

    /// <summary>The last bus address the BAR decodes.</summary>
    public ulong LastAddress => Address + (Size - 1);

    /// <summary>True when <paramref name="length"/> bytes at <paramref name="offset"/> lie inside the BAR, without overflow.</summary>
    public bool Contains(ulong offset, ulong length) => offset <= Size && length <= Size - offset;

    /// <summary>How lspci describes the BAR: "Memory at fe000000 (64-bit, prefetchable) [size=1M]".</summary>
    public override string ToString()
    {
        string where = IsAssigned ? $"at {Address:x}" : "(unassigned)";
        string size = PciFormat.Size(Size);
        return Kind == PciBarKind.Io
            ? $"I/O ports {where} [size={size}]"
            : $"Memory {where} ({(Is64Bit ? "64-bit" : "32-bit")}, {(Prefetchable ? "prefetchable" : "non-prefetchable")}) [size={size}]";
    }
}
