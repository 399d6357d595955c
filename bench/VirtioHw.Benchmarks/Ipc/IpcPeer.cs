using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using VirtioHw.Drivers.Ism;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Benchmarks.Ipc;

/// <summary>
/// <c>vhw-bench ipc-peer SOCKET</c>: the second process of <see cref="IpcCommand"/>, device B. Reads
/// one step per line on standard input and answers on standard output:
/// <c>attach TOKEN</c> → <c>attached</c>; <c>stream SIZE COUNT</c> → <c>ready</c>, then the transfers through the
/// <see cref="StreamRing"/>, then <c>drain KICKS</c> (A's kicks to take) → <c>received KICKS</c> (B's); <c>pong N</c> → <c>ready</c>, N kicks answered, <c>received</c>; <c>quit</c> → <c>bye</c>.
/// </summary>
public static class IpcPeer
{
    /// <summary>Starts this executable as the peer of the domain at <paramref name="socket"/>.</summary>
    public static Process Start(string socket)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        }

        start.ArgumentList.Add("ipc-peer");
        start.ArgumentList.Add(socket);
        return Process.Start(start) ?? throw new InvalidOperationException("the peer process did not start");
    }

    public static async Task RunAsync(string socket)
    {
        await using IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(socket, 1, IpcCommand.Description())).ConfigureAwait(false);
        IsmDevice b = bench.Devices[0];
        IsmRegion? region = null;
        while (Console.ReadLine() is { } line)
        {
            string[] words = line.Split(' ');
            switch (words[0])
            {
                case "attach":
                    region = await b.AttachAsync(ulong.Parse(words[1], CultureInfo.InvariantCulture)).ConfigureAwait(false);
                    Console.WriteLine("attached");
                    break;
                case "stream":
                    await StreamAsync(b, region!, int.Parse(words[1], CultureInfo.InvariantCulture), long.Parse(words[2], CultureInfo.InvariantCulture)).ConfigureAwait(false);
                    break;
                case "pong":
                    Console.WriteLine("ready");
                    for (int i = int.Parse(words[1], CultureInfo.InvariantCulture); i > 0; i--)
                    {
                        await b.WaitForEventAsync(e => e.Type == IsmEventType.Update).ConfigureAwait(false);
                        region!.Kick();
                    }

                    Console.WriteLine("received");
                    break;
                case "quit":
                    if (region is not null)
                    {
                        await region.DetachAsync().ConfigureAwait(false);
                    }

                    Console.WriteLine("bye");
                    return;
                default:
                    throw new UserErrorException($"ipc-peer: unknown step '{line}'");
            }
        }
    }

    /// <summary>B's side of a stream: reads the ring, then takes A's kicks and tells A how many it sent itself.</summary>
    private static async Task StreamAsync(IsmDevice b, IsmRegion region, int size, long count)
    {
        var ring = new StreamRing(b, region, size);
        Console.WriteLine("ready");
        await ring.ConsumeAsync(new byte[size], count).ConfigureAwait(false);
        string[] drain = (Console.ReadLine() ?? "").Split(' ');
        if (drain.Length != 2 || drain[0] != "drain" || !long.TryParse(drain[1], CultureInfo.InvariantCulture, out long kicks))
        {
            throw new UserErrorException($"ipc-peer: expected 'drain KICKS' after a stream, got '{string.Join(' ', drain)}'");
        }

        await ring.DrainAsync(kicks).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"received {ring.KicksSent}"));
    }
}
