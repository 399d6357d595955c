using System.Diagnostics;

namespace VirtioHw.Fuzz;

/// <summary>How long and from which seed to fuzz, and where failing inputs go.</summary>
public sealed record FuzzSettings
{
    /// <summary>Wall-clock budget per target.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop after this many executions even when time is left; null for no limit.</summary>
    public long? MaxExecutions { get; init; }

    public int Seed { get; init; }

    /// <summary>Directory the minimised failing inputs are written to, one sub-folder per target; null to keep them in memory only.</summary>
    public string? FailureDirectory { get; init; }

    /// <summary>Distinct failures after which a target stops.</summary>
    public int MaxFailures { get; init; } = 3;
}

/// <summary>A failure found: what broke, and the minimised input (and its file when written).</summary>
public sealed record FuzzFinding(string Signature, string Message, byte[] Input, string? File);

/// <summary>
/// What one target's run did. Distinct inputs are counted by a 64-bit FNV-1a hash of the input
/// bytes. <paramref name="Skipped"/> says why a target did not run at all (null when it ran).
/// </summary>
public sealed record FuzzResult(string Target, int Seed, long Executions, long DistinctInputs, long FaultsInjected, TimeSpan Elapsed, IReadOnlyList<FuzzFinding> Failures, string? Skipped = null);

/// <summary>
/// The fuzzing loop: generates inputs from a seeded generator, runs each under a hang watchdog,
/// and minimises and keeps each distinct failure.
/// </summary>
public static class Fuzzer
{
    public static FuzzResult Run(FuzzTarget target, FuzzSettings settings)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(settings);
        if (target.Unavailable is { } reason)
        {
            return new FuzzResult(target.Name, settings.Seed, 0, 0, 0, TimeSpan.Zero, [], reason);
        }

        var random = new Random(settings.Seed ^ (int)InputHash.Of(System.Text.Encoding.UTF8.GetBytes(target.Name)));
        var seen = new HashSet<ulong>();
        var failures = new List<FuzzFinding>();
        long executions = 0;
        long faultsBefore = target.FaultsInjected;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < settings.Duration
            && (settings.MaxExecutions is not { } max || executions < max)
            && failures.Count < settings.MaxFailures)
        {
            byte[] input = target.Generate(random);
            seen.Add(InputHash.Of(input));
            executions++;
            if (Outcome.Of(target, input) is not { } failure)
            {
                continue;
            }

            if (failures.Any(f => f.Signature == failure.Signature))
            {
                continue;
            }

            // A hang leaves its thread stuck: keep the input as it is and stop this target.
            byte[] minimal = failure.IsHang ? input : Minimizer.Minimize(input, candidate => Outcome.Of(target, candidate)?.Signature == failure.Signature);
            string? file = settings.FailureDirectory is { } directory ? Keep(directory, target.Name, minimal) : null;
            failures.Add(new FuzzFinding(failure.Signature, failure.Message, minimal, file));
            if (failure.IsHang)
            {
                break;
            }
        }

        return new FuzzResult(target.Name, settings.Seed, executions, seen.Count, target.FaultsInjected - faultsBefore, clock.Elapsed, failures);
    }

    private static string Keep(string directory, string target, byte[] input)
    {
        string folder = Path.Combine(directory, target);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, $"{InputHash.Of(input):x16}.bin");
        File.WriteAllBytes(path, input);
        return path;
    }
}

/// <summary>How one execution ended, when it did not end well.</summary>
public sealed record Outcome(string Signature, string Message, bool IsHang)
{
    /// <summary>Runs <paramref name="input"/> once; null when every property held.</summary>
    public static Outcome? Of(FuzzTarget target, byte[] input)
    {
        ArgumentNullException.ThrowIfNull(target);
        Task run = Task.Factory.StartNew(() => target.Execute(input), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!run.Wait(target.HangTimeout))
            {
                return new Outcome("hang", $"no result within {target.HangTimeout.TotalSeconds:0} s", IsHang: true);
            }

            return null;
        }
        catch (AggregateException wrapped) when (wrapped.InnerException is { } e)
        {
            // The signature is the failure's kind and where it was thrown, not its varying details.
            string where = e.StackTrace?.Split('\n', 2)[0].Trim() ?? "";
            string kind = e is FuzzFailure ? "property: " + FirstWords(e.Message) : e.GetType().Name + " " + where;
            return new Outcome(kind, e is FuzzFailure ? e.Message : e.ToString(), IsHang: false);
        }
    }

    /// <summary>The message up to its first digit or quote, so that two inputs breaking one property share a signature.</summary>
    private static string FirstWords(string message)
    {
        int end = message.IndexOfAny("0123456789'\"".ToCharArray());
        return (end < 0 ? message : message[..end]).Trim();
    }
}

/// <summary>64-bit FNV-1a of an input's bytes: what "distinct inputs" counts.</summary>
public static class InputHash
{
    public static ulong Of(ReadOnlySpan<byte> data)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
