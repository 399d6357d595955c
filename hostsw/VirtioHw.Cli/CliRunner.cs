using System.CommandLine;

namespace VirtioHw.Cli;

/// <summary>
/// Runs the parsed command line and turns errors a user can cause into one line on stderr and
/// a non-zero exit code instead of a stack trace.
/// </summary>
internal static class CliRunner
{
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        ParseResult parsed = root.Parse(args);
        // Our handler turns user errors into one line; anything else is a defect and keeps its trace.
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            return await parsed.InvokeAsync(config).ConfigureAwait(false);
        }
        catch (UserErrorException e)
        {
            await Console.Error.WriteLineAsync($"virtiohw: {e.Message}").ConfigureAwait(false);
            return e.ExitCode;
        }
    }
}

/// <summary>An error the user can fix (bad file, bad option, absent device): reported as one line.</summary>
public sealed class UserErrorException : Exception
{
    public UserErrorException(string message, int exitCode = 1) : base(message) => ExitCode = exitCode;

    public UserErrorException() : this("invalid input") { }

    public UserErrorException(string message, Exception inner) : base(message, inner) => ExitCode = 1;

    public int ExitCode { get; }
}
