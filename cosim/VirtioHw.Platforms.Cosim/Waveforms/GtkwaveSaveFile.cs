using System.Globalization;
using System.Text;

namespace VirtioHw.Platforms.Cosim.Waveforms;

/// <summary>
/// A GTKWave save file (<c>.gtkw</c>) for a waveform of an RTL top: its ports, grouped by bus
/// (clock and reset; <c>cfg</c>, the config space bus; <c>bar0</c>..<c>barN</c>, the BAR buses;
/// <c>fw</c>, the firmware port; then the memory, MSI and interrupt ports), one-bit signals in
/// binary, vectors in hex, so <c>gtkwave run.fst run.gtkw</c> opens on them. The signals are read
/// from the waveform's own hierarchy, so every name the file lists is one the waveform has.
/// </summary>
public static class GtkwaveSaveFile
{
    // GTKWave trace flags: right-justified binary or hex, a blank comment line, group begin and end.
    private const string Binary = "@28";
    private const string Hex = "@22";
    private const string GroupBegin = "@800200";
    private const string GroupEnd = "@1000200";

    /// <summary>Where the save file of <paramref name="waveform"/> goes: the same name, <c>.gtkw</c>.</summary>
    public static string PathFor(string waveform) => Path.ChangeExtension(waveform, ".gtkw");

    /// <summary>Writes the save file of <paramref name="waveform"/> beside it; returns its path.</summary>
    /// <exception cref="InvalidDataException">The waveform is not a closed FST file.</exception>
    /// <param name="fst">The closed FST file whose hierarchy gives the signals.</param>
    /// <param name="waveform">The waveform the save file opens with: <paramref name="fst"/>, or a VCD converted from it.</param>
    public static string WriteBeside(string fst, string? waveform = null)
    {
        ArgumentNullException.ThrowIfNull(fst);
        waveform ??= fst;
        string path = PathFor(waveform);
        File.WriteAllText(path, Create(Path.GetFullPath(waveform), FstHierarchy.Read(fst)));
        return path;
    }

    /// <summary>The save file's text for the top-level ports among <paramref name="signals"/>.</summary>
    public static string Create(string waveform, IReadOnlyList<FstSignal> signals)
    {
        ArgumentNullException.ThrowIfNull(signals);
        // Verilator puts the top's ports directly under its root scope, TOP.
        string root = signals.Count > 0 ? signals[0].Scope.Split('.')[0] : "TOP";
        var groups = new List<(string Label, List<FstSignal> Members)>();
        foreach (FstSignal signal in signals.Where(s => s.Scope == root))
        {
            string label = Label(signal.BaseName);
            int index = groups.FindIndex(g => g.Label == label);
            if (index < 0)
            {
                groups.Add((label, []));
                index = groups.Count - 1;
            }

            groups[index].Members.Add(signal);
        }

        var text = new StringBuilder();
        text.AppendLine("[*] GTKWave save file written by virtiohw beside its waveform: the top's ports by bus");
        text.AppendLine(CultureInfo.InvariantCulture, $"[dumpfile] \"{waveform}\"");
        text.AppendLine("[timestart] 0");
        text.AppendLine("[signals_width] 280");
        text.AppendLine("[sst_expanded] 1");
        foreach ((string label, List<FstSignal> members) in groups)
        {
            text.AppendLine(GroupBegin).AppendLine("-" + label);
            foreach (FstSignal signal in members)
            {
                text.AppendLine(signal.Width == 1 ? Binary : Hex).AppendLine(signal.FullName);
            }

            text.AppendLine(GroupEnd).AppendLine("-" + label);
        }

        return text.ToString();
    }

    // The group of a port: the part of its name before the first underscore, named for people.
    private static string Label(string port)
    {
        string prefix = port.Split('_', 2)[0];
        return prefix switch
        {
            "clk" or "rst" => "clock and reset",
            "cfg" => "cfg: config space bus",
            "fw" => "fw: firmware port",
            "mem" => "mem: shared memory port",
            "msi" => "msi: MSI-X messages",
            _ when prefix.StartsWith("bar", StringComparison.Ordinal) && prefix.Length > 3 => $"{prefix}: BAR {prefix[3..]} bus",
            _ => prefix,
        };
    }
}
