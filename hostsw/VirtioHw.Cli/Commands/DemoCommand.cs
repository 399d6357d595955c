using System.CommandLine;
using VirtioHw.Cosim;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw demo [--platform model|rtl] [--trace FILE.fst|FILE.vcd]</c>: driven by the host stack end to
/// end, with a timed transcript on stdout: two virtio-ism devices of one communication domain
/// (<see cref="IsmDemo"/>), then two ivshmem peers playing ping-pong (<see cref="IvshmemDemo"/>),
/// then a virtio-dmabuf export and release (<see cref="DmabufDemo"/>); on the model, or on the RTL
/// endpoints in co-simulation (<see cref="CosimDemo"/>). Exit code 0 when every step did what it
/// should, 3 when an RTL instance stopped responding (<c>--stall-at N</c> makes that happen).
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var platform = new Option<string>("--platform", "-p")
        {
            Description = "Where the devices are: model (the C# model) or rtl (the RTL endpoints in co-simulation; needs 'make cosim').",
            DefaultValueFactory = _ => "model",
        };
        platform.AcceptOnlyFromAmong("model", "rtl");
        var trace = new Option<string?>("--trace")
        {
            Description = "With --platform rtl: write a waveform of every endpoint instance, FILE-<instance>.fst beside FILE.fst (or .vcd, converted by gtkwave's fst2vcd), and a GTKWave save file FILE-<instance>.gtkw with its ports grouped by bus.",
        };
        var stallAt = new Option<ulong?>("--stall-at")
        {
            Description = "With --platform rtl, fault injection: from clock cycle N of each endpoint instance on, its host ports take no request; the demo fails with one line and exit code 3.",
            HelpName = "N",
        };
        var command = new Command("demo", "Two virtio-ism devices share a region (allocate, grant, attach, write, kick, read, detach), then two ivshmem peers play ping-pong, then a dmabuf is exported and released.")
        {
            platform, trace, stallAt,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            bool rtl = parse.GetValue(platform) == "rtl";
            string? waveform = parse.GetValue(trace);
            if (waveform is not null)
            {
                CheckTrace(waveform, rtl);
            }

            ulong? stall = parse.GetValue(stallAt);
            if (stall is not null && !rtl)
            {
                throw new UserErrorException("--stall-at needs --platform rtl: it stops the ports of an RTL instance");
            }

            try
            {
                Console.Out.WriteLine("== virtio-ism ==");
                int ism = rtl
                    ? await CosimDemo.RunIsmAsync(Console.Out, waveform, stall, cancellationToken).ConfigureAwait(false)
                    : await IsmDemo.RunAsync(Console.Out, cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine("== ivshmem ==");
                int ivshmem = rtl
                    ? await CosimDemo.RunIvshmemAsync(Console.Out, waveform, stall, cancellationToken).ConfigureAwait(false)
                    : await IvshmemDemo.RunAsync(Console.Out, cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine("== virtio-dmabuf ==");
                int dmabuf = rtl
                    ? await CosimDemo.RunDmabufAsync(Console.Out, waveform, stall, cancellationToken).ConfigureAwait(false)
                    : await DmabufDemo.RunAsync(Console.Out, cancellationToken).ConfigureAwait(false);
                return new[] { ism, ivshmem, dmabuf }.FirstOrDefault(code => code != 0);
            }
            catch (CosimLibraryException e)
            {
                throw new UserErrorException(e.Message, e);
            }
            catch (CosimException e)
            {
                // An instance that stopped responding: its one line, and an exit code of its own.
                throw new UserErrorException(e.Message, ExitCodes.DeviceStopped);
            }
        });
        return command;
    }

    private static void CheckTrace(string waveform, bool rtl)
    {
        if (!rtl)
        {
            throw new UserErrorException("--trace needs --platform rtl: the model has no waveforms");
        }

        try
        {
            CosimPlatformSettings.CheckTrace(waveform);
        }
        catch (ArgumentException e)
        {
            throw new UserErrorException($"--trace {e.Message}", e);
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(waveform))!;
        if (!Directory.Exists(directory))
        {
            throw new UserErrorException($"--trace '{waveform}': the folder {directory} does not exist");
        }
    }
}
