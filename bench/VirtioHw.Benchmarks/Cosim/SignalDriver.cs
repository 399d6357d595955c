using VirtioHw.Cosim;

namespace VirtioHw.Benchmarks.Cosim;

/// <summary>The AXI4-Lite slave ports of one top, one generated per-port binding per member.</summary>
public interface IAxilPins
{
    uint AwAddr { set; }

    bool AwValid { set; }

    bool AwReady { get; }

    uint WData { set; }

    byte WStrb { set; }

    bool WValid { set; }

    bool WReady { get; }

    bool BValid { get; }

    byte BResp { get; }

    bool BReady { set; }

    uint ArAddr { set; }

    bool ArValid { set; }

    bool ArReady { get; }

    bool RValid { get; }

    uint RData { get; }

    byte RResp { get; }

    bool RReady { set; }

    void Tick();
}

/// <summary>The <c>bar0_*</c> AXI4-Lite slave of <c>ism_endpoint_top</c> through its generated properties.</summary>
public readonly struct IsmEndpointBar0Pins(IsmEndpointTop top) : IAxilPins
{
    public uint AwAddr { set => top.Bar0AwaddrI = (ushort)value; }

    public bool AwValid { set => top.Bar0AwvalidI = value; }

    public bool AwReady => top.Bar0AwreadyO;

    public uint WData { set => top.Bar0WdataI = value; }

    public byte WStrb { set => top.Bar0WstrbI = value; }

    public bool WValid { set => top.Bar0WvalidI = value; }

    public bool WReady => top.Bar0WreadyO;

    public bool BValid => top.Bar0BvalidO;

    public byte BResp => top.Bar0BrespO;

    public bool BReady { set => top.Bar0BreadyI = value; }

    public uint ArAddr { set => top.Bar0AraddrI = (ushort)value; }

    public bool ArValid { set => top.Bar0ArvalidI = value; }

    public bool ArReady => top.Bar0ArreadyO;

    public bool RValid => top.Bar0RvalidO;

    public uint RData => top.Bar0RdataO;

    public byte RResp => top.Bar0RrespO;

    public bool RReady { set => top.Bar0RreadyI = value; }

    public void Tick() => top.Tick();
}

/// <summary>
/// A cocotb-style AXI4-Lite master: drive the inputs, tick one cycle, sample the outputs, one port
/// per call. The Python and Icarus harnesses run exactly these steps (bench/python, bench/icarus).
/// Ready and valid are sampled before the edge that takes them.
/// </summary>
public static class SignalDriver
{
    /// <summary>Cycles a handshake may take before the driver gives up.</summary>
    private const int Timeout = 100;

    public static void Write<TPins>(TPins pins, uint address, uint data)
        where TPins : struct, IAxilPins
    {
        pins.AwAddr = address;
        pins.WData = data;
        pins.WStrb = 0xF;
        pins.AwValid = true;
        pins.WValid = true;
        pins.BReady = true;
        bool aw = false, w = false;
        int cycles = 0;
        while (!(aw && w))
        {
            bool awTaken = !aw && pins.AwReady;
            bool wTaken = !w && pins.WReady;
            pins.Tick();
            Guard(ref cycles, "write address/data");
            if (awTaken)
            {
                aw = true;
                pins.AwValid = false;
            }

            if (wTaken)
            {
                w = true;
                pins.WValid = false;
            }
        }

        while (!pins.BValid)
        {
            pins.Tick();
            Guard(ref cycles, "write response");
        }

        byte response = pins.BResp;
        pins.Tick();
        pins.BReady = false;
        Check(response, "write", address);
    }

    public static uint Read<TPins>(TPins pins, uint address)
        where TPins : struct, IAxilPins
    {
        pins.ArAddr = address;
        pins.ArValid = true;
        pins.RReady = true;
        int cycles = 0;
        bool taken;
        do
        {
            taken = pins.ArReady;
            pins.Tick();
            Guard(ref cycles, "read address");
        }
        while (!taken);

        pins.ArValid = false;
        while (!pins.RValid)
        {
            pins.Tick();
            Guard(ref cycles, "read response");
        }

        uint data = pins.RData;
        byte response = pins.RResp;
        pins.Tick();
        pins.RReady = false;
        Check(response, "read", address);
        return data;
    }

    private static void Guard(ref int cycles, string what)
    {
        if (++cycles > Timeout)
        {
            throw new CosimTimeoutException($"signal-level {what} not done within {Timeout} cycles");
        }
    }

    private static void Check(byte response, string what, uint address)
    {
        if (response != 0)
        {
            throw new CosimException($"signal-level {what} of 0x{address:x}: response {response}");
        }
    }
}
