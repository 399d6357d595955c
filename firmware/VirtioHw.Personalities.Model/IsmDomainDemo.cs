using System.Diagnostics;
using System.Globalization;
using System.Text;
using VirtioHw.Drivers.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// The ISM demonstration split over two processes that join one domain server: side A allocates
/// a region and prints its token, waits for B to attach, writes the message and kicks, then waits
/// for B to detach and detaches too; side B attaches the token it was given, waits for the UPDATE
/// and reads the message through its own window, then detaches. Each process runs one model ISM
/// device whose chunk window maps the server's memory.
/// </summary>
public static class IsmDomainDemo
{
    /// <summary>The prefix of side A's line that carries the token, for whoever starts side B.</summary>
    public const string TokenLinePrefix = "token 0x";

    /// <summary>Side A: allocate, announce the token, wait for the attach, write and kick, wait for the detach, detach.</summary>
    /// <returns>The exit code: 0 when every step happened.</returns>
    public static async Task<int> RunAllocatorAsync(TextWriter output, string socketPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        (Action<string> say, Stopwatch _) = Transcript(output, "A");
        await using IsmBench bench = await StartAsync(say, socketPath, cancellationToken).ConfigureAwait(false);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(64 * 1024, cancellationToken).ConfigureAwait(false);
        say($"allocated {region}");
        say($"{TokenLinePrefix}{region.Token:x16}");
        IsmEvent attached = await a.WaitForEventAsync(e => e.Type == IsmEventType.Attach, cancellationToken).ConfigureAwait(false);
        say($"got ATTACH by devid {attached.DevId}, {attached.Peers} peer(s)");
        byte[] message = Encoding.UTF8.GetBytes(IsmDemo.Message);
        region.Write(0, message);
        region.Kick();
        say($"wrote {message.Length} bytes at offset 0 and kicked");
        IsmEvent detached = await a.WaitForEventAsync(e => e.Type == IsmEventType.Detach, cancellationToken).ConfigureAwait(false);
        say($"got DETACH by devid {detached.DevId}, {detached.Peers} peer(s)");
        await region.DetachAsync(cancellationToken).ConfigureAwait(false);
        say("detached; done");
        return 0;
    }

    /// <summary>Side B: attach the region <paramref name="token"/>, wait for the UPDATE, read and check the message, detach.</summary>
    /// <returns>The exit code: 0 when B read what A wrote.</returns>
    public static async Task<int> RunAttacherAsync(TextWriter output, string socketPath, ulong token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        (Action<string> say, Stopwatch _) = Transcript(output, "B");
        await using IsmBench bench = await StartAsync(say, socketPath, cancellationToken).ConfigureAwait(false);
        IsmDevice b = bench.Devices[0];
        IsmRegion region = await b.AttachAsync(token, IsmPermissions.Read | IsmPermissions.Write, cancellationToken).ConfigureAwait(false);
        say($"attached {region}");
        IsmEvent update = await b.WaitForEventAsync(e => e.Type == IsmEventType.Update, cancellationToken).ConfigureAwait(false);
        say($"got UPDATE of the region at 0x{update.Offset:x} from devid {update.DevId}");
        byte[] expected = Encoding.UTF8.GetBytes(IsmDemo.Message);
        var received = new byte[expected.Length];
        region.Read(0, received);
        say($"read \"{Encoding.UTF8.GetString(received)}\"");
        bool same = received.AsSpan().SequenceEqual(expected) && update.Offset == region.Offset;
        await region.DetachAsync(cancellationToken).ConfigureAwait(false);
        say(same ? "detached; done" : "detached; B did not see what A wrote");
        return same ? 0 : 1;
    }

    /// <summary>Reads the token of side A's <see cref="TokenLinePrefix"/> line; false for any other line.</summary>
    public static bool TryParseTokenLine(string line, out ulong token)
    {
        ArgumentNullException.ThrowIfNull(line);
        int at = line.IndexOf(TokenLinePrefix, StringComparison.Ordinal);
        token = 0;
        return at >= 0 && ulong.TryParse(line.AsSpan(at + TokenLinePrefix.Length).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out token);
    }

    private static (Action<string> Say, Stopwatch Clock) Transcript(TextWriter output, string side)
    {
        var clock = Stopwatch.StartNew();
        return (line =>
        {
            output.WriteLine($"[{clock.Elapsed.TotalMilliseconds,9:F3} ms] {side}: {line}");
            output.Flush();
        }, clock);
    }

    private static async Task<IsmBench> StartAsync(Action<string> say, string socketPath, CancellationToken cancellationToken)
    {
        IsmModelDomain domain = IsmModelDomain.Join(socketPath, devices: 1);
        IsmBench bench = await IsmBench.StartAsync(domain, cancellationToken).ConfigureAwait(false);
        IsmDevice device = bench.Devices[0];
        say($"joined the domain at {socketPath}: cdid {device.Cdid} devid {device.DevId} chunk {device.ChunkSize}");
        return bench;
    }
}
