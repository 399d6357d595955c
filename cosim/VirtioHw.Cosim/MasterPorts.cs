namespace VirtioHw.Cosim;

/// <summary>
/// A top with the memory master port group (<c>mem_req_o</c> ... <c>mem_rdata_i</c>). The shim serves
/// it every cycle straight from the attached memory, without a call into C#: a request is acknowledged
/// in the cycle after it appears; bytes outside the attached block read 0xff and are not written.
/// </summary>
public interface IMemoryMaster
{
    /// <summary>Serves the port from <paramref name="length"/> bytes at <paramref name="address"/>, which the caller keeps alive and pinned; 0 detaches.</summary>
    void AttachMemory(nint address, ulong length);

    /// <summary>Serves the port from <paramref name="memory"/>, pinned until another block is attached or the top is disposed.</summary>
    void AttachMemory(Memory<byte> memory);

    /// <summary>Accesses that touched bytes outside the attached memory (reads gave 0xff there, writes were dropped).</summary>
    ulong OutsideAccesses { get; }
}

/// <summary>
/// A memory master whose requests marked <c>mem_sys_o</c> go to host system memory (a chunk slot
/// over a driver's buffer) rather than device memory. The shim serves them from a second attached
/// block placed at a bus address; outside it reads give all-ones and writes are dropped.
/// </summary>
public interface ISystemMemoryMaster
{
    /// <summary>Serves system-memory requests from <paramref name="length"/> bytes at <paramref name="address"/>, the bus range from <paramref name="busAddress"/>; the caller keeps them alive and pinned; 0 detaches.</summary>
    void AttachSystemMemory(ulong busAddress, nint address, ulong length);

    /// <summary>Serves system-memory requests from <paramref name="memory"/> at <paramref name="busAddress"/>, pinned until another block is attached or the top is disposed.</summary>
    void AttachSystemMemory(ulong busAddress, Memory<byte> memory);
}

/// <summary>A top with the MSI output (<c>msi_valid_o</c>, <c>msi_ready_i</c>, <c>msi_addr_o</c>, <c>msi_data_o</c>).</summary>
public interface IMsiSource
{
    /// <summary>Takes the oldest message the top sent, if any; the shim accepts every message and queues it.</summary>
    bool TryPopMsi(out ulong address, out uint data);
}

/// <summary>One AXI4-Lite slave port group of a top with several, as an <see cref="IAxiLiteSlave"/> of its own.</summary>
public sealed class AxiLiteSlavePort : IAxiLiteSlave
{
    private readonly Action<uint, uint, byte> _write;
    private readonly Func<uint, uint> _read;

    /// <param name="addressBits">Address bits of the port group.</param>
    /// <param name="write">The top's write call on the group.</param>
    /// <param name="read">The top's read call on the group.</param>
    public AxiLiteSlavePort(int addressBits, Action<uint, uint, byte> write, Func<uint, uint> read)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(read);
        AddressBits = addressBits;
        _write = write;
        _read = read;
    }

    public int AddressBits { get; }

    public AxiTiming Timing { get; set; }

    public void AxiWrite(uint address, uint data, byte strobe = 0xF) => _write(address, data, strobe);

    public uint AxiRead(uint address) => _read(address);
}
