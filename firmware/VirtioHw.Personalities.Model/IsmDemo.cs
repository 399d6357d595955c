using System.Diagnostics;
using System.Text;
using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Pci;
using VirtioHw.Wire;
using IsmDomain = VirtioHw.Firmware.Ism.IsmDomain;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// The demonstration behind <c>virtiohw demo</c>: two virtio-ism devices of one domain on the
/// model, driven by the host stack. A allocates a region and grants B, B attaches, A writes a
/// message through its window and kicks, B gets the update event and reads the same bytes through
/// its own window; then both detach, with their events. Each step is a line of the transcript
/// with the time since the start.
/// </summary>
public static class IsmDemo
{
    /// <summary>The message A writes and B reads.</summary>
    public const string Message = "hello from device A through the shared ISM region";

    /// <summary>Runs the demonstration, writing the transcript to <paramref name="output"/>; returns the exit code (0: every step as expected).</summary>
    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var clock = Stopwatch.StartNew();
        void Say(string line) => output.WriteLine($"[{clock.Elapsed.TotalMilliseconds,9:F3} ms] {line}");

        Say("model platform: two virtio-ism endpoints in one communication domain");
        await using IsmBench bench = await IsmBench.StartAsync(2, cancellationToken).ConfigureAwait(false);
        return await RunFlowAsync(Say, bench.Functions, bench.Devices[0], bench.Devices[1], bench.Domain.Domain, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The steps themselves, on two open devices <paramref name="a"/> and <paramref name="b"/> of
    /// <paramref name="domain"/> on any platform, each step a line through <paramref name="say"/>;
    /// returns the exit code.
    /// </summary>
    public static async Task<int> RunFlowAsync(Action<string> say, IReadOnlyList<PciFunction> functions, IsmDevice a, IsmDevice b, IsmDomain domain,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(say);
        ArgumentNullException.ThrowIfNull(functions);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(domain);
        foreach (PciFunction function in functions)
        {
            say($"enumerated {function}");
        }

        foreach ((string name, IsmDevice device) in new[] { ("A", a), ("B", b) })
        {
            say($"{name}: {device.Transport.Location} features 0x{device.Transport.NegotiatedFeatures:x} cdid {device.Cdid} devid {device.DevId} "
                + $"chunk {device.ChunkSize} notify {device.NotifySize}; regions {device.Regions}; notify {device.Notify}");
        }

        if (a.Cdid != b.Cdid)
        {
            say("the two devices report different domains");
            return 1;
        }

        IsmRegion atA = await a.AllocateAsync(64 * 1024, cancellationToken).ConfigureAwait(false);
        say($"A allocated {atA}");
        await a.GrantAsync(atA.Token, b.DevId, IsmPermissions.Read | IsmPermissions.Write | IsmPermissions.Attach, cancellationToken).ConfigureAwait(false);
        say($"A granted devid {b.DevId} read, write and attach");

        IsmRegion atB = await b.AttachAsync(atA.Token, IsmPermissions.Read | IsmPermissions.Write, cancellationToken).ConfigureAwait(false);
        say($"B attached {atB}");
        IsmEvent attached = await a.WaitForEventAsync(e => e.Type == IsmEventType.Attach, cancellationToken).ConfigureAwait(false);
        say($"A got {Describe(attached)}");

        byte[] message = Encoding.UTF8.GetBytes(Message);
        atA.Write(0, message);
        atA.Kick();
        say($"A wrote {message.Length} bytes at offset 0 and kicked");
        IsmEvent update = await b.WaitForEventAsync(e => e.Type == IsmEventType.Update, cancellationToken).ConfigureAwait(false);
        say($"B got {Describe(update)}");
        var received = new byte[message.Length];
        atB.Read(0, received);
        say($"B read \"{Encoding.UTF8.GetString(received)}\"");
        if (!received.AsSpan().SequenceEqual(message) || update.Offset != atB.Offset)
        {
            say("B did not see what A wrote");
            return 1;
        }

        await atB.DetachAsync(cancellationToken).ConfigureAwait(false);
        say("B detached");
        IsmEvent detached = await a.WaitForEventAsync(e => e.Type == IsmEventType.Detach, cancellationToken).ConfigureAwait(false);
        say($"A got {Describe(detached)}");
        await atA.DetachAsync(cancellationToken).ConfigureAwait(false);
        say($"A detached; the region is freed ({domain.RegionCount} regions left, {domain.FreeChunks} of {domain.ChunkCount} chunks free)");
        say("done");
        return 0;
    }

    private static string Describe(IsmEvent e) => e.Type switch
    {
        IsmEventType.Update => $"UPDATE of the region at 0x{e.Offset:x} from devid {e.DevId}",
        _ => $"{e.Type.ToString().ToUpperInvariant()} of the region at 0x{e.Offset:x} by devid {e.DevId}, {e.Peers} peer(s)",
    };
}
