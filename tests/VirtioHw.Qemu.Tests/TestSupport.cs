using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;
using VirtioHw.Platforms.Qemu.Ivshmem;

namespace VirtioHw.Qemu.Tests;

/// <summary>A scratch directory removed with everything in it.</summary>
internal sealed class TempDirectory : IDisposable
{
    // UNIX socket paths are limited to 107 bytes, so the directory sits directly in /tmp.
    public TempDirectory() => Path = Directory.CreateTempSubdirectory("vhw-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal static class TestSupport
{
    /// <summary>The bound on every test that waits for another process or thread.</summary>
    public const int TimeoutMilliseconds = 30_000;

    /// <summary>Reads server events until one matches; the test's token bounds the wait.</summary>
    public static async Task<IvshmemServerEvent> NextEventAsync(
        this IvshmemServer server, Func<IvshmemServerEvent, bool> match, CancellationToken cancellationToken)
    {
        await foreach (IvshmemServerEvent serverEvent in server.Events.ReadAllAsync(cancellationToken))
        {
            if (match(serverEvent))
            {
                return serverEvent;
            }
        }

        throw new ChannelClosedException("the server stopped before the event came");
    }

    /// <summary>A plain socket connected to the server, to play a client that breaks the rules.</summary>
    public static Socket ConnectRaw(string socketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        return socket;
    }

    /// <summary>Reads exactly <paramref name="count"/> int64 messages (their descriptors are dropped by the kernel).</summary>
    public static async Task<long[]> ReadMessagesAsync(Socket socket, int count, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[count * sizeof(long)];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"the server closed the connection after {filled} bytes");
            }

            filled += read;
        }

        long[] messages = new long[count];
        for (int i = 0; i < count; i++)
        {
            messages[i] = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(i * sizeof(long)));
        }

        return messages;
    }
}
