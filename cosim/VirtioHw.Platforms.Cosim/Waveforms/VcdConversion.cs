using System.Diagnostics;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Platforms.Cosim.Waveforms;

/// <summary>
/// VCD waveforms. The Verilated tops are built to write FST (Verilator fixes one trace format per
/// build), so a VCD is GTKWave's <c>fst2vcd</c> run over the closed FST: the same signals, values
/// and times, in the format other viewers and scripts read.
/// </summary>
public static class VcdConversion
{
    /// <summary>The converter, from the Debian package gtkwave.</summary>
    public const string Converter = "fst2vcd";

    /// <summary>Whether <paramref name="trace"/> names a VCD file.</summary>
    public static bool IsVcd(string trace) =>
        string.Equals(Path.GetExtension(trace), ".vcd", StringComparison.OrdinalIgnoreCase);

    /// <summary>The FST file the RTL writes while it runs for the VCD <paramref name="vcd"/>.</summary>
    public static string IntermediateFst(string vcd) => vcd + ".fst";

    /// <summary>Where <see cref="Converter"/> is, or null when it is not installed.</summary>
    public static string? FindConverter() => ExecutableSearch.Locate(Converter);

    /// <summary>Converts <paramref name="fst"/> into <paramref name="vcd"/>.</summary>
    /// <exception cref="IOException">The converter is missing or failed; its message says why.</exception>
    public static void Convert(string fst, string vcd)
    {
        string converter = FindConverter() ?? throw new IOException($"{Converter} is not installed (Debian package gtkwave): {fst} is left as FST");
        var start = new ProcessStartInfo(converter)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add(fst);
        start.ArgumentList.Add("-o");
        start.ArgumentList.Add(vcd);
        using Process process = Process.Start(start) ?? throw new IOException($"{Converter} did not start");
        Task<string> errors = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(vcd))
        {
            throw new IOException($"{Converter} {fst}: exit {process.ExitCode}: {errors.Result.Trim()}");
        }
    }
}
