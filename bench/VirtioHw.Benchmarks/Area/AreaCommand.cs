using System.Globalization;

namespace VirtioHw.Benchmarks.Area;

/// <summary>
/// <c>vhw-bench area SUMMARY</c>: the figures of <c>make synth-fpga</c> (the table
/// <c>tools/synth-fpga.sh</c> writes, build/synth-fpga/summary.tsv) as the result file <c>area</c>:
/// a value <c>TOP.FLOW.COLUMN</c> per number, a note <c>TOP.FLOW.status</c> and
/// <c>TOP.FLOW.note</c> per row, and the tools line of the summary. A dash (no figure) becomes no
/// value, so the report prints it as not measured.
/// </summary>
public static class AreaCommand
{
    /// <summary>The summary's columns, in order, as tools/synth-fpga.sh writes them.</summary>
    public static readonly string[] Columns = ["top", "flow", "luts", "lutram", "ffs", "bram", "dsp", "depth", "fmax_mhz", "seconds", "status", "note"];

    public static ResultFile Run(string summaryPath)
    {
        if (!File.Exists(summaryPath))
        {
            throw new UserErrorException($"{summaryPath}: no such file; 'make synth-fpga' writes it");
        }

        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var notes = new Dictionary<string, string>(StringComparer.Ordinal);
        bool header = false;
        int line = 0;
        foreach (string text in File.ReadLines(summaryPath))
        {
            line++;
            if (text.StartsWith('#'))
            {
                notes["tools"] = text.TrimStart('#', ' ');
                continue;
            }

            string[] fields = text.Split('\t');
            if (!header)
            {
                if (!fields.SequenceEqual(Columns))
                {
                    throw new UserErrorException($"{summaryPath}:{line}: not a synth-fpga summary (expected the columns {string.Join(' ', Columns)})");
                }

                header = true;
                continue;
            }

            if (fields.Length != Columns.Length)
            {
                throw new UserErrorException($"{summaryPath}:{line}: {fields.Length} columns where the header has {Columns.Length}");
            }

            string row = $"{fields[0]}.{fields[1]}";
            for (int c = 2; c < 10; c++)
            {
                if (double.TryParse(fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                {
                    values[$"{row}.{Columns[c]}"] = v;
                }
                else if (fields[c] != "-")
                {
                    throw new UserErrorException($"{summaryPath}:{line}: {Columns[c]} is '{fields[c]}', neither a number nor '-'");
                }
            }

            notes[$"{row}.status"] = fields[10];
            if (fields[11].Length > 0)
            {
                notes[$"{row}.note"] = fields[11];
            }
        }

        if (!header)
        {
            throw new UserErrorException($"{summaryPath}: empty; 'make synth-fpga' writes it");
        }

        return new ResultFile
        {
            Benchmark = "area",
            Producer = $"make synth-fpga (tools/synth-fpga.sh), summary written {File.GetLastWriteTimeUtc(summaryPath):yyyy-MM-dd HH:mm} UTC",
            Values = values,
            Notes = notes,
        };
    }
}
