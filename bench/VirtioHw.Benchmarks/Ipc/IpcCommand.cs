using System.Diagnostics;
using System.Globalization;
using VirtioHw.Domain;
using VirtioHw.Drivers.Ism;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Benchmarks.Ipc;

/// <summary>
/// <c>vhw-bench ipc</c>: the data path and notification latency between two processes of one
/// cross-process domain. This process serves the domain (<see cref="DomainServer"/> over a memfd),
/// opens a model ISM device in it with the host stack (A), allocates a region and starts a second
/// process (<c>vhw-bench ipc-peer</c>, <see cref="IpcPeer"/>) whose own model device attaches it (B).
/// The steps are told to B on its standard input; everything timed goes through the region and
/// kicks. Timed with a stopwatch, not BenchmarkDotNet: a measurement spans two processes.
/// <list type="bullet">
/// <item>Data path, per size S: A streams S-byte transfers through a ring of S-byte slots in the
/// region (<see cref="StreamRing"/>: positions in the region, a kick only when the other side
/// waits); B reads each slot and checks its sequence stamps. Bytes/s = bytes B read / elapsed.</item>
/// <item>Latency: A kicks, B takes the UPDATE and kicks, A takes the UPDATE; half of each round trip.
/// Then again with two CPU-bound processes (<see cref="Spinners"/>) running beside both sides.</item>
/// </list>
/// </summary>
public static class IpcCommand
{
    /// <summary>The largest transfer; the region holds a ring of two.</summary>
    private const int MaxSize = 64 << 20;

    private const ulong ChunkSize = 128 * 1024;

    private const int StreamRounds = 3;

    /// <summary>Chunk slots of each device, and chunks of the domain: a power of two that holds the ring's region (1025 chunks).</summary>
    private const ulong ChunkSlots = 2048;

    public static async Task<ResultFile> RunAsync(BenchOptions options, string workDirectory)
    {
        Directory.CreateDirectory(workDirectory);
        string socket = Path.Combine(Path.GetFullPath(workDirectory), $"ism-{Environment.ProcessId}.sock");
        EndpointDescription description = Description();
        using var server = new DomainServer(new DomainServerSettings { SocketPath = socket, MemorySize = (long)(ChunkSlots * ChunkSize), ChunkSize = ChunkSize });
        await using IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(socket, 1, description)).ConfigureAwait(false);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(StreamRing.RegionBytes(MaxSize)).ConfigureAwait(false);
        using Process peer = IpcPeer.Start(socket);
        try
        {
            await peer.StandardInput.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"attach {region.Token}")).ConfigureAwait(false);
            await Expect(peer, "attached").ConfigureAwait(false);
            await a.WaitForEventAsync(e => e.Type == IsmEventType.Attach).ConfigureAwait(false);

            var result = new ResultFile
            {
                Benchmark = "ipc-csharp",
                Producer = $"two processes of one cross-process domain (DomainServer, memfd), each a model ISM device opened by the host stack; data path through a ring of slots in the region, median of {StreamRounds} rounds; stopwatch, {(options.Quick ? "quick" : "full")} budgets",
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
            using (Spinners.Start(2))
            {
                (double loadedMedian, double loadedP99) = await PingPongAsync(a, region, peer, roundTrips).ConfigureAwait(false);
                result.Values["loaded_median_us"] = loadedMedian;
                result.Values["loaded_p99_us"] = loadedP99;
            }

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

    /// <summary>The built-in virtio-ism with room for the ring's region of two 64 MiB slots and its header.</summary>
    public static EndpointDescription Description() => IsmDescriptions.WithWindow(ChunkSize, ChunkSlots);

    /// <summary>
    /// Bytes/s of <paramref name="size"/>-byte transfers from A to B for about <paramref name="budget"/>
    /// seconds: the median of <see cref="StreamRounds"/> rounds, as memcpy's figure is a median of rounds.
    /// </summary>
    private static async Task<double> StreamAsync(IsmDevice a, IsmRegion region, Process peer, int size, double budget)
    {
        byte[] data = new byte[size];
        new Random(size).NextBytes(data);

        // A short run warms both sides up and sizes the timed one.
        long probe = Math.Clamp((16L << 20) / size, 4, 4096);
        double probeSeconds = await TransfersAsync(a, region, peer, data, probe).ConfigureAwait(false);
        long count = (long)Math.Clamp(budget / StreamRounds / (probeSeconds / probe), 3, 50_000_000);
        var rates = new double[StreamRounds];
        for (int round = 0; round < StreamRounds; round++)
        {
            rates[round] = (double)size * count / await TransfersAsync(a, region, peer, data, count).ConfigureAwait(false);
        }

        Array.Sort(rates);
        return rates[StreamRounds / 2];
    }

    /// <summary>Seconds from A's first write until B has read the last of <paramref name="count"/> transfers.</summary>
    private static async Task<double> TransfersAsync(IsmDevice a, IsmRegion region, Process peer, byte[] data, long count)
    {
        var ring = new StreamRing(a, region, data.Length);
        ring.Reset();
        await peer.StandardInput.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"stream {data.Length} {count}")).ConfigureAwait(false);
        await Expect(peer, "ready").ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await ring.ProduceAsync(data, count).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;

        // Every kick either side sent is taken as an event before the next step, which would take it for its own.
        await peer.StandardInput.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"drain {ring.KicksSent}")).ConfigureAwait(false);
        string? line = await peer.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120)).ConfigureAwait(false);
        string[] words = line?.Split(' ') ?? [];
        if (words.Length != 2 || words[0] != "received" || !long.TryParse(words[1], CultureInfo.InvariantCulture, out long peerKicks))
        {
            throw new InvalidOperationException($"ipc-peer answered '{line}' instead of 'received KICKS'");
        }

        await ring.DrainAsync(peerKicks).ConfigureAwait(false);
        return seconds;
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
