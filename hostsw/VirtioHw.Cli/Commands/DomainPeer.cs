using System.Globalization;
using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw domain peer -o domain=PATH</c>: one model ISM device joined to a domain server,
/// driven one command per line from stdin, one answer line per command on stdout (<c>ok ...</c>
/// or <c>error ...</c>), so a script or a test can stop it (or kill it) between any two steps.
/// </summary>
/// <remarks>
/// Commands (tokens and offsets in hex with 0x, sizes and bytes in decimal or hex):
/// <c>alloc SIZE</c>, <c>attach TOKEN [r|w|rw]</c>, <c>grant TOKEN PERMS [DEVID]</c>,
/// <c>query TOKEN</c>, <c>fill TOKEN BYTE</c> (every byte of the region through the window),
/// <c>check TOKEN BYTE</c> (every byte reads BYTE), <c>kick TOKEN</c>, <c>detach TOKEN</c>,
/// <c>events</c> (the events received so far, one line), <c>wait-lost</c> (until the device
/// reports that its domain is gone), <c>rejoin</c> (a new device on the domain server, after a
/// loss), <c>quit</c>.
/// </remarks>
internal sealed class DomainPeer : IAsyncDisposable
{
    private readonly string _socketPath;
    private readonly TextWriter _output;
    private readonly Dictionary<ulong, IsmRegion> _regions = [];
    private IsmBench _bench;

    private DomainPeer(string socketPath, TextWriter output, IsmBench bench)
    {
        _socketPath = socketPath;
        _output = output;
        _bench = bench;
    }

    private IsmDevice Device => _bench.Devices[0];

    /// <summary>Joins the domain at <paramref name="socketPath"/>, answers commands from <paramref name="input"/> until it ends or says quit.</summary>
    public static async Task<int> RunAsync(string socketPath, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(socketPath, devices: 1), cancellationToken).ConfigureAwait(false);
        await using var peer = new DomainPeer(socketPath, output, bench);
        peer.Say($"ready devid {peer.Device.DevId} cdid {peer.Device.Cdid}");
        while (await input.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 0)
            {
                continue;
            }

            if (words[0] == "quit")
            {
                break;
            }

            try
            {
                peer.Say("ok " + await peer.ExecuteAsync(words, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is IsmException or VirtioException or FormatException or ArgumentException or IOException)
            {
                peer.Say($"error {words[0]}: {e.Message}");
            }
        }

        return 0;
    }

    public ValueTask DisposeAsync() => _bench.DisposeAsync();

    private async Task<string> ExecuteAsync(string[] words, CancellationToken cancellationToken)
    {
        switch (words[0])
        {
            case "alloc" when words.Length == 2:
                return Describe(Remember(await Device.AllocateAsync(Number(words[1]), cancellationToken).ConfigureAwait(false)));
            case "attach" when words.Length is 2 or 3:
                IsmPermissions access = (words.Length == 3 ? words[2] : "rw") switch
                {
                    "r" => IsmPermissions.Read,
                    "w" => IsmPermissions.Write,
                    "rw" => IsmPermissions.Read | IsmPermissions.Write,
                    string other => throw new FormatException($"access '{other}' is not r, w or rw"),
                };
                return Describe(Remember(await Device.AttachAsync(Number(words[1]), access, cancellationToken).ConfigureAwait(false)));
            case "grant" when words.Length == 3:
                await Device.GrantDefaultAsync(Number(words[1]), (IsmPermissions)Number(words[2]), cancellationToken).ConfigureAwait(false);
                return "granted";
            case "grant" when words.Length == 4:
                await Device.GrantAsync(Number(words[1]), Number(words[3]), (IsmPermissions)Number(words[2]), cancellationToken).ConfigureAwait(false);
                return "granted";
            case "query" when words.Length == 2:
                (ulong size, IsmPermissions permissions) = await Device.QueryAsync(Number(words[1]), cancellationToken).ConfigureAwait(false);
                return $"size {size} permissions 0x{(ulong)permissions:x}";
            case "fill" when words.Length == 3:
                IsmRegion filled = Region(words[1]);
                var bytes = new byte[filled.Size];
                Array.Fill(bytes, (byte)Number(words[2]));
                filled.Write(0, bytes);
                return $"filled {bytes.Length}";
            case "check" when words.Length == 3:
                IsmRegion checkedRegion = Region(words[1]);
                var seen = new byte[checkedRegion.Size];
                checkedRegion.Read(0, seen);
                int at = seen.AsSpan().IndexOfAnyExcept((byte)Number(words[2]));
                return at < 0 ? $"checked {seen.Length}" : throw new ArgumentException($"byte {at} reads 0x{seen[at]:x2}");
            case "kick" when words.Length == 2:
                Region(words[1]).Kick();
                return "kicked";
            case "detach" when words.Length == 2:
                ulong token = Number(words[1]);
                await Device.DetachAsync(token, cancellationToken).ConfigureAwait(false);
                _regions.Remove(token);
                return "detached";
            case "events" when words.Length == 1:
                var events = new List<string>();
                while (Device.TryReadEvent(out IsmEvent ev))
                {
                    events.Add($"{ev.Type}@0x{ev.Offset:x}/devid{ev.DevId}/peers{ev.Peers}");
                }

                return "events " + string.Join(' ', events);
            case "wait-lost" when words.Length == 1:
                return "lost: " + await WaitForLossAsync(cancellationToken).ConfigureAwait(false);
            case "rejoin" when words.Length == 1:
                _regions.Clear();
                await _bench.DisposeAsync().ConfigureAwait(false);
                _bench = await IsmBench.StartAsync(IsmModelDomain.Join(_socketPath, devices: 1), cancellationToken).ConfigureAwait(false);
                return $"ready devid {Device.DevId} cdid {Device.Cdid}";
            default:
                throw new FormatException($"'{string.Join(' ', words)}' is not a peer command");
        }
    }

    /// <summary>Reads events until the driver reports the device broken (its domain gone); the reason.</summary>
    private async Task<string> WaitForLossAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (IsmEvent _ in Device.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
            {
            }
        }
        catch (IsmDeviceNeedsResetException e)
        {
            return e.Message;
        }

        throw new IOException("the device's events ended without a loss");
    }

    private IsmRegion Remember(IsmRegion region)
    {
        _regions[region.Token] = region;
        return region;
    }

    private IsmRegion Region(string token) =>
        _regions.TryGetValue(Number(token), out IsmRegion? region) ? region : throw new ArgumentException($"no region {token} is mapped here");

    private static string Describe(IsmRegion region) => $"token 0x{region.Token:x} offset 0x{region.Offset:x} size {region.Size}";

    private static ulong Number(string text) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
            : ulong.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

    private void Say(string line)
    {
        _output.WriteLine(line);
        _output.Flush();
    }
}
