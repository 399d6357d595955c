using System.CommandLine;
using VirtioHw.Cli;

// virtiohw: one root command; each capability contributes its subcommands from Commands/.
var root = new RootCommand("VirtioHw: host software for virtio shared-memory devices on FPGAs and SmartNICs. " + ExitCodes.Description);
root.Options.Add(CliRunner.ColorOption);
foreach (Command command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

return await CliRunner.RunAsync(root, args).ConfigureAwait(false);
