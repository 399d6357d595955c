using System.CommandLine;
using VirtioHw.Domain;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>--mode OCTAL</c> and <c>--group NAME-or-ID</c> of a server's UNIX socket: who may connect
/// (the same rule for the socket file and for each peer's credentials). Shared by
/// <c>domain serve</c> and <c>ivshmem-server</c>.
/// </summary>
internal sealed class SocketAccessOptions
{
    private readonly Option<string> _mode = new("--mode")
    {
        Description = "Permission bits of the socket file, octal; a peer needs the write bit of its class (owner, group, others). Connections the rule does not allow are refused.",
        DefaultValueFactory = _ => "0600",
    };

    private readonly Option<string?> _group = new("--group")
    {
        Description = "Group of the socket file, a name or a number (default: the server's own group); its members get the mode's group bits.",
    };

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_mode);
        command.Options.Add(_group);
    }

    /// <summary>The access the command line asks for; one line naming the option when it is not valid.</summary>
    /// <exception cref="UserErrorException">A mode that is not octal, or a group this system does not have.</exception>
    public SocketAccess Parse(ParseResult parse)
    {
        try
        {
            uint mode = SocketAccess.ParseMode(parse.GetValue(_mode)!);
            return parse.GetValue(_group) is { } group
                ? new SocketAccess { Mode = mode, Group = SocketAccess.ParseGroup(group) }
                : new SocketAccess { Mode = mode };
        }
        catch (FormatException e)
        {
            throw new UserErrorException(e.Message);
        }
    }
}
