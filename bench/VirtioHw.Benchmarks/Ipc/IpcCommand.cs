using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using VirtioHw.Domain;
using VirtioHw.Drivers.Ism;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Benchmarks.Ipc;

/// <summary>
/// <c>vhw-bench ipc</c>: the data path and notification latency between two processes of one
/// cross-process domain. This process serves the domain (<see cref="DomainServer"/> over a memfd),
/// opens a model ISM device in it with the host stack (A), allocates a region and starts a second
/// process (<c>vhw-bench ipc-peer</c>, <see cref="IpcPeer"/>) whose own model device attaches it (B).
/// The steps are told to B on its standard input; everything timed goes through the region and
/// kicks. Timed with a stopwatch, not BenchmarkDotNet: a measurement spans two processes.
/// <list type="bullet">
/// <item>Data path, per size S: A streams S-byte transfers into two alternating halves of the
/// region, kicking after each; B waits for the UPDATE, reads the half, checks its sequence stamps
/// and kicks back, which frees that half for A. Bytes/s = bytes B received / elapsed.</item>
/// <item>Latency: A kicks, B takes the UPDATE and kicks, A takes the UPDATE; half of each round trip.</item>
/// </list>
/// </summary>
public static class IpcCommand
{
    /// <summary>The largest transfer; the region holds two.</summary>
    private const int MaxSize = 64 << 20;

    public static async Task<ResultFile> RunAsync(BenchOptions options, string workDirectory)
    {
        Directory.CreateDirectory(workDirectory);
        string socket = Path.Combine(Path.GetFullPath(workDirectory), $"ism-{Environment.ProcessId}.sock");
        EndpointDescription description = Description();
        using var server = new DomainServer(new DomainServerSettings { SocketPath = socket, MemorySize = 2L * MaxSize });
        await using IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(socket, 1, description)).ConfigureAwait(false);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(2UL * MaxSize).ConfigureAwait(false);
        using Process peer = IpcPeer.Start(socket);
        try
        {
            await peer.StandardInput.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"attach {region.Token}")).ConfigureAwait(false);
            await Expect(peer, "attached").ConfigureAwait(false);
            await a.WaitForEventAsync(e => e.Type == IsmEventType.Attach).ConfigureAwait(false);

            var result = new ResultFile
            {
                Benchmark = "ipc-csharp",
                Producer = $"two processes of one cross-process domain (DomainServer, memfd), each a model ISM device opened by the host stack; stopwatch, {(options.Quick ? "quick" : "full")} budgets",
            };
            // A quick run stops at 4 MiB: on the model a 64 MiB transfer takes seconds.
            double budget = options.Quick ? 0.1 : 1.0;
            for (int size = 64; size <= (options.Quick ? 4 << 20 : MaxSize); size *= 4)
            {
                result.Values[string.Create(CultureInfo.InvariantCulture, $"Bps_{size}")] = await StreamAsync(a, region, peer, size, budget).ConfigureAwait(false);
            }

            int roundTrips = options.Quick ? 500 : 5000;
            (double median, double p99) = await PingPongAsync(a, region, peer, roundTrips).ConfigureAwait(false);
            result.Values["median_us"] = median;
            result.Values["p99_us"] = p99;
            result.Notes["round_trips"] = roundTrips.ToString(CultureInfo.InvariantCulture);

            await peer.StandardInput.WriteLineAsync("quit").ConfigureAwait(false);
            await Expect(peer, "bye").ConfigureAwait(false);
            await region.DetachAsync().ConfigureAwait(false);
            return result;
        }
        finally
        {
            if (!peer.HasExited)
            {
                peer.Kill();
            }
        }
    }

    /// <summary>The built-in virtio-ism with 1024 slots of 128 KiB: a region of two 64 MiB halves fills it.</summary>
    public static EndpointDescription Description() => IsmDescriptions.WithWindow(128 * 1024, 1024);

    /// <summary>Bytes/s of <paramref name="size"/>-byte transfers from A to B for about <paramref name="budget"/> seconds.</summary>
    private static async Task<double> StreamAsync(IsmDevice a, IsmRegion region, Process peer, int size, double budget)
    {
        byte[] data = new byte[size];
        new Random(size).NextBytes(data);

        // A short run sizes the timed one.
        int probe = Math.Max(2, Math.Min(64, (4 << 20) / size));
        double probeSeconds = await TransfersAsync(a, region, peer, data, probe).ConfigureAwait(false);
        int count = (int)Math.Clamp(budget / (probeSeconds / probe), 3, 100_000);
        double seconds = await TransfersAsync(a, region, peer, data, count).ConfigureAwait(false);
        return (double)size * count / seconds;
    }

    private static async Task<double> TransfersAsync(IsmDevice a, IsmRegion region, Process peer, byte[] data, int count)
    {
        int size = data.Length;
        await peer.StandardInput.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"stream {size} {count}")).ConfigureAwait(false);
        await Expect(peer, "ready").ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            if (i >= 2)
            {
                // B has read transfer i - 2, so its half is free again.
                await a.WaitForEventAsync(e => e.Type == IsmEventType.Update).ConfigureAwait(false);
            }

            Stamp(data, i);
            region.Write((ulong)(i % 2) * (ulong)size, data);
            region.Kick();
        }

        for (int i = Math.Max(0, count - 2); i < count; i++)
        {
            await a.WaitForEventAsync(e => e.Type == IsmEventType.Update).ConfigureAwait(false);
        }

        double seconds = clock.Elapsed.TotalSeconds;
        await Expect(peer, "received").ConfigureAwait(false);
        return seconds;
    }

    /// <summary>Transfer <paramref name="sequence"/> in the first and the last 8 bytes (the same 8 bytes below 16).</summary>
    internal static void Stamp(Span<byte> data, long sequence)
    {
        BinaryPrimitives.WriteInt64LittleEndian(data, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(data[^8..], sequence);
    }

    private static async Task<(double Median, double P99)> PingPongAsync(IsmDevice a, IsmRegion region, Process peer, int roundTrips)
    {
        const int warmup = 100;
        await peer.StandardInput.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"pong {roundTrips + warmup}")).ConfigureAwait(false);
        await Expect(peer, "ready").ConfigureAwait(false);
        var oneWay = new double[roundTrips];
        for (int i = 0; i < roundTrips + warmup; i++)
        {
            long start = Stopwatch.GetTimestamp();
            region.Kick();
            await a.WaitForEventAsync(e => e.Type == IsmEventType.Update).ConfigureAwait(false);
            if (i >= warmup)
            {
                oneWay[i - warmup] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / 2;
            }
        }

        await Expect(peer, "received").ConfigureAwait(false);
        Array.Sort(oneWay);
        return (oneWay[roundTrips / 2], oneWay[Math.Min(roundTrips - 1, roundTrips * 99 / 100)]);
    }

    private static async Task Expect(Process peer, string word)
    {
        string? line = await peer.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120)).ConfigureAwait(false);
        if (line != word)
        {
            string errors = peer.HasExited ? await peer.StandardError.ReadToEndAsync().ConfigureAwait(false) : "";
            throw new InvalidOperationException($"ipc-peer answered '{line}' instead of '{word}' {errors.Trim()}");
        }
    }
}
