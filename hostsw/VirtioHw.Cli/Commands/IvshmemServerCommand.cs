using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VirtioHw.Domain;
using VirtioHw.Flash;
using VirtioHw.Platforms.Qemu.Ivshmem;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw ivshmem-server --socket PATH [--shm NAME-or-PATH] [--size N] [--vectors N]
/// [--mode OCTAL] [--group G] [--compat qemu]</c>: an ivshmem server speaking QEMU's protocol in the
/// foreground, logging joins, leaves, refusals and drops with the peer's pid, uid and gid
/// (<c>--log-format simple|systemd|json</c>) until Ctrl+C or SIGTERM. It announces a join by ringing vector 0 of the peers present (the seed specification)
/// unless <c>--compat qemu</c> makes it QEMU 7.2's server, which does not.
/// </summary>
internal static class IvshmemServerCommand
{
    public static Command Create()
    {
        var socket = new Option<string>("--socket")
        {
            Description = "UNIX socket peers connect to (QEMU: -chardev socket,path=PATH).",
            Required = true,
        };
        var shm = new Option<string?>("--shm")
        {
            Description = "Shared memory: a name for /dev/shm/NAME, or a file path; an anonymous memfd when omitted.",
        };
        var size = new Option<string>("--size")
        {
            Description = "Bytes of shared memory, a power of two (4M, 0x100000, 65536).",
            DefaultValueFactory = _ => "4M",
        };
        var vectors = new Option<int>("--vectors")
        {
            Description = "Interrupt vectors per peer (QEMU: ivshmem-doorbell,vectors=N).",
            DefaultValueFactory = _ => 1,
        };
        var maxPeers = new Option<int>("--max-peers")
        {
            Description = "Peers connected at once; further connections are refused.",
            DefaultValueFactory = _ => 64,
        };

        var access = new SocketAccessOptions();
        var serverLogging = new ServerLogging();
        var compat = new Option<string>("--compat")
        {
            Description = "'specification' (a join rings vector 0 of the peers present) or 'qemu' (QEMU 7.2's server: no join interrupt).",
            DefaultValueFactory = _ => "specification",
        };
        compat.AcceptOnlyFromAmong("specification", "qemu");

        var command = new Command("ivshmem-server", "Run an ivshmem server that QEMU ivshmem-doorbell devices and C# peers share.")
        {
            socket, shm, size, vectors, maxPeers, compat,
        };
        access.AddTo(command);
        serverLogging.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string sizeText = parse.GetValue(size)!;
            if (!Units.TryParse(sizeText, out long bytes))
            {
                throw UserErrorException.Usage($"--size '{sizeText}' is not a size (decimal or 0x hex, optional K, M or G)");
            }

            var settings = new IvshmemServerSettings
            {
                SocketPath = parse.GetValue(socket)!,
                SharedMemory = parse.GetValue(shm),
                Size = bytes,
                Vectors = parse.GetValue(vectors),
                MaxPeers = parse.GetValue(maxPeers),
                Access = access.Parse(parse),
                NotifyJoins = parse.GetValue(compat) != "qemu",
            };

            using ILoggerFactory factory = serverLogging.Create(parse);
            ILogger logger = factory.CreateLogger("VirtioHw.IvshmemServer");
            IvshmemServer server;
            try
            {
                server = IvshmemServer.Start(settings, logger);
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                throw new UserErrorException(e.Message);
            }

            // Ctrl+C cancels the command's token; a service manager's SIGTERM stops it the same way.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            using (server)
            {
                string memory = settings.SharedMemoryPath is { } file ? file + " (a file: not sealed, any peer can resize it)" : "a sealed anonymous memfd";
                string joins = settings.NotifyJoins ? "joins ring vector 0" : "no join interrupt (QEMU 7.2's server)";
                ServerLog.Listening(logger, "ivshmem server", settings.SocketPath, settings.Access.ToString(),
                    $"{Units.Size(settings.Size)} of {memory}, {settings.Vectors} vector(s) per peer, {joins}");
                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            ServerLog.Stopped(logger, "ivshmem server");
            return 0;
        });
        return command;
    }
}
