namespace VirtioHw.Flash;

/// <summary>
/// An error the user can act on (bad image, absent adapter, protected flash, failed verify). The
/// message is one sentence naming the file, offset or option at fault; the command line prints it
/// and exits with <see cref="ExitCode"/>.
/// </summary>
public class FlashException : Exception
{
    public FlashException() : this("flash operation failed") { }

    public FlashException(string message) : base(message) { }

    public FlashException(string message, Exception inner) : base(message, inner) { }

    public FlashException(string message, int exitCode) : base(message) => ExitCode = exitCode;

    /// <summary>Process exit code the command line uses for this error.</summary>
    public int ExitCode { get; } = 1;
}

/// <summary>Read-back still differs from the image after the retries: names the differing addresses.</summary>
public sealed class FlashVerifyException : FlashException
{
    /// <summary>Exit code of a failed verify, distinct from other errors and from usage errors (2) so scripts can tell them apart.</summary>
    public const int VerifyExitCode = 4;

    /// <summary>How many differing addresses, and runs of them, are kept and named.</summary>
    public const int MaxListed = 16;

    /// <param name="mismatches">The first differing addresses, ascending (at most <see cref="MaxListed"/>).</param>
    /// <param name="runs">The first runs of consecutive differing addresses (at most <see cref="MaxListed"/>).</param>
    /// <param name="totalMismatches">How many bytes differ in all.</param>
    /// <param name="totalRuns">How many runs there are in all.</param>
    /// <param name="what">The operation that failed, e.g. "verify after programming".</param>
    public FlashVerifyException(IReadOnlyList<long> mismatches, IReadOnlyList<AddressRange> runs, long totalMismatches, long totalRuns, string what)
        : base(Describe(runs, totalMismatches, totalRuns, what), VerifyExitCode)
    {
        Mismatches = mismatches;
        TotalMismatches = totalMismatches;
    }

    public FlashVerifyException() : this("verify failed") { }

    public FlashVerifyException(string message) : base(message, VerifyExitCode) => Mismatches = [];

    public FlashVerifyException(string message, Exception inner) : base(message, inner) => Mismatches = [];

    /// <summary>The first differing addresses (at most <see cref="MaxListed"/>), ascending.</summary>
    public IReadOnlyList<long> Mismatches { get; }

    /// <summary>How many bytes differ in all.</summary>
    public long TotalMismatches { get; }

    private static string Describe(IReadOnlyList<AddressRange> runs, long total, long totalRuns, string what)
    {
        string listed = string.Join(", ", runs.Select(r => r.Length == 1 ? $"0x{r.Start:x6}" : r.ToString()));
        string more = totalRuns > runs.Count ? $" and {totalRuns - runs.Count} more range(s)" : "";
        return $"{what} failed: {total} byte(s) differ from the image, at {listed}{more}";
    }
}
