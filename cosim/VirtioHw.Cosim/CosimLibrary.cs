using System.Reflection;
using System.Runtime.InteropServices;

namespace VirtioHw.Cosim;

/// <summary>
/// Finds the native library of each top: <c>&lt;dir&gt;/&lt;top&gt;/libvhw_&lt;top&gt;.so</c>, where
/// <c>dir</c> is <c>$VHW_COSIM_DIR</c> or else <c>build/cosim</c> of the checkout this assembly
/// runs from (the folder holding VirtioHw.sln). The bindings' <c>[LibraryImport("vhw_&lt;top&gt;")]</c>
/// declarations resolve through it.
/// </summary>
public static class CosimLibrary
{
    /// <summary>Environment variable that overrides where the libraries are.</summary>
    public const string DirectoryVariable = "VHW_COSIM_DIR";

    private const string Prefix = "vhw_";

    private static readonly Lazy<string?> BuildDirectory = new(FindBuildDirectory);
    private static readonly object Gate = new();
    private static bool _resolverSet;

    /// <summary>The folder holding one subfolder per built top, or null when no checkout is found.</summary>
    public static string? Directory => BuildDirectory.Value;

    /// <summary>Where the library of <paramref name="top"/> is, or would be once built.</summary>
    public static string PathOf(string top) =>
        Path.Combine(Directory ?? Path.Combine("build", "cosim"), top, $"lib{Prefix}{top}.so");

    /// <summary>Whether the library of <paramref name="top"/> is built; if not, says why in one sentence.</summary>
    public static bool IsBuilt(string top, out string reason)
    {
        if (!OperatingSystem.IsLinux())
        {
            reason = "the co-simulation libraries are built for Linux only";
            return false;
        }
        string path = PathOf(top);
        if (File.Exists(path))
        {
            reason = "";
            return true;
        }
        reason = Directory is null
            ? $"no checkout found above {AppContext.BaseDirectory} and {DirectoryVariable} is not set; cannot locate libvhw_{top}.so"
            : $"{path} is not built; run 'make cosim'{(VerilatorOnPath() ? "" : " (Verilator is not installed: run 'make deps')")}";
        return false;
    }

    /// <summary>Throws <see cref="CosimLibraryException"/> unless the library of <paramref name="top"/> is built.</summary>
    public static void Require(string top)
    {
        if (!IsBuilt(top, out string reason)) throw new CosimLibraryException(reason);
        lock (Gate)
        {
            if (_resolverSet) return;
            NativeLibrary.SetDllImportResolver(typeof(CosimLibrary).Assembly, Resolve);
            _resolverSet = true;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name.StartsWith(Prefix, StringComparison.Ordinal) && File.Exists(PathOf(name[Prefix.Length..]))
            ? NativeLibrary.Load(PathOf(name[Prefix.Length..]))
            : IntPtr.Zero;

    private static string? FindBuildDirectory()
    {
        string? fromEnv = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(fromEnv)) return Path.GetFullPath(fromEnv);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VirtioHw.sln"))) return Path.Combine(dir.FullName, "build", "cosim");
        }
        return null;
    }

    private static bool VerilatorOnPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "verilator")));
}
