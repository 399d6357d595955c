namespace VirtioHw.Firmware;

/// <summary>
/// The firmware's only window on the endpoint hardware: its CSR port (the <c>fw_csr</c> block of
/// hw/regs/fw_csr.rdl), bus-master DMA into system memory, and a wake-up when the event FIFO has
/// something in it. The model, the co-simulated RTL and a SmartNIC core each implement it.
/// </summary>
public interface IDeviceHal
{
    /// <summary>Reads the 32-bit CSR word holding <paramref name="offset"/> (an <c>FwCsr.*.Offset</c>).</summary>
    uint ReadCsr(uint offset);

    /// <summary>Writes the CSR word holding <paramref name="offset"/>; <paramref name="strobe"/> selects its bytes.</summary>
    void WriteCsr(uint offset, uint value, uint strobe = 0xF);

    /// <summary>
    /// Copies <c>destination.Length</c> bytes of system memory at <paramref name="busAddress"/>.
    /// False, copying nothing, when the range is not system memory or bus mastering is off.
    /// </summary>
    bool DmaRead(ulong busAddress, Span<byte> destination);

    /// <summary>Copies <paramref name="source"/> into system memory; false as for <see cref="DmaRead"/>.</summary>
    bool DmaWrite(ulong busAddress, ReadOnlySpan<byte> source);

    /// <summary>Completes once the event FIFO is not empty (at once when it already is not).</summary>
    ValueTask WaitForEventAsync(CancellationToken cancellationToken);
}
