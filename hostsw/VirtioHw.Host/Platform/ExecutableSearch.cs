namespace VirtioHw.Host.Platforms;

/// <summary>Finds the programs a platform starts (QEMU, waveform converters) the way a shell would.</summary>
public static class ExecutableSearch
{
    /// <summary>Looks <paramref name="executable"/> up on PATH (or checks the path given); null when absent.</summary>
    public static string? Locate(string executable)
    {
        ArgumentNullException.ThrowIfNull(executable);
        if (executable.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(executable) ? Path.GetFullPath(executable) : null;
        }

        string path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (string directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, executable);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
