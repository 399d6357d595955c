using System.CommandLine;

namespace VirtioHw.Cli;

/// <summary>The subcommands of <c>virtiohw</c>; each file in Commands/ builds one.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return Commands.RegsCommand.Create();
        yield return Commands.FlashCommand.Create();
        yield return Commands.LspciCommand.Create();
        yield return Commands.DemoCommand.Create();
        yield return Commands.IvshmemServerCommand.Create();
        yield return Commands.DomainCommand.Create();
    }
}
