using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VirtioHw.Domain.Native;

namespace VirtioHw.Domain;

/// <summary>A frame as received: its type, payload, and the descriptor that came with it (owned by the receiver).</summary>
internal sealed record ReceivedFrame(ushort Type, byte[] Payload, FileDescriptor? Descriptor);

/// <summary>
/// Frames of the domain protocol over a connected, blocking UNIX stream socket. Receiving goes
/// through recvmsg so that a descriptor is never missed: room is made for one, a message that
/// carries more is refused (the kernel closes the ones that did not fit). One thread receives;
/// sends are serialised by the caller.
/// </summary>
internal static unsafe class FrameSocket
{
    /// <summary>Reads one frame; null when the peer closed the connection cleanly between frames.</summary>
    /// <exception cref="DomainProtocolException">A malformed frame, a truncated one, or more than one descriptor.</exception>
    /// <exception cref="SocketException">The socket failed (or its receive timeout expired).</exception>
    public static ReceivedFrame? Receive(Socket socket)
    {
        FileDescriptor? descriptor = null;
        try
        {
            var header = new byte[DomainWire.HeaderSize];
            if (!Fill(socket, header, ref descriptor, allowCleanEnd: true))
            {
                return null;
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(4));
            if (length > DomainWire.MaxPayload || BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(6)) != 0)
            {
                throw new DomainProtocolException($"frame header of type 0x{type:x4} with length {length} is malformed");
            }

            var payload = new byte[length];
            Fill(socket, payload, ref descriptor, allowCleanEnd: false);
            var frame = new ReceivedFrame(type, payload, descriptor);
            descriptor = null;
            return frame;
        }
        finally
        {
            descriptor?.Dispose();
        }
    }

    /// <summary>Sends a whole frame, with <paramref name="attached"/> as SCM_RIGHTS when given.</summary>
    /// <exception cref="SocketException">The peer is gone or the socket failed.</exception>
    public static void Send(Socket socket, ReadOnlySpan<byte> frame, SafeHandle? attached = null)
    {
        if (attached is null)
        {
            while (!frame.IsEmpty)
            {
                frame = frame[socket.Send(frame, SocketFlags.None)..];
            }

            return;
        }

        int space = Libc.ControlSpace(sizeof(int));
        ulong* control = stackalloc ulong[(space + sizeof(ulong) - 1) / sizeof(ulong)];
        bool added = false;
        try
        {
            attached.DangerousAddRef(ref added);
            Attach(control, space, (int)attached.DangerousGetHandle());
            fixed (byte* data = frame)
            {
                var vector = new Libc.IoVector { Base = data, Length = (nuint)frame.Length };
                var message = new Libc.MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = (nuint)space };
                nint sent;
                do
                {
                    sent = Libc.SendMessage(socket.SafeHandle, &message, Libc.MessageNoSignal);
                }
                while (sent < 0 && Libc.LastError == Libc.ErrorInterrupted);

                if (sent < 0)
                {
                    throw new SocketException(Libc.LastError);
                }

                // The descriptor went with the first byte; the rest is plain data.
                ReadOnlySpan<byte> rest = frame[(int)sent..];
                while (!rest.IsEmpty)
                {
                    rest = rest[socket.Send(rest, SocketFlags.None)..];
                }
            }
        }
        finally
        {
            if (added)
            {
                attached.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Sends as much of <paramref name="data"/> as the socket takes without waiting; returns how
    /// many bytes that was (0 when its buffer is full). <paramref name="attached"/> goes with the
    /// first byte, so it went when the result is not 0.
    /// </summary>
    /// <exception cref="SocketException">The peer is gone or the socket failed.</exception>
    public static int SendWithoutWaiting(Socket socket, ReadOnlySpan<byte> data, SafeHandle? attached = null)
    {
        int space = Libc.ControlSpace(sizeof(int));
        ulong* control = stackalloc ulong[(space + sizeof(ulong) - 1) / sizeof(ulong)];
        bool added = false;
        try
        {
            fixed (byte* start = data)
            {
                var vector = new Libc.IoVector { Base = start, Length = (nuint)data.Length };
                var message = new Libc.MessageHeader { Vectors = &vector, VectorCount = 1 };
                if (attached is not null)
                {
                    attached.DangerousAddRef(ref added);
                    Attach(control, space, (int)attached.DangerousGetHandle());
                    message.Control = control;
                    message.ControlLength = (nuint)space;
                }

                while (true)
                {
                    nint sent = Libc.SendMessage(socket.SafeHandle, &message, Libc.MessageNoSignal | Libc.MessageDontWait);
                    if (sent >= 0)
                    {
                        return (int)sent;
                    }

                    int errno = Libc.LastError;
                    if (errno == Libc.ErrorWouldBlock)
                    {
                        return 0;
                    }

                    if (errno != Libc.ErrorInterrupted)
                    {
                        throw new SocketException(errno);
                    }
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

    /// <summary>Writes one SCM_RIGHTS control message carrying <paramref name="descriptor"/> into <paramref name="space"/> bytes at <paramref name="control"/>.</summary>
    private static void Attach(ulong* control, int space, int descriptor)
    {
        new Span<byte>(control, space).Clear();
        var cmsg = (Libc.ControlMessageHeader*)control;
        cmsg->Length = (nuint)Libc.ControlLength(sizeof(int));
        cmsg->Level = Libc.SocketLevel;
        cmsg->Type = Libc.ScmRights;
        *(int*)((byte*)control + Libc.ControlAlign(sizeof(Libc.ControlMessageHeader))) = descriptor;
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes; false on a clean end before the first byte when allowed.</summary>
    private static bool Fill(Socket socket, byte[] buffer, ref FileDescriptor? descriptor, bool allowCleanEnd)
    {
        int space = Libc.ControlSpace(sizeof(int));
        ulong* control = stackalloc ulong[(space + sizeof(ulong) - 1) / sizeof(ulong)];
        int filled = 0;
        while (filled < buffer.Length)
        {
            nint count;
            int flags;
            fixed (byte* target = &buffer[filled])
            {
                var vector = new Libc.IoVector { Base = target, Length = (nuint)(buffer.Length - filled) };
                var message = new Libc.MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = (nuint)space };
                count = Libc.ReceiveMessage(socket.SafeHandle, &message, Libc.MessageCloseOnExec);
                flags = message.Flags;
                if (count > 0)
                {
                    TakeDescriptors(&message, ref descriptor);
                }
            }

            if (count < 0)
            {
                int errno = Libc.LastError;
                if (errno == Libc.ErrorInterrupted)
                {
                    continue;
                }

                throw new SocketException(errno);
            }

            if (count == 0)
            {
                if (filled == 0 && allowCleanEnd)
                {
                    return false;
                }

                throw new DomainProtocolException($"the connection ended inside a frame ({filled} of {buffer.Length} bytes)");
            }

            if ((flags & Libc.MessageControlTruncated) != 0)
            {
                throw new DomainProtocolException("a message carried more descriptors than the protocol allows");
            }

            filled += (int)count;
        }

        return true;
    }

    private static void TakeDescriptors(Libc.MessageHeader* message, ref FileDescriptor? descriptor)
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
                    // Owned at once, so none leaks whatever happens next.
                    var received = new FileDescriptor(numbers[i]);
                    if (descriptor is null)
                    {
                        descriptor = received;
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
            throw new DomainProtocolException("a frame carried more than one descriptor");
        }
    }
}

/// <summary>The other side broke the domain protocol.</summary>
public sealed class DomainProtocolException : Exception
{
    public DomainProtocolException()
    {
    }

    public DomainProtocolException(string message)
        : base(message)
    {
    }

    public DomainProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
