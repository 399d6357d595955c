using System.Diagnostics;
using System.Text;
using VirtioHw.Drivers.Ivshmem;
using VirtioHw.Host.Pci;
using VirtioHw.Model;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// The ivshmem part of <c>virtiohw demo</c>: two peers of one shared memory object on the model.
/// Peer 0 writes "ping" and rings peer 1's vector 1; peer 1 reads it, writes "pong" and rings peer
/// 0's vector 1; peer 0 reads the answer. Each step is a timed transcript line.
/// </summary>
public static class IvshmemDemo
{
    public const string Ping = "ping from IVPosition 0";
    public const string Pong = "pong from IVPosition 1";

    /// <summary>The offset peer 1 answers at.</summary>
    public const ulong PongOffset = 4096;

    /// <summary>Runs the ping-pong, writing the transcript to <paramref name="output"/>; returns the exit code (0: both messages arrived).</summary>
    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var clock = Stopwatch.StartNew();
        void Say(string line) => output.WriteLine($"[{clock.Elapsed.TotalMilliseconds,9:F3} ms] {line}");

        Say("model platform: two ivshmem peers sharing one memory object");
        var group = new IvshmemModelGroup(2);
        await using var platform = new ModelPlatform(group.PlatformSettings());
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        using IvshmemDevice peer0 = IvshmemDevice.Open(functions.Find(group.Addresses[0]));
        using IvshmemDevice peer1 = IvshmemDevice.Open(functions.Find(group.Addresses[1]));
        return await RunFlowAsync(Say, peer0, peer1, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The ping-pong itself between two open peers on any platform, each step a line through <paramref name="say"/>; returns the exit code.</summary>
    public static async Task<int> RunFlowAsync(Action<string> say, IvshmemDevice peer0, IvshmemDevice peer1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(say);
        ArgumentNullException.ThrowIfNull(peer0);
        ArgumentNullException.ThrowIfNull(peer1);
        foreach (IvshmemDevice peer in new[] { peer0, peer1 })
        {
            say($"{peer.Function.Address}: IVPosition {peer.Position}, {peer.MemoryLength} bytes of shared memory at 0x{peer.MemoryAddress:x}, {peer.VectorCount} vectors");
        }

        byte[] ping = Encoding.UTF8.GetBytes(Ping);
        peer0.Write(0, ping);
        peer0.Ring(peer1.Position, 1);
        say($"peer 0 wrote \"{Ping}\" and rang peer {peer1.Position} vector 1");
        await peer1.Vector(1).WaitAsync(cancellationToken).ConfigureAwait(false);
        var got = new byte[ping.Length];
        peer1.Read(0, got);
        say($"peer 1 interrupted on vector 1, read \"{Encoding.UTF8.GetString(got)}\"");

        byte[] pong = Encoding.UTF8.GetBytes(Pong);
        peer1.Write(PongOffset, pong);
        peer1.Ring(peer0.Position, 1);
        say($"peer 1 wrote \"{Pong}\" at {PongOffset} and rang peer {peer0.Position} vector 1");
        await peer0.Vector(1).WaitAsync(cancellationToken).ConfigureAwait(false);
        var answer = new byte[pong.Length];
        peer0.Read(PongOffset, answer);
        say($"peer 0 interrupted on vector 1, read \"{Encoding.UTF8.GetString(answer)}\"");
        bool ok = got.AsSpan().SequenceEqual(ping) && answer.AsSpan().SequenceEqual(pong);
        say(ok ? "done" : "a message did not arrive intact");
        return ok ? 0 : 1;
    }
}
