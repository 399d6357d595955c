using System.CommandLine;

namespace VirtioHw.Cli;

/// <summary>
/// Runs the parsed command line and turns errors a user can cause into one line on stderr and
/// an exit code from <see cref="ExitCodes"/> instead of a stack trace.
/// </summary>
internal static class CliRunner
{
    /// <summary><c>--color auto|always|never</c>, taken by every command.</summary>
    public static Option<ColorMode> ColorOption { get; } = new("--color")
    {
        Description = "Colour and box drawing: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always, never.",
        Recursive = true,
        DefaultValueFactory = _ => ColorMode.Auto,
    };

    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line per problem and where to look, not the whole help text.
            foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"virtiohw: {error.Message}").ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync($"virtiohw: see '{string.Join(' ', CommandPath(parsed))} --help'").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        CliConsole.Configure(parsed.GetValue(ColorOption));
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

    private static IEnumerable<string> CommandPath(ParseResult parsed)
    {
        var names = new Stack<string>();
        for (System.CommandLine.Parsing.SymbolResult? r = parsed.CommandResult; r is not null; r = r.Parent)
        {
            if (r is System.CommandLine.Parsing.CommandResult c)
            {
                names.Push(c.Command is RootCommand ? "virtiohw" : c.Command.Name);
            }
        }

        return names;
    }
}

/// <summary>An error the user can fix (bad file, bad option, absent device): reported as one line.</summary>
public sealed class UserErrorException : Exception
{
    public UserErrorException(string message, int exitCode = ExitCodes.Failure) : base(message) => ExitCode = exitCode;

    public UserErrorException() : this("invalid input") { }

    public UserErrorException(string message, Exception inner) : base(message, inner) => ExitCode = ExitCodes.Failure;

    public int ExitCode { get; }

    /// <summary>A command line that is wrong (a value that does not parse, options that contradict): exit 2.</summary>
    public static UserErrorException Usage(string message) => new(message, ExitCodes.Usage);
}
