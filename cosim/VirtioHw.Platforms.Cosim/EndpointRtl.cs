using System.Diagnostics;
using VirtioHw.Cosim;
using VirtioHw.Model;

namespace VirtioHw.Platforms.Cosim;

/// <summary>
/// An endpoint top's generated binding as <see cref="IEndpointRtl"/>: its AXI4-Lite slaves by
/// port, the memory master, the MSI queue and fw_irq_o. <see cref="Create"/> picks the top of a
/// description (hw/rtl/endpoint: <c>ism_endpoint_top</c>, <c>ivshmem_endpoint_top</c>,
/// <c>dmabuf_endpoint_top</c>, <c>ism_mmio_endpoint_top</c>).
/// </summary>
internal sealed class EndpointRtl : IEndpointRtl
{
    private readonly CosimTop _top;
    private readonly IAxiLiteSlave?[] _ports;
    private readonly IMemoryMaster? _memory;
    private readonly IMsiSource _msi;
    private readonly Func<bool> _irq;
    private readonly Action<ulong, uint>? _route;

    // Fault injection: request valids (port index in the top) held low from a clock cycle on.
    private readonly List<(int Index, ulong From)> _stalled = [];
    private string? _trace;

    // memory is null for a top without a memory master (no BAR2 window).
    // route is the virtio-mmio top's interrupt routing (msi_route_*_i); null for a PCI top.
    private EndpointRtl(CosimTop top, IMemoryMaster? memory, IMsiSource msi, Func<bool> irq, IAxiLiteSlave?[] ports, Action<ulong, uint>? route = null)
    {
        _route = route;
        Debug.Assert(ports.Length == Enum.GetValues<RtlPort>().Length, "one entry per RtlPort");
        _top = top;
        _memory = memory;
        _msi = msi;
        _irq = irq;
        _ports = ports;
    }

    public string TopName => _top.Name;

    public ulong Cycle => _top.Cycle;

    public uint TimeoutCycles
    {
        get => _top.TimeoutCycles;
        set => _top.TimeoutCycles = value;
    }

    public bool FirmwareInterrupt => _irq();

    /// <summary>The top name of the RTL that implements <paramref name="description"/>, or null when there is none.</summary>
    public static string? TryTopFor(EndpointDescription description, bool mmio) => (description.Personality, mmio) switch
    {
        (EndpointPersonality.Ism, false) => "ism_endpoint_top",
        (EndpointPersonality.Ism, true) => "ism_mmio_endpoint_top",
        (EndpointPersonality.Ivshmem, false) => "ivshmem_endpoint_top",
        (EndpointPersonality.Dmabuf, false) => "dmabuf_endpoint_top",
        _ => null,
    };

    /// <summary>Whether the platform drives <paramref name="top"/> (it has an adapter below).</summary>
    public static bool IsAdapted(string top) => top is IsmEndpointTop.TopName or DmabufEndpointTop.TopName or IvshmemEndpointTop.TopName or IsmMmioEndpointTop.TopName;

    /// <summary>A new instance of the top of <paramref name="description"/>, through reset.</summary>
    /// <exception cref="CosimLibraryException">Its library is not built: one line saying to run <c>make cosim</c>.</exception>
    public static IEndpointRtl Create(EndpointDescription description, bool mmio, uint ivPosition)
    {
        string top = TryTopFor(description, mmio)
            ?? throw new ArgumentException($"{description.Name}: no RTL endpoint top for a {description.Personality} device{(mmio ? " behind virtio-mmio" : "")}");
        if (!CosimTops.Names.Contains(top))
        {
            throw new CosimLibraryException($"{top} is not part of this build's RTL (no hw/rtl/endpoint/{top}.sv when the bindings were generated)");
        }

        CosimLibrary.Require(top);
        return top switch
        {
            IsmEndpointTop.TopName => Ism(new IsmEndpointTop()),
            DmabufEndpointTop.TopName => Dmabuf(new DmabufEndpointTop()),
            IvshmemEndpointTop.TopName => Ivshmem(new IvshmemEndpointTop(), ivPosition),
            IsmMmioEndpointTop.TopName => IsmMmio(new IsmMmioEndpointTop()),
            _ => throw new CosimLibraryException($"{top} has a binding but no platform adapter"),
        };
    }

    // Port order: Config, Bar0, Bar1, Bar2, Firmware, Mmio, Shm.
    private static EndpointRtl Ism(IsmEndpointTop t) => new(t, t, t, () => t.FwIrqO, [t.Cfg, t.Bar0, t.Bar1, t.Bar2, t.Fw, null, null]);

    // No BAR2 in virtio-dmabuf.yaml: no bar2_ port and no memory master.
    private static EndpointRtl Dmabuf(DmabufEndpointTop t) => new(t, null, t, () => t.FwIrqO, [t.Cfg, t.Bar0, t.Bar1, null, t.Fw, null, null]);

    // IVPosition reads iv_position_i: the peer id the platform assigns, driven before the first access.
    private static EndpointRtl Ivshmem(IvshmemEndpointTop t, uint ivPosition)
    {
        t.IvPositionI = ivPosition;
        t.Eval();
        return new(t, t, t, () => t.FwIrqO, [t.Cfg, t.Bar0, t.Bar1, t.Bar2, t.Fw, null, null]);
    }

    // The interrupt line becomes one message per raised cause once routed, as the model's RouteInterrupt.
    private static EndpointRtl IsmMmio(IsmMmioEndpointTop t) => new(t, t, t, () => t.FwIrqO, [null, null, null, null, t.Fw, t.Mmio, t.Shm], (address, data) =>
    {
        t.MsiRouteAddrI = address;
        t.MsiRouteDataI = data;
        t.MsiRouteEnI = true;
        t.Eval();
    });

    public void RouteInterrupt(ulong messageAddress, uint messageData) =>
        (_route ?? throw new InvalidOperationException($"{_top.Name} has no interrupt line to route"))(messageAddress, messageData);

    public uint Read(RtlPort port, uint offset) => Port(port).AxiRead(offset);

    public void Write(RtlPort port, uint offset, uint data, byte strobe) => Port(port).AxiWrite(offset, data, strobe);

    public void Tick(uint cycles) => _top.Tick(cycles);

    /// <summary>
    /// From <paramref name="fromCycle"/> on, the cycle hook drives awvalid, wvalid and arvalid of
    /// <paramref name="port"/> low before every rising edge, after the bus-functional layer raised
    /// them: the slave never sees a request, and the access times out as on a hung link.
    /// </summary>
    public void Stall(RtlPort port, ulong fromCycle)
    {
        if (_ports[(int)port] is null)
        {
            return;
        }

        string prefix = PortPrefix(port);
        foreach (string valid in (ReadOnlySpan<string>)["awvalid_i", "wvalid_i", "arvalid_i"])
        {
            _stalled.Add((_top.PortIndex(prefix + valid), fromCycle));
        }

        _top.CycleHook ??= HoldStalledRequestsLow;
    }

    private void HoldStalledRequestsLow()
    {
        ReadOnlySpan<uint> low = [0u];
        ulong now = _top.Cycle;
        foreach ((int index, ulong from) in _stalled)
        {
            if (now >= from)
            {
                _top.SetPort(index, low);
            }
        }
    }

    private static string PortPrefix(RtlPort port) => port switch
    {
        RtlPort.Config => "cfg_",
        RtlPort.Bar0 => "bar0_",
        RtlPort.Bar1 => "bar1_",
        RtlPort.Bar2 => "bar2_",
        RtlPort.Firmware => "fw_",
        RtlPort.Mmio => "mmio_",
        _ => "shm_",
    };

    public bool TryPopMsi(out ulong address, out uint data) => _msi.TryPopMsi(out address, out data);

    public unsafe void AttachMemory(DeviceMemory memory) =>
        (_memory ?? throw new InvalidOperationException($"{_top.Name} has no memory master")).AttachMemory((nint)memory.Base, memory.Length);

    public bool AttachSystemMemory(ulong busAddress, nint address, ulong length)
    {
        if (_top is not ISystemMemoryMaster master)
        {
            return false;
        }

        master.AttachSystemMemory(busAddress, address, length);
        return true;
    }

    /// <summary>Starts the waveform <paramref name="path"/>: FST, or VCD converted from an FST when it closes.</summary>
    public void OpenTrace(string path)
    {
        _top.OpenTrace(Waveforms.VcdConversion.IsVcd(path) ? Waveforms.VcdConversion.IntermediateFst(path) : path);
        _trace = path;
    }

    /// <summary>
    /// Closes the waveform, converts it if a VCD was asked for, and writes its GTKWave save file
    /// beside it (<see cref="Waveforms.GtkwaveSaveFile"/>).
    /// </summary>
    /// <exception cref="IOException">The VCD conversion failed; the FST is kept and the message names it.</exception>
    public void CloseTrace()
    {
        _top.CloseTrace();
        if (_trace is not { } trace)
        {
            return;
        }

        _trace = null;
        string fst = Waveforms.VcdConversion.IsVcd(trace) ? Waveforms.VcdConversion.IntermediateFst(trace) : trace;
        try
        {
            // Once the waveform is closed its hierarchy is complete: the save file names what it holds.
            Waveforms.GtkwaveSaveFile.WriteBeside(fst, trace);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // The waveform itself is intact; the save file is a convenience beside it.
        }

        if (fst != trace)
        {
            Waveforms.VcdConversion.Convert(fst, trace);
            File.Delete(fst);
        }
    }

    public void Dispose()
    {
        CloseTrace();
        _top.Dispose();
    }

    private IAxiLiteSlave Port(RtlPort port) =>
        _ports[(int)port] ?? throw new InvalidOperationException($"{_top.Name} has no {port} port");
}
