using Spectre.Console;

namespace VirtioHw.Cli;

/// <summary>When <c>virtiohw</c> colours its output (<c>--color</c>).</summary>
internal enum ColorMode
{
    /// <summary>Only on a terminal, and not when <c>NO_COLOR</c> is set or <c>TERM=dumb</c>.</summary>
    Auto,
    Always,
    Never,
}

/// <summary>
/// The one console every command writes tables and markup to: escape codes and box drawing only
/// where a person reads a terminal, plain columns of unlimited width when the output goes into a
/// pipe or a file (so <c>| cat</c>, <c>| grep</c> and scripts see text).
/// </summary>
internal static class CliConsole
{
    /// <summary>Whether standard output is a terminal a person reads.</summary>
    public static bool Terminal { get; private set; } = !Console.IsOutputRedirected;

    /// <summary>Whether output is coloured (<c>--color</c>, NO_COLOR, TERM and the terminal decide).</summary>
    public static bool Colour { get; private set; }

    /// <summary>Sets up <see cref="AnsiConsole.Console"/> for <paramref name="mode"/> and this process's environment.</summary>
    public static void Configure(ColorMode mode)
    {
        Terminal = !Console.IsOutputRedirected;
        bool dumb = string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
        // no-color.org: set and not empty means no colour, whatever its value.
        bool noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        bool color = mode switch
        {
            ColorMode.Always => true,
            ColorMode.Never => false,
            _ => Terminal && !dumb && !noColor,
        };
        Colour = color;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = Terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        if (!Terminal)
        {
            // A pipe has no width: lines are never wrapped to fit one.
            console.Profile.Width = 4096;
        }

        console.Profile.Capabilities.Unicode = Terminal && !dumb && console.Profile.Capabilities.Unicode;
        AnsiConsole.Console = console;
    }

    /// <summary>A table drawn with box characters on a terminal and as plain aligned columns otherwise.</summary>
    public static Table Table(params string[] columns)
    {
        var table = new Table().AddColumns(columns);
        if (!Terminal)
        {
            table.Border = TableBorder.None;
        }

        return table;
    }
}
