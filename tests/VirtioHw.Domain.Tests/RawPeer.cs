using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace VirtioHw.Domain.Tests;

/// <summary>A hand-driven connection to the server, for sending what a well-behaved client never would.</summary>
internal sealed unsafe partial class RawPeer : IDisposable
{
    private RawPeer(Socket socket)
    {
        Socket = socket;
    }

    public Socket Socket { get; }

    /// <summary>Doorbell and doorbell-closed frames the server sent ahead of a reply, in order (the descriptors are the caller's to dispose).</summary>
    public List<ReceivedFrame> Doorbells { get; } = [];

    public static RawPeer Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return new RawPeer(socket);
    }

    /// <summary>A hello with <paramref name="version"/>; for the current version, the welcome is read and its descriptor closed.</summary>
    public void Hello(ushort version = DomainWire.Version)
    {
        var hello = new byte[DomainWire.HelloSize];
        BinaryPrimitives.WriteUInt32LittleEndian(hello, DomainWire.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(4), version);
        Send(DomainWire.Frame(DomainWire.Hello, hello));
        if (version == DomainWire.Version)
        {
            ReceivedFrame welcome = FrameSocket.Receive(Socket) ?? throw new AssertionException("no welcome");
            welcome.Descriptor?.Dispose();
            Assert.That(welcome.Type, Is.EqualTo(DomainWire.Welcome));
        }
    }

    /// <summary>A request frame; returns its reply payload when <paramref name="awaitReply"/>.</summary>
    public byte[]? Request(DomainOperation operation, ulong devid, bool awaitReply = true, ulong a = 0, ulong b = 0, ulong c = 0, ulong d = 0)
    {
        var payload = new byte[DomainWire.RequestSize];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, 7);
        payload[4] = (byte)operation;
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), devid);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), a);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), b);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(32), c);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(40), d);
        Send(DomainWire.Frame(DomainWire.Request, payload));
        return awaitReply ? NextReply().Payload : null;
    }

    /// <summary>The next frame that is not a doorbell (those are kept in <see cref="Doorbells"/>).</summary>
    public ReceivedFrame NextReply()
    {
        while (true)
        {
            ReceivedFrame frame = FrameSocket.Receive(Socket) ?? throw new AssertionException("no reply");
            if (frame.Type is not (DomainWire.Doorbell or DomainWire.DoorbellClosed))
            {
                return frame;
            }

            Doorbells.Add(frame);
        }
    }

    /// <summary>A request and its whole reply frame, with the descriptor that came with it (the caller disposes it).</summary>
    public ReceivedFrame RequestFrame(DomainOperation operation, ulong devid, ulong a = 0, ulong b = 0, ulong c = 0, ulong d = 0)
    {
        Request(operation, devid, awaitReply: false, a, b, c, d);
        return NextReply();
    }

    /// <summary>Joins a device; its devid.</summary>
    public ulong Join()
    {
        ReceivedFrame reply = RequestFrame(DomainOperation.Join, 0);
        Assert.That(reply.Descriptor, Is.Null, "a join carries no memory");
        return BinaryPrimitives.ReadUInt64LittleEndian(reply.Payload.AsSpan(8));
    }

    public void Send(ReadOnlySpan<byte> bytes) => FrameSocket.Send(Socket, bytes);

    /// <summary>Sends <paramref name="frame"/> with <paramref name="descriptors"/> attached to its first byte, as one message; false when the server has hung up.</summary>
    public bool TrySendWithDescriptors(ReadOnlySpan<byte> frame, IReadOnlyList<SafeHandle> descriptors)
    {
        int dataLength = sizeof(int) * descriptors.Count;
        int headerSpace = (sizeof(ControlHeader) + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);
        int space = headerSpace + ((dataLength + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1));
        byte[] control = new byte[space];
        fixed (byte* c = control)
        fixed (byte* data = frame)
        {
            var header = (ControlHeader*)c;
            header->Length = (nuint)(headerSpace + dataLength);
            header->Level = 1;
            header->Type = 1;
            for (int i = 0; i < descriptors.Count; i++)
            {
                ((int*)(c + headerSpace))[i] = (int)descriptors[i].DangerousGetHandle();
            }

            var vector = new IoVector { Base = data, Length = (nuint)frame.Length };
            var message = new MessageHeader { Vectors = &vector, VectorCount = 1, Control = c, ControlLength = (nuint)space };
            nint sent = SendMessage(Socket.SafeHandle, &message, 0x4000);
            return sent == frame.Length;
        }
    }

    /// <summary>Whether the server closed the connection within <paramref name="timeout"/> (what it sends before is skipped).</summary>
    public bool ClosedByServer(TimeSpan timeout)
    {
        Socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        var scratch = new byte[4096];
        try
        {
            while (Socket.Receive(scratch) > 0)
            {
            }

            return true;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode is SocketError.ConnectionReset;
        }
    }

    public void Dispose()
    {
        foreach (ReceivedFrame doorbell in Doorbells)
        {
            doorbell.Descriptor?.Dispose();
        }

        Socket.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMessage(SafeHandle socket, MessageHeader* message, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ControlHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }
}
