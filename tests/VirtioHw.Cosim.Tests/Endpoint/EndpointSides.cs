using System.Buffers.Binary;
using VirtioHw.Model;

namespace VirtioHw.Cosim.Tests.Endpoint;

/// <summary>One access: a port, an offset in it, 1, 2 or 4 bytes (naturally aligned), and a value for a write.</summary>
internal readonly record struct EndpointAccess(EndpointPort Port, bool Write, uint Offset, int Width, uint Value)
{
    public uint Mask => Width == 4 ? uint.MaxValue : (1u << (8 * Width)) - 1;
}

/// <summary>What an endpoint did for one access: read data, and the MSI messages it has sent since the last.</summary>
internal interface IEndpointSide : IDisposable
{
    uint Access(EndpointAccess access);

    /// <summary>MSI messages sent since the last call, oldest first.</summary>
    List<(ulong Address, uint Data)> TakeMessages();

    /// <summary>The backing memory behind the shared memory windows.</summary>
    byte[] Memory { get; }
}

/// <summary>
/// The C# model: config space through ReadConfig/WriteConfig, BARs at the bus addresses the host
/// programmed into the model's own BARs, the firmware CSR port through its IDeviceHal. MSI-X
/// messages are the 4-byte writes the model makes upstream. A virtio description gives a
/// VirtioPciEndpointModel, an ivshmem one an IvshmemEndpointModel with peer id <c>ivPosition</c>.
/// </summary>
internal sealed class ModelEndpointSide : IEndpointSide, IRootPort
{
    private readonly PciEndpointModel _model;
    private readonly List<(ulong, uint)> _messages = [];

    public ModelEndpointSide(EndpointDescription description, uint? ivPosition = null)
    {
        Memory = new byte[description.BackingMemory];
        SharedMemoryBacking? backing = Memory.Length == 0 ? null : new SharedMemoryBacking(Memory);
        _model = description.Ivshmem is not null
            ? new IvshmemEndpointModel(description, this, ivPosition, backing)
            : new VirtioPciEndpointModel(description, this, backing);
    }

    public byte[] Memory { get; }

    public IReadOnlyList<CapabilityPlacement> Capabilities => _model.Function.Capabilities;

    public uint Access(EndpointAccess a)
    {
        switch (a.Port)
        {
            case EndpointPort.Cfg:
                if (a.Write) _model.WriteConfig((int)a.Offset, a.Width, a.Value & a.Mask);
                return a.Write ? 0 : _model.ReadConfig((int)a.Offset, a.Width);
            case EndpointPort.Fw:
            {
                int lane = (int)(a.Offset & 3);
                if (a.Write)
                {
                    _model.Hal.WriteCsr(a.Offset & ~3u, (a.Value & a.Mask) << (8 * lane), ((1u << a.Width) - 1) << lane);
                    return 0;
                }
                return (_model.Hal.ReadCsr(a.Offset & ~3u) >> (8 * lane)) & a.Mask;
            }
            default:
            {
                int bar = a.Port - EndpointPort.Bar0;
                ulong address = _model.Function.BarAddress(bar) + a.Offset;
                if (a.Write)
                {
                    if (!_model.TryWrite(address, a.Width, a.Value & a.Mask)) throw new InvalidOperationException($"the model does not decode BAR{bar} at 0x{address:x}");
                    return 0;
                }
                if (!_model.TryRead(address, a.Width, out ulong value)) throw new InvalidOperationException($"the model does not decode BAR{bar} at 0x{address:x}");
                return (uint)value;
            }
        }
    }

    public List<(ulong Address, uint Data)> TakeMessages()
    {
        var taken = new List<(ulong, uint)>(_messages);
        _messages.Clear();
        return taken;
    }

    public bool TryMemoryRead(ulong address, Span<byte> destination) => false;

    public bool TryMemoryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (source.Length != sizeof(uint)) throw new InvalidOperationException($"the model wrote {source.Length} bytes upstream; only MSI-X messages (4 bytes) are expected");
        _messages.Add((address, BinaryPrimitives.ReadUInt32LittleEndian(source)));
        return true;
    }

    public void Dispose()
    {
    }
}

/// <summary>
/// The C# model behind virtio-mmio: the register window at the placement's base, the shared memory
/// BAR at its shared memory base, the firmware CSR port through its IDeviceHal. Interrupt messages
/// are the 4-byte writes the model makes upstream for each cause, routed as <c>route</c> says.
/// </summary>
internal sealed class ModelMmioEndpointSide : IEndpointSide, IRootPort
{
    private readonly VirtioMmioEndpointModel _model;
    private readonly List<(ulong, uint)> _messages = [];

    public ModelMmioEndpointSide(EndpointDescription description, (ulong Address, uint Data) route)
    {
        Memory = new byte[description.BackingMemory];
        _model = new VirtioMmioEndpointModel(description, this, new SharedMemoryBacking(Memory));
        _model.RouteInterrupt(route.Address, route.Data);
    }

    public byte[] Memory { get; }

    public uint Access(EndpointAccess a)
    {
        if (a.Port == EndpointPort.Fw)
        {
            int lane = (int)(a.Offset & 3);
            if (a.Write)
            {
                _model.Hal.WriteCsr(a.Offset & ~3u, (a.Value & a.Mask) << (8 * lane), ((1u << a.Width) - 1) << lane);
                return 0;
            }
            return (_model.Hal.ReadCsr(a.Offset & ~3u) >> (8 * lane)) & a.Mask;
        }
        ulong address = (a.Port == EndpointPort.Mmio ? _model.Base : _model.SharedMemoryBase) + a.Offset;
        if (a.Write)
        {
            if (!_model.TryWrite(address, a.Width, a.Value & a.Mask)) throw new InvalidOperationException($"the model does not decode 0x{address:x}");
            return 0;
        }
        if (!_model.TryRead(address, a.Width, out ulong value)) throw new InvalidOperationException($"the model does not decode 0x{address:x}");
        return (uint)value;
    }

    public List<(ulong Address, uint Data)> TakeMessages()
    {
        var taken = new List<(ulong, uint)>(_messages);
        _messages.Clear();
        return taken;
    }

    public bool TryMemoryRead(ulong address, Span<byte> destination) => false;

    public bool TryMemoryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (source.Length != sizeof(uint)) throw new InvalidOperationException($"the model wrote {source.Length} bytes upstream; only interrupt messages (4 bytes) are expected");
        _messages.Add((address, BinaryPrimitives.ReadUInt32LittleEndian(source)));
        return true;
    }

    public void Dispose()
    {
    }
}

/// <summary>
/// A Verilated endpoint top: every access is one AXI4-Lite word access with byte strobes on its
/// port; after it the top runs a few cycles so that effects that follow the response (an MSI
/// message) have left.
/// </summary>
internal sealed class RtlEndpointSide : IEndpointSide
{
    /// <summary>Cycles after each access for messages to leave the top.</summary>
    private const uint SettleCycles = 8;

    private readonly CosimTop _top;
    private readonly IMsiSource _msi;
    private readonly IReadOnlyDictionary<EndpointPort, IAxiLiteSlave> _ports;

    /// <param name="top">The top; disposed with this.</param>
    /// <param name="ports">Its AXI4-Lite slave of each port it has.</param>
    /// <param name="backingBytes">Memory to attach to its memory master, if it has one.</param>
    public RtlEndpointSide(CosimTop top, IReadOnlyDictionary<EndpointPort, IAxiLiteSlave> ports, ulong backingBytes)
    {
        _top = top;
        _msi = (IMsiSource)top;
        _ports = ports;
        Memory = new byte[backingBytes];
        if (top is IMemoryMaster master) master.AttachMemory(Memory);
    }

    public static RtlEndpointSide Ism(ulong backingBytes)
    {
        var top = Cosim.Create<IsmEndpointTop>(IsmEndpointTop.TopName);
        return new(top, new Dictionary<EndpointPort, IAxiLiteSlave>
        {
            [EndpointPort.Cfg] = top.Cfg, [EndpointPort.Bar0] = top.Bar0, [EndpointPort.Bar1] = top.Bar1,
            [EndpointPort.Bar2] = top.Bar2, [EndpointPort.Fw] = top.Fw,
        }, backingBytes);
    }

    public static RtlEndpointSide Ivshmem(ulong backingBytes, uint ivPosition)
    {
        var top = Cosim.Create<IvshmemEndpointTop>(IvshmemEndpointTop.TopName);
        top.IvPositionI = ivPosition;
        return new(top, new Dictionary<EndpointPort, IAxiLiteSlave>
        {
            [EndpointPort.Cfg] = top.Cfg, [EndpointPort.Bar0] = top.Bar0, [EndpointPort.Bar1] = top.Bar1,
            [EndpointPort.Bar2] = top.Bar2, [EndpointPort.Fw] = top.Fw,
        }, backingBytes);
    }

    public static RtlEndpointSide IsmMmio(ulong backingBytes, (ulong Address, uint Data) route)
    {
        var top = Cosim.Create<IsmMmioEndpointTop>(IsmMmioEndpointTop.TopName);
        top.MsiRouteAddrI = route.Address;
        top.MsiRouteDataI = route.Data;
        top.MsiRouteEnI = true;
        return new(top, new Dictionary<EndpointPort, IAxiLiteSlave>
        {
            [EndpointPort.Mmio] = top.Mmio, [EndpointPort.Shm] = top.Shm, [EndpointPort.Fw] = top.Fw,
        }, backingBytes);
    }

    public static RtlEndpointSide Dmabuf()
    {
        var top = Cosim.Create<DmabufEndpointTop>(DmabufEndpointTop.TopName);
        return new(top, new Dictionary<EndpointPort, IAxiLiteSlave>
        {
            [EndpointPort.Cfg] = top.Cfg, [EndpointPort.Bar0] = top.Bar0, [EndpointPort.Bar1] = top.Bar1, [EndpointPort.Fw] = top.Fw,
        }, 0);
    }

    public byte[] Memory { get; }

    public CosimTop Top => _top;

    /// <summary>Memory master accesses outside the attached memory (0 without a memory master).</summary>
    public ulong OutsideAccesses => _top is IMemoryMaster master ? master.OutsideAccesses : 0;

    public uint Access(EndpointAccess a)
    {
        IAxiLiteSlave port = _ports[a.Port];
        int lane = (int)(a.Offset & 3);
        uint result = 0;
        if (a.Write) port.AxiWrite(a.Offset & ~3u, (a.Value & a.Mask) << (8 * lane), (byte)(((1u << a.Width) - 1) << lane));
        else result = (port.AxiRead(a.Offset & ~3u) >> (8 * lane)) & a.Mask;
        _top.Tick(SettleCycles);
        return result;
    }

    public List<(ulong Address, uint Data)> TakeMessages()
    {
        var taken = new List<(ulong, uint)>();
        while (_msi.TryPopMsi(out ulong address, out uint data)) taken.Add((address, data));
        return taken;
    }

    public void Dispose() => _top.Dispose();
}
