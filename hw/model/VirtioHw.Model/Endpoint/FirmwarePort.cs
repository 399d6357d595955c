using VirtioHw.Firmware;

namespace VirtioHw.Model;

/// <summary>
/// The firmware's side of an endpoint: CSR accesses reach the fw_csr block under the endpoint's
/// lock, as the firmware core's bus port would; DMA goes to the root complex only while the
/// endpoint may master the bus.
/// </summary>
internal sealed class FirmwarePort(EndpointModel endpoint) : IDeviceHal
{
    public uint ReadCsr(uint offset)
    {
        lock (endpoint.Sync)
        {
            return endpoint.Csr.Read(offset);
        }
    }

    public void WriteCsr(uint offset, uint value, uint strobe = 0xF)
    {
        lock (endpoint.Sync)
        {
            endpoint.Csr.Write(offset, value, strobe);
            endpoint.AfterAccess();
        }
    }

    public bool DmaRead(ulong busAddress, Span<byte> destination) =>
        MayMaster() && endpoint.Upstream.TryMemoryRead(busAddress, destination);

    public bool DmaWrite(ulong busAddress, ReadOnlySpan<byte> source) =>
        MayMaster() && endpoint.Upstream.TryMemoryWrite(busAddress, source);

    public ValueTask WaitForEventAsync(CancellationToken cancellationToken) =>
        endpoint.Events.WaitAsync(cancellationToken);

    private bool MayMaster()
    {
        lock (endpoint.Sync)
        {
            return endpoint.BusMasterEnabled;
        }
    }
}
