using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace VirtioHw.Cli.Commands;

/// <summary>How a server's log lines look on the console (<c>--log-format</c>).</summary>
internal enum LogFormat
{
    /// <summary>One line each: UTC timestamp, level, category, message.</summary>
    Simple,

    /// <summary>systemd's journal: a <c>&lt;N&gt;</c> priority prefix, no timestamp (the journal adds its own).</summary>
    Systemd,

    /// <summary>One JSON object a line: Timestamp, EventId, LogLevel, Category, Message and State with the named fields (Pid, Uid, Gid, PeerId).</summary>
    Json,
}

/// <summary>
/// <c>--log-format simple|systemd|json</c> and <c>--log-level</c> of <c>domain serve</c> and
/// <c>ivshmem-server</c>: the one place the CLI builds the logger factory the servers log through.
/// Log lines go to standard output, as services write them.
/// </summary>
internal sealed class ServerLogging
{
    private readonly Option<LogFormat> _format = new("--log-format")
    {
        Description = "Log lines: simple (timestamp, level, message), systemd (journal priorities) or json (one object a line).",
        DefaultValueFactory = _ => LogFormat.Simple,
    };

    private readonly Option<LogLevel> _level = new("--log-level")
    {
        Description = "Least severe level logged: Trace, Debug (adds every accepted connection), Information, Warning, Error.",
        DefaultValueFactory = _ => LogLevel.Information,
    };

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_format);
        command.Options.Add(_level);
    }

    /// <summary>The factory the command line asks for; disposing it flushes what is queued.</summary>
    public ILoggerFactory Create(ParseResult parse)
    {
        LogFormat format = parse.GetValue(_format);
        LogLevel level = parse.GetValue(_level);
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            _ = format switch
            {
                LogFormat.Systemd => builder.AddSystemdConsole(o => o.IncludeScopes = false),
                LogFormat.Json => builder.AddJsonConsole(o =>
                {
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                    o.UseUtcTimestamp = true;
                }),
                _ => builder.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    o.UseUtcTimestamp = true;
                    o.ColorBehavior = CliConsole.Colour ? LoggerColorBehavior.Enabled : LoggerColorBehavior.Disabled;
                }),
            };
        });
    }
}
