namespace VirtioHw.Platforms.Cosim;

/// <summary>The AXI4-Lite slave ports of an endpoint top (hw/rtl/endpoint/README.md).</summary>
internal enum RtlPort
{
    /// <summary><c>cfg_</c>: PCI configuration space.</summary>
    Config,

    /// <summary><c>bar0_</c>, <c>bar1_</c>, <c>bar2_</c>: offsets inside the BAR.</summary>
    Bar0,
    Bar1,
    Bar2,

    /// <summary><c>fw_</c>: the firmware CSR port.</summary>
    Firmware,

    /// <summary><c>mmio_</c>: the virtio-mmio register file and device configuration.</summary>
    Mmio,

    /// <summary><c>shm_</c>: the virtio-mmio shared memory window (offsets inside the BAR holding the regions).</summary>
    Shm,
}

/// <summary>
/// One Verilated endpoint top as the platform drives it: one whole AXI4-Lite access per call on a
/// slave port, the memory master served from attached memory, the MSI queue, the firmware
/// interrupt and the waveform. Not thread-safe: the caller serialises every call.
/// </summary>
internal interface IEndpointRtl : IDisposable
{
    /// <summary>The top module, for messages.</summary>
    string TopName { get; }

    ulong Cycle { get; }

    /// <summary>Cycles an access may take before it fails with a timeout.</summary>
    uint TimeoutCycles { get; set; }

    /// <summary>One read of the 32-bit word at <paramref name="offset"/> (4-byte aligned) of <paramref name="port"/>.</summary>
    uint Read(RtlPort port, uint offset);

    /// <summary>One write of the word at <paramref name="offset"/>; <paramref name="strobe"/> selects its bytes.</summary>
    void Write(RtlPort port, uint offset, uint data, byte strobe);

    /// <summary>Runs <paramref name="cycles"/> clock cycles with no access.</summary>
    void Tick(uint cycles);

    /// <summary>
    /// Fault injection: from clock cycle <paramref name="fromCycle"/> on, <paramref name="port"/>
    /// takes no request (its valid inputs are held low), so every access on it times out. A port
    /// the top does not have is left alone.
    /// </summary>
    void Stall(RtlPort port, ulong fromCycle);

    /// <summary>A virtio-mmio top: every interrupt cause raised from now on is one message to <paramref name="messageAddress"/> with <paramref name="messageData"/>.</summary>
    void RouteInterrupt(ulong messageAddress, uint messageData);

    /// <summary><c>fw_irq_o</c>: the firmware event FIFO is not empty.</summary>
    bool FirmwareInterrupt { get; }

    /// <summary>Takes the oldest MSI message the top sent, if any.</summary>
    bool TryPopMsi(out ulong address, out uint data);

    /// <summary>Serves the memory master port from <paramref name="memory"/> from now on.</summary>
    void AttachMemory(DeviceMemory memory);

    /// <summary>
    /// Serves the memory master's system-memory requests (<c>mem_sys_o</c>: chunk slots over a
    /// driver's buffer) from <paramref name="length"/> bytes at <paramref name="address"/>, bus
    /// addresses from <paramref name="busAddress"/>; false for a top that makes none.
    /// </summary>
    bool AttachSystemMemory(ulong busAddress, nint address, ulong length);

    /// <summary>Starts an FST waveform of every signal at <paramref name="path"/>.</summary>
    void OpenTrace(string path);

    void CloseTrace();
}
