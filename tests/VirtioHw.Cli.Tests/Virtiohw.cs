using System.Diagnostics;

namespace VirtioHw.Cli.Tests;

/// <summary>Runs the built <c>virtiohw</c> next to the tests and captures what it prints.</summary>
internal static class Virtiohw
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunIn(null, args);

    /// <summary>Runs with <paramref name="environment"/> changed (a null value removes the variable).</summary>
    public static Result RunIn(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "virtiohw.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(dll);
        foreach (string a in args) start.ArgumentList.Add(a);
        // Plain output: no colours or box drawing that depend on the terminal.
        start.Environment["NO_COLOR"] = "1";
        start.Environment["TERM"] = "dumb";
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"virtiohw {string.Join(' ', args)} did not finish");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
