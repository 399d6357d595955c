using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace VirtioHw.Platforms.Qemu.Native;

/// <summary>What one attempt to receive a message found.</summary>
internal enum ReceiveStatus
{
    /// <summary>A whole message arrived.</summary>
    Message,

    /// <summary>Nothing (more) to read yet.</summary>
    WouldBlock,

    /// <summary>The other end closed the connection.</summary>
    Closed,
}

/// <summary>
/// UNIX stream sockets carrying the ivshmem server's messages: one little-endian int64 each,
/// optionally with one file descriptor attached (SCM_RIGHTS). Every socket is non-blocking and
/// close-on-exec; callers wait with <see cref="Poll"/>.
/// </summary>
internal static unsafe class UnixSocket
{
    /// <summary>Bytes of one message.</summary>
    public const int MessageSize = sizeof(long);

    /// <summary>
    /// Creates a listening socket bound to <paramref name="path"/>, which must not exist;
    /// <paramref name="beforeListening"/> runs on the bound socket file before anyone can connect.
    /// </summary>
    /// <exception cref="IOException">The path is too long or cannot be bound, or <paramref name="beforeListening"/> failed.</exception>
    public static FileDescriptor Listen(string path, int backlog, Action<string>? beforeListening = null)
    {
        Libc.SocketAddressUnix address = MakeAddress(path);
        FileDescriptor socket = CreateSocket(path);
        try
        {
            if (Libc.Bind(socket, &address, (uint)sizeof(Libc.SocketAddressUnix)) != 0)
            {
                throw Failure("bind", path);
            }

            try
            {
                beforeListening?.Invoke(path);
            }
            catch (IOException)
            {
                File.Delete(path);
                throw;
            }

            if (Libc.Listen(socket, backlog) != 0)
            {
                throw Failure("listen on", path);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Takes one pending connection, non-blocking and close-on-exec; null when none is waiting.</summary>
    /// <exception cref="IOException">accept failed for a reason other than an empty queue.</exception>
    public static FileDescriptor? TryAccept(FileDescriptor listener)
    {
        while (true)
        {
            FileDescriptor connection = Libc.Accept(listener, null, null, Libc.SocketNonBlocking | Libc.SocketCloseOnExec);
            if (!connection.IsInvalid)
            {
                return connection;
            }

            int errno = Libc.LastError;
            connection.Dispose();
            if (errno == Libc.ErrorInterrupted)
            {
                continue;
            }

            if (errno == Libc.ErrorWouldBlock)
            {
                return null;
            }

            throw new IOException($"accept failed: {Libc.Describe(errno)}");
        }
    }

    /// <summary>
    /// Connects to the listening socket at <paramref name="path"/>; null when nobody listens there
    /// (connection refused, or a full backlog), so the caller may try again.
    /// </summary>
    /// <exception cref="IOException">The path is too long, absent or not a socket.</exception>
    public static FileDescriptor? TryConnect(string path)
    {
        Libc.SocketAddressUnix address = MakeAddress(path);
        FileDescriptor socket = CreateSocket(path);
        while (true)
        {
            if (Libc.Connect(socket, &address, (uint)sizeof(Libc.SocketAddressUnix)) == 0)
            {
                return socket;
            }

            int errno = Libc.LastError;
            if (errno == Libc.ErrorInterrupted)
            {
                continue;
            }

            socket.Dispose();
            if (errno is Libc.ErrorConnectionRefused or Libc.ErrorWouldBlock)
            {
                return null;
            }

            throw new IOException($"cannot connect to {path}: {Libc.Describe(errno)}");
        }
    }

    /// <summary>What one attempt to send found.</summary>
    public enum SendResult
    {
        /// <summary>The whole message went out.</summary>
        Sent,

        /// <summary>Nothing went out: the socket's queue is full; try again when it polls writable.</summary>
        WouldBlock,

        /// <summary>The peer is gone or the socket failed.</summary>
        Failed,
    }

    /// <summary>
    /// Sends one message without waiting. A message goes out whole or not at all: one of 8 bytes
    /// is never split while the queue has room for it.
    /// </summary>
    public static SendResult TrySend(FileDescriptor socket, long value, SafeHandle? attached)
    {
        byte* data = stackalloc byte[MessageSize];
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(data, MessageSize), value);
        Libc.IoVector vector = new() { Base = data, Length = MessageSize };

        int space = Libc.ControlSpace(sizeof(int));
        ulong* control = stackalloc ulong[(space + sizeof(ulong) - 1) / sizeof(ulong)];
        var message = new Libc.MessageHeader { Vectors = &vector, VectorCount = 1 };

        bool added = false;
        try
        {
            if (attached is not null)
            {
                new Span<byte>(control, space).Clear();
                var header = (Libc.ControlMessageHeader*)control;
                header->Length = (nuint)Libc.ControlLength(sizeof(int));
                header->Level = Libc.SocketLevel;
                header->Type = Libc.ScmRights;
                attached.DangerousAddRef(ref added);
                *(int*)((byte*)control + Libc.ControlAlign(sizeof(Libc.ControlMessageHeader))) = (int)attached.DangerousGetHandle();
                message.Control = control;
                message.ControlLength = (nuint)space;
            }

            while (true)
            {
                nint sent = Libc.SendMessage(socket, &message, Libc.MessageDontWait | Libc.MessageNoSignal);
                if (sent == MessageSize)
                {
                    return SendResult.Sent;
                }

                // A partial send would leave the stream out of step; only a disconnect repairs that.
                if (sent >= 0)
                {
                    return SendResult.Failed;
                }

                int errno = Libc.LastError;
                if (errno != Libc.ErrorInterrupted)
                {
                    return errno == Libc.ErrorWouldBlock ? SendResult.WouldBlock : SendResult.Failed;
                }
            }
        }
        finally
        {
            if (added)
            {
                attached!.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Reads and discards what is waiting, without blocking; false when the peer closed the
    /// connection or the read failed, true when bytes arrived or none were waiting.
    /// </summary>
    /// <param name="socket">The connection to read.</param>
    /// <param name="received">How many bytes were read.</param>
    public static bool Drain(FileDescriptor socket, out int received)
    {
        byte* scratch = stackalloc byte[256];
        received = 0;
        while (true)
        {
            nint count = Libc.Read(socket, scratch, 256);
            if (count > 0)
            {
                received = (int)count;
                return true;
            }

            if (count == 0)
            {
                return false;
            }

            int errno = Libc.LastError;
            if (errno == Libc.ErrorInterrupted)
            {
                continue;
            }

            return errno == Libc.ErrorWouldBlock;
        }
    }

    /// <summary>Whether <paramref name="path"/> is a socket (not following a final symbolic link).</summary>
    /// <param name="path">The path to look at.</param>
    /// <param name="exists">Whether anything is there at all.</param>
    public static bool IsSocket(string path, out bool exists)
    {
        Libc.StatXBuffer status;
        if (Libc.StatX(Libc.AtCurrentDirectory, path, Libc.AtNoFollowSymlink, Libc.StatXType, &status) != 0)
        {
            int errno = Libc.LastError;
            exists = errno != Libc.ErrorNoEntry;
            if (exists)
            {
                throw new IOException($"cannot look at {path}: {Libc.Describe(errno)}");
            }

            return false;
        }

        exists = true;
        return (status.Mode & Libc.FileTypeMask) == Libc.FileTypeSocket;
    }

    /// <summary>Waits for events on <paramref name="descriptors"/>; retries when a signal interrupts.</summary>
    /// <returns>How many descriptors have events.</returns>
    public static int Poll(Span<Libc.PollDescriptor> descriptors, int timeoutMilliseconds)
    {
        fixed (Libc.PollDescriptor* first = descriptors)
        {
            while (true)
            {
                int ready = Libc.Poll(first, new CULong((uint)descriptors.Length), timeoutMilliseconds);
                if (ready >= 0)
                {
                    return ready;
                }

                int errno = Libc.LastError;
                if (errno != Libc.ErrorInterrupted)
                {
                    throw new IOException($"poll failed: {Libc.Describe(errno)}");
                }
            }
        }
    }

    private static FileDescriptor CreateSocket(string path)
    {
        FileDescriptor socket = Libc.Socket(Libc.AddressFamilyUnix,
            Libc.SocketStream | Libc.SocketNonBlocking | Libc.SocketCloseOnExec, 0);
        if (socket.IsInvalid)
        {
            int errno = Libc.LastError;
            socket.Dispose();
            throw new IOException($"cannot create a UNIX socket for {path}: {Libc.Describe(errno)}");
        }

        return socket;
    }

    private static Libc.SocketAddressUnix MakeAddress(string path)
    {
        int length = Encoding.UTF8.GetByteCount(path);
        if (length == 0 || length >= Libc.UnixPathCapacity)
        {
            throw new IOException(
                $"socket path '{path}' is {length} bytes; a UNIX socket path has 1 to {Libc.UnixPathCapacity - 1}");
        }

        var address = new Libc.SocketAddressUnix { Family = Libc.AddressFamilyUnix };
        Encoding.UTF8.GetBytes(path, new Span<byte>(address.Path, Libc.UnixPathCapacity - 1));
        return address;
    }

    private static IOException Failure(string what, string path) =>
        new($"cannot {what} {path}: {Libc.Describe(Libc.LastError)}");
}

/// <summary>
/// Reassembles the messages of one connection: 8 bytes each, with at most one descriptor, which
/// arrives with the message's first byte. Owned by the one thread that reads the connection.
/// </summary>
internal sealed unsafe class MessageReader : IDisposable
{
    // Room for a few descriptors, so a peer that attaches more than one is caught rather than
    // having the kernel drop the extra ones silently.
    private const int DescriptorCapacity = 4;

    private readonly byte[] _pending = new byte[UnixSocket.MessageSize];
    private int _filled;
    private FileDescriptor? _descriptor;

    /// <summary>
    /// Reads until one whole message is here or nothing more is waiting.
    /// </summary>
    /// <exception cref="IOException">The read failed, or the message carried more than one descriptor.</exception>
    public ReceiveStatus TryReceive(FileDescriptor socket, out long value, out FileDescriptor? descriptor)
    {
        value = 0;
        descriptor = null;
        int space = Libc.ControlSpace(DescriptorCapacity * sizeof(int));
        ulong* control = stackalloc ulong[(space + sizeof(ulong) - 1) / sizeof(ulong)];
        while (_filled < UnixSocket.MessageSize)
        {
            nint count;
            int flags;
            fixed (byte* target = &_pending[_filled])
            {
                Libc.IoVector vector = new() { Base = target, Length = (nuint)(UnixSocket.MessageSize - _filled) };
                var message = new Libc.MessageHeader
                {
                    Vectors = &vector,
                    VectorCount = 1,
                    Control = control,
                    ControlLength = (nuint)space,
                };
                count = Libc.ReceiveMessage(socket, &message, Libc.MessageDontWait | Libc.MessageCloseOnExec);
                flags = message.Flags;
                if (count > 0)
                {
                    TakeDescriptors(&message);
                }
            }

            if (count == 0)
            {
                return ReceiveStatus.Closed;
            }

            if (count < 0)
            {
                int errno = Libc.LastError;
                if (errno == Libc.ErrorInterrupted)
                {
                    continue;
                }

                if (errno == Libc.ErrorWouldBlock)
                {
                    return ReceiveStatus.WouldBlock;
                }

                throw new IOException($"receive failed: {Libc.Describe(errno)}");
            }

            if ((flags & Libc.MessageControlTruncated) != 0)
            {
                throw new IOException("a message carried more descriptors than the protocol allows");
            }

            _filled += (int)count;
        }

        value = BinaryPrimitives.ReadInt64LittleEndian(_pending);
        descriptor = _descriptor;
        _descriptor = null;
        _filled = 0;
        return ReceiveStatus.Message;
    }

    public void Dispose()
    {
        _descriptor?.Dispose();
        _descriptor = null;
    }

    private void TakeDescriptors(Libc.MessageHeader* message)
    {
        byte* cursor = (byte*)message->Control;
        byte* end = cursor + message->ControlLength;
        int headerSpace = Libc.ControlAlign(sizeof(Libc.ControlMessageHeader));
        bool extra = false;
        while (cursor + sizeof(Libc.ControlMessageHeader) <= end)
        {
            var header = (Libc.ControlMessageHeader*)cursor;
            if (header->Length < (nuint)sizeof(Libc.ControlMessageHeader) || cursor + header->Length > end)
            {
                break;
            }

            if (header->Level == Libc.SocketLevel && header->Type == Libc.ScmRights)
            {
                int count = (int)(header->Length - (nuint)headerSpace) / sizeof(int);
                int* numbers = (int*)(cursor + headerSpace);
                for (int i = 0; i < count; i++)
                {
                    // Every received descriptor is owned here at once, so none leaks on an error.
                    var received = new FileDescriptor(numbers[i]);
                    if (_descriptor is null && _filled == 0)
                    {
                        _descriptor = received;
                    }
                    else
                    {
                        received.Dispose();
                        extra = true;
                    }
                }
            }

            cursor += Libc.ControlAlign((int)header->Length);
        }

        if (extra)
        {
            throw new IOException("a message carried more than one descriptor");
        }
    }
}
