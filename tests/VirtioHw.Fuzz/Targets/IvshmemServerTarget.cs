using System.Net.Sockets;
using VirtioHw.Platforms.Qemu.Ivshmem;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// Hostile peers against the ivshmem server: connections that send garbage (the protocol has peers
/// send nothing), vanish during or after the handshake, read only part of it, never read while
/// others join (message floods), and connections past the peer limit, between well-behaved
/// <see cref="IvshmemClient"/>s coming and going. Once every connection is gone the server lists
/// no peer, a new client is served alone, and the server thread never fails.
/// </summary>
public sealed class IvshmemServerTarget : FuzzTarget
{
    private const int Vectors = 2;
    private const int MaxPeers = 6;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public override string Name => "ivshmem";

    public override string Description => "hostile peers against the ivshmem server: it keeps serving and forgets every vanished peer";

    public override TimeSpan HangTimeout => TimeSpan.FromSeconds(30);

    public override byte[] Generate(Random random) => Mutator.RandomBytes(random, 96);

    public override void Execute(byte[] input) => ExecuteAsync(input).GetAwaiter().GetResult();

    private async Task ExecuteAsync(byte[] input)
    {
        var choices = new FuzzInput(input);
        string folder = Directory.CreateTempSubdirectory("vhw-fuzz-").FullName;
        var raw = new List<Socket>();
        var clients = new List<IvshmemClient>();
        int closed = 0;
        using var timeout = new CancellationTokenSource(Settle);
        try
        {
            using IvshmemServer server = IvshmemServer.Start(new IvshmemServerSettings
            {
                SocketPath = Path.Combine(folder, "s"),
                Size = 64 * 1024,
                Vectors = Vectors,
                MaxPeers = MaxPeers,
                MaxQueuedMessages = 32,
            });
            int steps = 1 + choices.Choose(16);
            for (int i = 0; i < steps && !choices.IsEmpty; i++)
            {
                closed += await StepAsync(server, choices, raw, clients, closed, timeout.Token).ConfigureAwait(false);
            }

            // Once every connection is gone the server lists nobody, and a well-behaved peer is served.
            foreach (Socket socket in raw)
            {
                socket.Dispose();
            }

            foreach (IvshmemClient client in clients)
            {
                client.Dispose();
            }

            raw.Clear();
            clients.Clear();
            while (server.PeerIds.Count > 0)
            {
                FuzzFailure.Check(!timeout.IsCancellationRequested, $"every peer is gone but the server still lists {string.Join(",", server.PeerIds)}");
                await Task.Delay(5, CancellationToken.None).ConfigureAwait(false);
            }

            using IvshmemClient last = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, Vectors, timeout.Token).ConfigureAwait(false);
            FuzzFailure.Check(last.Id >= 0 && last.Peers.Count == 0, $"a new client on an empty server got id {last.Id} and peers {string.Join(",", last.Peers)}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new FuzzFailure($"the server did not serve a well-behaved client within {Settle.TotalSeconds:0} s");
        }
        finally
        {
            foreach (Socket socket in raw)
            {
                socket.Dispose();
            }

            foreach (IvshmemClient client in clients)
            {
                client.Dispose();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>One hostile or well-behaved action (each fault closes one connection); returns how many connections it closed.</summary>
    private async Task<int> StepAsync(IvshmemServer server, FuzzInput choices, List<Socket> raw, List<IvshmemClient> clients, int closed, CancellationToken cancellationToken)
    {
        long faultsBefore = FaultsInjected;
        string path = server.Settings.SocketPath;
        switch (choices.Choose(7))
        {
            case 0:
                {
                    // A peer that talks: the server must drop it.
                    Socket talker = Connect(path);
                    raw.Add(talker);
                    byte[] garbage = choices.Bytes(64);
                    TrySend(talker, garbage.Length == 0 ? [0] : garbage);
                    break;
                }

            case 1:
                // Gone before or during the handshake.
                Connect(path).Dispose();
                CountFault();
                break;
            case 2:
                {
                    // Reads part of the handshake, then vanishes.
                    using Socket partial = Connect(path);
                    byte[] buffer = new byte[1 + choices.Choose(24)];
                    partial.ReceiveTimeout = 1000;
                    TryReceive(partial, buffer);
                    CountFault();
                    break;
                }

            case 3:
                // Never reads: the joins of others pile up in its queue until the server drops it.
                raw.Add(Connect(path));
                break;
            case 4 when clients.Count + raw.Count < 2 * MaxPeers:
                try
                {
                    clients.Add(await IvshmemClient.ConnectAsync(path, Vectors, cancellationToken).ConfigureAwait(false));
                }
                catch (IOException) when (clients.Count + raw.Count + closed >= MaxPeers)
                {
                    // Refused: the server was full (connections closed here may not have been noticed yet).
                }

                break;
            case 5 when clients.Count > 0:
                {
                    int index = choices.Choose(clients.Count);
                    clients[index].Dispose();
                    clients.RemoveAt(index);
                    CountFault();
                    break;
                }

            default:
                if (raw.Count > 0)
                {
                    int index = choices.Choose(raw.Count);
                    raw[index].Dispose();
                    raw.RemoveAt(index);
                    CountFault();
                }

                break;
        }

        return (int)(FaultsInjected - faultsBefore);
    }

    private static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    private static void TrySend(Socket socket, byte[] data)
    {
        try
        {
            socket.Send(data);
        }
        catch (SocketException)
        {
            // The server may have closed it already.
        }
    }

    private static void TryReceive(Socket socket, byte[] buffer)
    {
        try
        {
            socket.Receive(buffer);
        }
        catch (SocketException)
        {
            // Closed or timed out: either way the peer leaves now.
        }
    }
}
