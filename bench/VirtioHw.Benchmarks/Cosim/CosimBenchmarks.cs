using BenchmarkDotNet.Attributes;
using VirtioHw.Cosim;

namespace VirtioHw.Benchmarks.Cosim;

/// <summary>
/// The co-simulation rows from C#: the shared transaction sequence on the Verilated endpoint's BAR0, once with
/// one native call per access (the bus-functional layer behind <see cref="IAxiLiteSlave"/>) and once
/// cocotb-style through the generated per-port bindings (<see cref="SignalDriver"/>).
/// </summary>
public class CosimBenchmarks
{
    /// <summary>Set by <see cref="CosimCommand"/> before BenchmarkDotNet runs this class in process.</summary>
    internal static AxiTransaction[] Sequence { get; set; } = [];

    private IsmEndpointTop _top = null!;

    [GlobalSetup]
    public void Setup() => _top = new IsmEndpointTop();

    [GlobalCleanup]
    public void Cleanup() => _top.Dispose();

    [Benchmark(OperationsPerInvoke = TransactionSequence.Length)]
    public uint TransactionLevel() => RunTransactionLevel(_top.Bar0, Sequence);

    [Benchmark(OperationsPerInvoke = TransactionSequence.Length)]
    public uint SignalLevel() => RunSignalLevel(_top, Sequence);

    /// <summary>The sequence through one bus call per access; returns the sum of the data read.</summary>
    internal static uint RunTransactionLevel(IAxiLiteSlave top, AxiTransaction[] sequence)
    {
        uint sum = 0;
        foreach (AxiTransaction t in sequence)
        {
            if (t.IsWrite)
            {
                top.AxiWrite(t.Address, t.Data);
            }
            else
            {
                sum += top.AxiRead(t.Address);
            }
        }

        return sum;
    }

    /// <summary>The sequence port by port; returns the sum of the data read.</summary>
    internal static uint RunSignalLevel(IsmEndpointTop top, AxiTransaction[] sequence)
    {
        var pins = new IsmEndpointBar0Pins(top);
        uint sum = 0;
        foreach (AxiTransaction t in sequence)
        {
            if (t.IsWrite)
            {
                SignalDriver.Write(pins, t.Address, t.Data);
            }
            else
            {
                sum += SignalDriver.Read(pins, t.Address);
            }
        }

        return sum;
    }
}
