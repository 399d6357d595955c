using System.CommandLine;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw demo</c>: on the model, driven by the host stack end to end, with a timed transcript
/// on stdout: two virtio-ism devices of one communication domain (<see cref="IsmDemo"/>), then two
/// ivshmem peers playing ping-pong (<see cref="IvshmemDemo"/>), then a virtio-dmabuf export and
/// release (<see cref="DmabufDemo"/>). Exit code 0 when every step did what it should.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "On the model: two virtio-ism devices share a region (allocate, grant, attach, write, kick, read, detach), then two ivshmem peers play ping-pong, then a dmabuf is exported and released.");
        command.SetAction(async (_, cancellationToken) =>
        {
            Console.Out.WriteLine("== virtio-ism ==");
            int ism = await IsmDemo.RunAsync(Console.Out, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine("== ivshmem ==");
            int ivshmem = await IvshmemDemo.RunAsync(Console.Out, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine("== virtio-dmabuf ==");
            int dmabuf = await DmabufDemo.RunAsync(Console.Out, cancellationToken).ConfigureAwait(false);
            return new[] { ism, ivshmem, dmabuf }.FirstOrDefault(code => code != 0);
        });
        return command;
    }
}
