using System.CommandLine;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw demo</c>: two virtio-ism devices of one communication domain on the model, driven
/// by the host stack end to end (<see cref="IsmDemo"/>), with a timed transcript on stdout.
/// Exit code 0 when every step did what it should.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Two virtio-ism devices in one domain on the model: allocate, grant, attach, write, kick, read, detach.");
        command.SetAction((_, cancellationToken) => IsmDemo.RunAsync(Console.Out, cancellationToken));
        return command;
    }
}
