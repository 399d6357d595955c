using System.Globalization;
using System.Text;

namespace VirtioHw.Cosim.Gen;

/// <summary>
/// The port conventions of hw/rtl (STYLE.md): clock <c>clk_i</c>, reset <c>rst_ni</c> (active low)
/// or <c>rst_i</c>, AXI4-Lite slaves as groups of <c>&lt;prefix&gt;awaddr_i</c> ... <c>&lt;prefix&gt;rready_i</c>,
/// and the endpoint's master ports the shim serves itself: the memory master <c>mem_req_o</c> ...
/// <c>mem_rdata_i</c> (with <c>mem_sys_o</c> when some requests go to host system memory) and the MSI output <c>msi_valid_o</c>, <c>msi_ready_i</c>, <c>msi_addr_o</c>, <c>msi_data_o</c>.
/// </summary>
public sealed class Conventions
{
    private static readonly (string Suffix, PortDirection Dir, int Width)[] AxiLiteSignals =
    [
        ("awaddr_i", PortDirection.Input, 0), ("awvalid_i", PortDirection.Input, 1), ("awready_o", PortDirection.Output, 1),
        ("wdata_i", PortDirection.Input, 32), ("wstrb_i", PortDirection.Input, 4), ("wvalid_i", PortDirection.Input, 1),
        ("wready_o", PortDirection.Output, 1), ("bresp_o", PortDirection.Output, 2), ("bvalid_o", PortDirection.Output, 1),
        ("bready_i", PortDirection.Input, 1), ("araddr_i", PortDirection.Input, 0), ("arvalid_i", PortDirection.Input, 1),
        ("arready_o", PortDirection.Output, 1), ("rdata_o", PortDirection.Output, 32), ("rresp_o", PortDirection.Output, 2),
        ("rvalid_o", PortDirection.Output, 1), ("rready_i", PortDirection.Input, 1),
    ];

    private static readonly (string Name, PortDirection Dir, int Width)[] MemorySignals =
    [
        ("mem_req_o", PortDirection.Output, 1), ("mem_we_o", PortDirection.Output, 1), ("mem_addr_o", PortDirection.Output, 64),
        ("mem_be_o", PortDirection.Output, 4), ("mem_wdata_o", PortDirection.Output, 32), ("mem_ack_i", PortDirection.Input, 1),
        ("mem_rdata_i", PortDirection.Input, 32),
    ];

    private static readonly (string Name, PortDirection Dir, int Width)[] MsiSignals =
    [
        ("msi_valid_o", PortDirection.Output, 1), ("msi_ready_i", PortDirection.Input, 1), ("msi_addr_o", PortDirection.Output, 64),
        ("msi_data_o", PortDirection.Output, 32),
    ];

    public Conventions(TopModule top)
    {
        Top = top;
        Clock = top.Find("clk_i") is { Direction: PortDirection.Input, Width: 1 } clk
            ? clk
            : throw new GenException($"{top.Name} has no 1-bit input clk_i; the co-simulation clocks every top through it");
        if (top.Find("rst_ni") is { Direction: PortDirection.Input, Width: 1 } rstn)
        {
            Reset = rstn;
            ResetActiveLow = true;
        }
        else if (top.Find("rst_i") is { Direction: PortDirection.Input, Width: 1 } rst)
        {
            Reset = rst;
        }
        Buses = top.Ports.Where(p => p.Name.EndsWith("awaddr_i", StringComparison.Ordinal))
            .Select(p => Bus(p.Name[..^"awaddr_i".Length]))
            .ToList();
        HasMemoryMaster = Group("memory master", MemorySignals);
        if (top.Find("mem_sys_o") is { } sys)
        {
            if (!HasMemoryMaster || sys.Direction != PortDirection.Output || sys.Width != 1)
            {
                throw new GenException($"{top.Name}: mem_sys_o must be a 1-bit output beside the memory master");
            }

            HasSystemMemory = true;
        }
        HasMsi = Group("MSI output", MsiSignals);
    }

    /// <summary>The top has the memory master port group, served by the shim from attached memory.</summary>
    public bool HasMemoryMaster { get; }

    /// <summary>The memory master marks requests for host system memory with <c>mem_sys_o</c>; the shim serves them from a second attached block.</summary>
    public bool HasSystemMemory { get; }

    /// <summary>The top has the MSI output, whose messages the shim queues.</summary>
    public bool HasMsi { get; }

    /// <summary>Whether the group is there: none of its ports, or all of them with the right shape.</summary>
    private bool Group(string what, (string Name, PortDirection Dir, int Width)[] signals)
    {
        if (signals.All(s => Top.Find(s.Name) is null)) return false;
        foreach (var (name, dir, width) in signals)
        {
            Port? p = Top.Find(name);
            if (p is null || p.Direction != dir || p.Width != width)
            {
                throw new GenException($"{Top.Name}: the {what} needs {(dir == PortDirection.Input ? "input" : "output")} {name} of {width} bit(s)");
            }
        }
        return true;
    }

    public TopModule Top { get; }

    public Port Clock { get; }

    public Port? Reset { get; }

    public bool ResetActiveLow { get; }

    public IReadOnlyList<AxiLiteBus> Buses { get; }

    private AxiLiteBus Bus(string prefix)
    {
        int addrBits = Top.Find(prefix + "awaddr_i")!.Width;
        foreach (var (suffix, dir, width) in AxiLiteSignals)
        {
            Port? p = Top.Find(prefix + suffix);
            int want = width == 0 ? addrBits : width;
            if (p is null || p.Direction != dir || p.Width != want)
            {
                throw new GenException($"{Top.Name}: AXI4-Lite port group '{prefix}' needs {(dir == PortDirection.Input ? "input" : "output")} {prefix}{suffix} of {want} bit(s)");
            }
        }
        if (addrBits > 32) throw new GenException($"{Top.Name}: {prefix}awaddr_i is {addrBits} bits; AXI4-Lite addresses here are at most 32");
        return new AxiLiteBus(prefix.TrimEnd('_'), prefix, addrBits);
    }
}

/// <summary>One AXI4-Lite slave port group: <paramref name="Name"/> is the prefix without its underscore.</summary>
public sealed record AxiLiteBus(string Name, string Prefix, int AddressBits);

internal static class Naming
{
    /// <summary><c>reg2hw_o</c> becomes <c>Reg2hwO</c>, <c>regc_selftest_reg_top</c> <c>RegcSelftestRegTop</c>.</summary>
    public static string Pascal(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (string part in name.Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            sb.Append(char.ToUpperInvariant(part[0])).Append(part.AsSpan(1));
        }
        return sb.Length == 0 || char.IsDigit(sb[0]) ? "P" + sb : sb.ToString();
    }

    public static string Hex(uint value) => "0x" + value.ToString("x8", CultureInfo.InvariantCulture);

    public static string Dec(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Indented line writer.</summary>
internal sealed class CodeWriter(int indentWidth)
{
    private readonly StringBuilder _sb = new();

    public int Indent { get; set; }

    public void Line(string text = "")
    {
        if (text.Length > 0) _sb.Append(' ', Indent * indentWidth).Append(text);
        _sb.Append('\n');
    }

    public void Open(string header)
    {
        Line(header);
        Line("{");
        Indent++;
    }

    public void Close(string trailer = "")
    {
        Indent--;
        Line("}" + trailer);
    }

    public override string ToString() => _sb.ToString();
}
