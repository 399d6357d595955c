using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VirtioHw.Domain;
using VirtioHw.Drivers.Ism;
using VirtioHw.Firmware.Ism;
using VirtioHw.Flash;
using VirtioHw.Host.Platforms;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw domain serve --socket PATH [--mode OCTAL] [--group G]</c>: a virtio-ism
/// communication domain server in the foreground, logging every peer that joins, is refused,
/// leaves or is dropped with its pid, uid and gid (<c>--log-format simple|systemd|json</c>), until
/// Ctrl+C or SIGTERM (the socket is removed). <c>virtiohw domain demo --side a|b -o domain=PATH [--token HEX]</c>: one side of the
/// ISM demonstration, in a process of its own, on a model device joined to that server.
/// <c>virtiohw domain peer -o domain=PATH</c>: a model device joined to that server, driven one
/// command per line from stdin (see <see cref="DomainPeer"/>).
/// </summary>
internal static class DomainCommand
{
    public static Command Create() => new("domain", "A virtio-ism communication domain shared by processes through a server on a UNIX socket.")
    {
        CreateServe(),
        CreateDemo(),
        CreatePeer(),
    };

    private static Command CreateServe()
    {
        var socket = new Option<string>("--socket")
        {
            Description = "UNIX socket the processes connect to.",
            Required = true,
        };
        var memory = new Option<string>("--memory")
        {
            Description = "Bytes of domain memory, a whole number of chunks (32M: what one model virtio-ism endpoint maps).",
            DefaultValueFactory = _ => "32M",
        };
        var chunk = new Option<string>("--chunk-size")
        {
            Description = "Chunk size, a power of two equal to the members' chunk slots (128K for the model virtio-ism endpoint).",
            DefaultValueFactory = _ => "128K",
        };
        var access = new SocketAccessOptions();
        var serverLogging = new ServerLogging();
        var command = new Command("serve", "Hold a communication domain and share its memory with the processes that join it.")
        {
            socket, memory, chunk,
        };
        access.AddTo(command);
        serverLogging.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            long memoryBytes = Size(parse.GetValue(memory)!, "--memory");
            long chunkBytes = Size(parse.GetValue(chunk)!, "--chunk-size");
            using ILoggerFactory factory = serverLogging.Create(parse);
            ILogger logger = factory.CreateLogger("VirtioHw.DomainServer");
            DomainServer server;
            try
            {
                server = new DomainServer(new DomainServerSettings
                {
                    SocketPath = parse.GetValue(socket)!,
                    MemorySize = memoryBytes,
                    ChunkSize = (ulong)chunkBytes,
                    Access = access.Parse(parse),
                }, logger);
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                throw new UserErrorException(e.Message);
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            using (server)
            {
                ServerLog.Listening(logger, "domain server", server.SocketPath, server.Access.ToString(),
                    $"cdid {server.Domain.Cdid}, {server.Domain.ChunkCount} chunks of {Units.Size(chunkBytes)}");
                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            ServerLog.Stopped(logger, "domain server");
            return 0;
        });
        return command;
    }

    private static Command CreateDemo()
    {
        var side = new Option<string>("--side")
        {
            Description = "a: allocate a region, print its token, write and kick when b attaches; b: attach the token, read what a wrote.",
            Required = true,
        };
        side.AcceptOnlyFromAmong("a", "b");
        var token = new Option<string?>("--token")
        {
            Description = "Side b: the region token side a printed (hex).",
        };
        var options = new Option<string[]>("--option", "-o")
        {
            Description = "A model platform parameter, name=value; domain=PATH (required) names the domain server's socket.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("demo", "One side of the ISM demonstration in this process, on a model device joined to a domain server.")
        {
            side, token, options,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string socketPath = DomainSocket(parse.GetValue(options), "demo");
            try
            {
                if (parse.GetValue(side) == "a")
                {
                    return await IsmDomainDemo.RunAllocatorAsync(Console.Out, socketPath, cancellationToken).ConfigureAwait(false);
                }

                string text = parse.GetValue(token) ?? throw UserErrorException.Usage("--side b needs --token, the token side a printed");
                if (!ulong.TryParse(text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text, System.Globalization.NumberStyles.AllowHexSpecifier,
                    System.Globalization.CultureInfo.InvariantCulture, out ulong value))
                {
                    throw UserErrorException.Usage($"--token '{text}' is not a hexadecimal token");
                }

                return await IsmDomainDemo.RunAttacherAsync(Console.Out, socketPath, value, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new UserErrorException(e.Message);
            }
            catch (Exception e) when (e is IsmDeviceNeedsResetException or IsmDomainUnavailableException)
            {
                throw new UserErrorException($"lost the domain at {socketPath}: {e.Message}", ExitCodes.DeviceStopped);
            }
            catch (IsmException e)
            {
                throw new UserErrorException($"the device refused: {e.Message}");
            }
        });
        return command;
    }

    private static Command CreatePeer()
    {
        var options = new Option<string[]>("--option", "-o")
        {
            Description = "A model platform parameter, name=value; domain=PATH (required) names the domain server's socket.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("peer", "A model ISM device joined to a domain server, driven one command per line from stdin (alloc, attach, grant, query, fill, check, kick, detach, events, wait-lost, rejoin, quit).")
        {
            options,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string socketPath = DomainSocket(parse.GetValue(options), "peer");
            try
            {
                return await DomainPeer.RunAsync(socketPath, Console.In, Console.Out, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new UserErrorException(e.Message);
            }
        });
        return command;
    }

    /// <summary>The domain=PATH of the platform options <paramref name="values"/>; a user error when absent.</summary>
    private static string DomainSocket(string[]? values, string command)
    {
        PlatformOptions platform;
        try
        {
            platform = PlatformOptions.Parse(values ?? []);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new UserErrorException(e.Message);
        }

        return platform.GetParameter(IsmModelDomain.DomainOption)
            ?? throw UserErrorException.Usage($"domain {command} needs -o {IsmModelDomain.DomainOption}=PATH, the socket of a running 'virtiohw domain serve'");
    }

    private static long Size(string text, string option) =>
        Units.TryParse(text, out long bytes) && bytes > 0 ? bytes : throw UserErrorException.Usage($"{option} '{text}' is not a size (decimal or 0x hex, optional K, M or G)");
}
