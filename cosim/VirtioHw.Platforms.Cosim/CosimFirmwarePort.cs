using VirtioHw.Firmware;

namespace VirtioHw.Platforms.Cosim;

/// <summary>
/// The firmware's side of an RTL endpoint: each CSR access is one AXI4-Lite access on the fw_
/// port; DMA reaches the platform's system memory while config space allows bus mastering; the
/// event wake-up follows fw_irq_o.
/// </summary>
internal sealed class CosimFirmwarePort(CosimEndpoint endpoint) : IDeviceHal
{
    public uint ReadCsr(uint offset) => endpoint.ReadCsr(offset);

    public void WriteCsr(uint offset, uint value, uint strobe = 0xF) => endpoint.WriteCsr(offset, value, strobe);

    public bool DmaRead(ulong busAddress, Span<byte> destination) => endpoint.DmaRead(busAddress, destination);

    public bool DmaWrite(ulong busAddress, ReadOnlySpan<byte> source) => endpoint.DmaWrite(busAddress, source);

    public ValueTask WaitForEventAsync(CancellationToken cancellationToken) => endpoint.WaitForEventAsync(cancellationToken);
}
