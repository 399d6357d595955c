namespace VirtioHw.Model;

/// <summary>
/// The root complex as an endpoint sees it: the memory reads and writes the endpoint masters. DMA
/// uses both; an MSI message is a 4-byte write. The endpoint checks bus mastering before it asks.
/// </summary>
public interface IRootPort
{
    /// <summary>Reads system memory; false, copying nothing, when nothing answers at that address.</summary>
    bool TryMemoryRead(ulong address, Span<byte> destination);

    /// <summary>Writes system memory or delivers a message; false when nothing answers at that address.</summary>
    bool TryMemoryWrite(ulong address, ReadOnlySpan<byte> source);
}
