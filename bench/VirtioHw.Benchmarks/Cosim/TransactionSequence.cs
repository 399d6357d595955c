using System.Globalization;
using VirtioHw.Registers;

namespace VirtioHw.Benchmarks.Cosim;

/// <summary>One AXI4-Lite access of the sequence every co-simulation harness runs.</summary>
public readonly record struct AxiTransaction(bool IsWrite, uint Address, uint Data);

/// <summary>
/// The transaction sequence shared by the C#, C++, Python and Icarus harnesses: for each 32-bit word
/// of a register block (offsets from the generated register definitions, from where the block sits), a write of a
/// pseudo-random value then a read of the same word, repeated. Written as one 16-digit hex number
/// per line — <c>kk aaaaaa dddddddd</c>: kind (1 write, 0 read), address, data — a form
/// <c>$readmemh</c>, Python and C++ read without a parser of their own.
/// </summary>
public static class TransactionSequence
{
    /// <summary>Transactions in the file; harnesses run it round and round.</summary>
    public const int Length = 1000;

    public static AxiTransaction[] For(BlockInfo block, uint blockAddress)
    {
        ArgumentNullException.ThrowIfNull(block);
        var words = new List<uint>();
        foreach (RegisterInfo register in block.Registers)
        {
            for (int element = 0; element < register.Count; element++)
            {
                for (int word = 0; word < register.Bytes / 4; word++)
                {
                    words.Add(blockAddress + register.ElementOffset(element) + (uint)(4 * word));
                }
            }
        }

        if (words.Count == 0)
        {
            throw new UserErrorException($"register block {block.Name} has no registers");
        }

        var random = new Random(8);
        var sequence = new AxiTransaction[Length];
        for (int i = 0; i < Length; i += 2)
        {
            uint address = words[(i / 2) % words.Count];
            sequence[i] = new AxiTransaction(true, address, (uint)random.Next());
            sequence[i + 1] = new AxiTransaction(false, address, 0);
        }

        return sequence;
    }

    public static void Write(string path, IReadOnlyList<AxiTransaction> sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var writer = new StreamWriter(path);
        foreach (AxiTransaction t in sequence)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(t.IsWrite ? 1 : 0):x2}{t.Address:x6}{t.Data:x8}"));
        }
    }

    public static AxiTransaction[] Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new UserErrorException($"{path}: no transaction sequence (run 'vhw-bench sequence' first)");
        }

        return [.. File.ReadLines(path).Where(l => l.Length > 0).Select(line =>
        {
            ulong v = ulong.Parse(line, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return new AxiTransaction((v >> 56) != 0, (uint)((v >> 32) & 0xff_ffff), (uint)v);
        })];
    }
}
