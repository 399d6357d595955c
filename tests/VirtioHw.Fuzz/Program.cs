using System.CommandLine;
using System.Globalization;
using VirtioHw.Fuzz;
using VirtioHw.Fuzz.Targets;

// virtiohw-fuzz: seeded, time-bounded fuzzing; exit 0 when every target held (or was skipped), 1 on failures, 2 on a bad command line, 3 when a replay's target cannot run here.
var target = new Option<string>("--target") { Description = "Target name, or 'all'.", DefaultValueFactory = _ => "all" };
var seconds = new Option<int>("--seconds") { Description = "Seconds per target.", DefaultValueFactory = _ => 10 };
var seed = new Option<int>("--seed") { Description = "Seed of the input generator.", DefaultValueFactory = _ => 1 };
var executions = new Option<long?>("--executions") { Description = "Stop each target after this many executions." };
var failures = new Option<string>("--failures") { Description = "Folder for minimised failing inputs (one sub-folder per target).", DefaultValueFactory = _ => "fuzz-failures" };
var summary = new Option<string?>("--summary") { Description = "Also write the summary table to this file." };
var replay = new Option<string?>("--replay") { Description = "Run one kept input file against --target and report its outcome." };
var list = new Option<bool>("--list") { Description = "List the targets and exit." };
var afl = new Option<string?>("--afl") { Description = "Run target NAME under afl-fuzz (SharpFuzz's fork server): one input per execution from standard input; outside afl-fuzz, one input." };
var starters = new Option<string?>("--starters") { Description = "Write the inputs coverage-guided fuzzing of --target starts from into this folder." };
var root = new RootCommand("Fuzzes the kit's inputs: register descriptions, flash images, SFDP, virtqueues, the ISM control queue, MMIO, the ivshmem server.")
{
    target, seconds, seed, executions, failures, summary, replay, list, afl, starters,
};

root.SetAction(parse =>
{
    if (parse.GetValue(list))
    {
        foreach (string name in TargetCatalog.Names)
        {
            Console.WriteLine($"{name,-12} {Describe(TargetCatalog.Create(name)!)}");
        }

        return 0;
    }

    if (parse.GetValue(afl) is { } aflName)
    {
        return RunUnderAfl(aflName);
    }

    string chosen = parse.GetValue(target)!;
    IReadOnlyList<string> names = chosen == "all" ? TargetCatalog.Names : [.. chosen.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    if (names.FirstOrDefault(n => !TargetCatalog.Names.Contains(n)) is { } unknown)
    {
        Console.Error.WriteLine($"virtiohw-fuzz: unknown target '{unknown}'; --list names them");
        return 2;
    }

    if (parse.GetValue(seconds) < 1)
    {
        Console.Error.WriteLine("virtiohw-fuzz: --seconds must be at least 1");
        return 2;
    }

    if (parse.GetValue(starters) is { } startersFolder)
    {
        if (names.Count != 1)
        {
            Console.Error.WriteLine("virtiohw-fuzz: --starters needs one --target");
            return 2;
        }

        FuzzTarget one = TargetCatalog.Create(names[0])!;
        Directory.CreateDirectory(startersFolder);
        foreach (byte[] input in one.Starters(new Random(parse.GetValue(seed)), 16).Where(i => i.Length > 0))
        {
            File.WriteAllBytes(Path.Combine(startersFolder, $"{InputHash.Of(input):x16}.bin"), input);
        }

        (one as IDisposable)?.Dispose();
        return 0;
    }

    if (parse.GetValue(replay) is { } file)
    {
        if (names.Count != 1 || !File.Exists(file))
        {
            Console.Error.WriteLine(names.Count != 1 ? "virtiohw-fuzz: --replay needs one --target" : $"virtiohw-fuzz: {file}: no such file");
            return 2;
        }

        FuzzTarget one = TargetCatalog.Create(names[0])!;
        if (one.Unavailable is { } reason)
        {
            Console.Error.WriteLine($"virtiohw-fuzz: {names[0]} cannot run here: {reason}");
            (one as IDisposable)?.Dispose();
            return 3;
        }

        Outcome? outcome = Outcome.Of(one, File.ReadAllBytes(file));
        Console.WriteLine(outcome is null ? $"{file}: every property holds" : $"{file}: {outcome.Message}");
        (one as IDisposable)?.Dispose();
        return outcome is null ? 0 : 1;
    }

    var settings = new FuzzSettings
    {
        Duration = TimeSpan.FromSeconds(parse.GetValue(seconds)),
        Seed = parse.GetValue(seed),
        MaxExecutions = parse.GetValue(executions),
        FailureDirectory = parse.GetValue(failures),
    };
    var results = new List<FuzzResult>();
    foreach (string name in names)
    {
        FuzzTarget fuzzTarget = TargetCatalog.Create(name)!;
        try
        {
            FuzzResult result = Fuzzer.Run(fuzzTarget, settings);
            results.Add(result);
            Console.WriteLine(SummaryTable.Row(result));
            foreach (FuzzFinding finding in result.Failures)
            {
                Console.WriteLine($"  failure: {finding.Message.Split('\n')[0]}");
                Console.WriteLine($"  input: {finding.File ?? "(not kept)"} ({finding.Input.Length} bytes); replay: virtiohw-fuzz --target {name} --replay {finding.File}");
            }
        }
        finally
        {
            (fuzzTarget as IDisposable)?.Dispose();
        }
    }

    string table = SummaryTable.Format(results);
    Console.WriteLine();
    Console.Write(table);
    if (parse.GetValue(summary) is { } path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, table);
    }

    return results.Exists(r => r.Failures.Count > 0) ? 1 : 0;
});

return root.Parse(args).Invoke();

// The same Execute as the seeded loop: a refusal the target documents returns, anything else
// escapes and afl-fuzz records the input as a crash.
static int RunUnderAfl(string name)
{
    if (TargetCatalog.Create(name) is not { } target)
    {
        Console.Error.WriteLine($"virtiohw-fuzz: unknown target '{name}'; --list names them");
        return 2;
    }

    if (target.Unavailable is { } reason)
    {
        Console.Error.WriteLine($"virtiohw-fuzz: {name} cannot run here: {reason}");
        return 3;
    }

    SharpFuzz.Fuzzer.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        target.Execute(copy.ToArray());
    });
    (target as IDisposable)?.Dispose();
    return 0;
}

static string Describe(FuzzTarget t)
{
    string text = t.Description;
    (t as IDisposable)?.Dispose();
    return text;
}

/// <summary>The summary of a run: one row per target and a total.</summary>
internal static class SummaryTable
{
    public static string Row(FuzzResult r) => r.Skipped is { } reason
        ? $"{r.Target,-12} skipped: {reason}"
        : string.Create(CultureInfo.InvariantCulture,
            $"{r.Target,-12} {r.Executions,12} {r.DistinctInputs,12} {r.FaultsInjected,10} {r.Failures.Count,9} {r.Elapsed.TotalSeconds,8:0.0}");

    public static string Format(IReadOnlyList<FuzzResult> results)
    {
        var text = new System.Text.StringBuilder();
        int seed = results.Count > 0 ? results[0].Seed : 0;
        text.AppendLine(CultureInfo.InvariantCulture, $"fuzz summary, seed {seed} (distinct inputs: by 64-bit FNV-1a hash of the input bytes)");
        text.AppendLine($"{"target",-12} {"executions",12} {"distinct",12} {"faults",10} {"failures",9} {"seconds",8}");
        foreach (FuzzResult r in results)
        {
            text.AppendLine(Row(r));
        }

        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"total",-12} {results.Sum(r => r.Executions),12} {results.Sum(r => r.DistinctInputs),12} {results.Sum(r => r.FaultsInjected),10} {results.Sum(r => r.Failures.Count),9} {results.Sum(r => r.Elapsed.TotalSeconds),8:0.0}");
        return text.ToString();
    }
}
