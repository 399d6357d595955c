using VirtioHw.Cosim;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Benchmarks.Cosim;

/// <summary><c>vhw-bench sequence</c> and <c>vhw-bench cosim</c>: the shared sequence, and the C# co-simulation figures.</summary>
public static class CosimCommand
{
    /// <summary>The top the co-simulation rows run on, its AXI4-Lite slave they drive, and the register block its sequence covers.</summary>
    public const string Top = IsmEndpointTop.TopName;

    public const string Port = "bar0";

    public static BlockInfo Block => BlockCatalog.Find("ism_config") ?? throw new InvalidOperationException("no generated ism_config block");

    /// <summary>The device configuration (ism_config) in BAR0, where the virtio-ism description places it.</summary>
    public static uint BlockAddress
    {
        get
        {
            StructureLocation device = EndpointDescriptions.LoadBuiltin("virtio-ism").Virtio?.Device
                ?? throw new InvalidOperationException("the virtio-ism description has no device configuration");
            return device.Bar == 0 ? (uint)device.Offset : throw new InvalidOperationException($"virtio-ism's device configuration is in BAR{device.Bar}, the rows drive BAR0");
        }
    }

    /// <summary>
    /// Writes the sequence; returns what the other harnesses need to drive it, <c>TOP PORT ADDRESS_BITS</c>
    /// (the port's address width from the generated bindings, for the ctypes argument type).
    /// </summary>
    public static string WriteSequence(string path)
    {
        TransactionSequence.Write(path, TransactionSequence.For(Block, BlockAddress));
        using var top = new IsmEndpointTop();
        CosimPort address = top.Ports.Single(p => p.Name == Port + "_awaddr_i");
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Top} {Port} {address.Width}");
    }

    public static ResultFile Run(BenchOptions options, string sequencePath)
    {
        AxiTransaction[] sequence = TransactionSequence.Read(sequencePath);
        if (sequence.Length != TransactionSequence.Length)
        {
            throw new UserErrorException($"{sequencePath}: {sequence.Length} transactions, expected {TransactionSequence.Length}");
        }

        CosimBenchmarks.Sequence = sequence;

        // One untimed pass of each kind: the read checksum the other harnesses must match, and cycles per transaction.
        uint checksum;
        double transactionCycles, signalCycles;
        using (var top = new IsmEndpointTop())
        {
            ulong start = top.Cycle;
            checksum = CosimBenchmarks.RunTransactionLevel(top.Bar0, sequence);
            transactionCycles = (double)(top.Cycle - start) / sequence.Length;
            start = top.Cycle;
            uint signalChecksum = CosimBenchmarks.RunSignalLevel(top, sequence);
            signalCycles = (double)(top.Cycle - start) / sequence.Length;
            if (signalChecksum != checksum)
            {
                throw new InvalidOperationException($"signal-level reads sum to 0x{signalChecksum:x8}, transaction-level to 0x{checksum:x8}");
            }
        }

        Dictionary<string, double> ns = Bdn.Run<CosimBenchmarks>(options.Quick, options.Quick ? 20 : 60, options.Artifacts);
        return new ResultFile
        {
            Benchmark = "cosim-csharp",
            Producer = Bdn.Describe(options.Quick),
            Values =
            {
                ["transaction_per_s"] = 1e9 / ns["TransactionLevel"],
                ["signal_per_s"] = 1e9 / ns["SignalLevel"],
                ["transaction_cycles"] = transactionCycles,
                ["signal_cycles"] = signalCycles,
                ["checksum"] = checksum,
            },
            Notes = { ["top"] = Top, ["port"] = Port },
        };
    }
}
