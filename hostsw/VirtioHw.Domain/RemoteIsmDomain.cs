using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using VirtioHw.Domain.Native;
using VirtioHw.Firmware.Ism;

namespace VirtioHw.Domain;

/// <summary>
/// A communication domain held by a <see cref="DomainServer"/>, joined from this process: the
/// <see cref="IIsmDomain"/> the ISM firmware of this process's devices use, and the domain memory
/// mapped here (<see cref="Memory"/>), which the devices' chunk windows read and write directly.
/// Control operations are requests to the server and wait for its reply; a kick is one frame,
/// sent without waiting; events for this process's devices arrive on a reader thread.
/// </summary>
/// <remarks>
/// Thread-safe. When the server goes away (dies, or hangs up) the domain and its regions are lost:
/// <see cref="Memory"/> is replaced in place by zeroed memory of this process alone (the chunk
/// windows keep working but no longer reach memory other processes map), every operation throws
/// <see cref="IsmDomainUnavailableException"/> (the firmware answers the command with ERR), each
/// member hears <see cref="IIsmDomainMember.OnDomainLost"/> and <see cref="Disconnected"/>
/// completes. Rejoining a restarted server is a new connection. Dispose closes the connection:
/// the server detaches every device this process joined.
/// </remarks>
public sealed class RemoteIsmDomain : IIsmDomain, IDisposable
{
    private readonly Socket _socket;
    private readonly FileDescriptor _memoryFd;
    private readonly SharedMapping _mapping;
    private readonly Lock _sendLock = new();
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<byte[]>> _pending = new();
    private readonly ConcurrentDictionary<ulong, IIsmDomainMember> _members = new();
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _reader;
    private readonly TimeSpan _timeout;
    private int _nextRequest;
    private int _disposed;

    private RemoteIsmDomain(Socket socket, ReceivedFrame welcome, TimeSpan timeout)
    {
        _socket = socket;
        _timeout = timeout;
        ReadOnlySpan<byte> w = welcome.Payload;
        Cdid = new Guid(w.Slice(8, 16), bigEndian: true);
        ChunkSize = BinaryPrimitives.ReadUInt64LittleEndian(w[24..]);
        ulong chunks = BinaryPrimitives.ReadUInt64LittleEndian(w[32..]);
        _memoryFd = welcome.Descriptor!;
        long size = SharedMapping.SizeOf(_memoryFd);
        if (!ulong.IsPow2(ChunkSize) || chunks == 0 || chunks > int.MaxValue || (ulong)size < chunks * ChunkSize || size > int.MaxValue)
        {
            _memoryFd.Dispose();
            throw new DomainProtocolException($"the server announced {chunks} chunks of {ChunkSize} bytes in {size} bytes of memory");
        }

        ChunkCount = (int)chunks;
        _mapping = SharedMapping.Map(_memoryFd, (int)(chunks * ChunkSize));
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "domain client reader" };
        _reader.Start();
    }

    public Guid Cdid { get; }

    public ulong ChunkSize { get; }

    public int ChunkCount { get; }

    /// <summary>The domain memory, mapped shared: what every process's chunk windows see. Valid until disposed.</summary>
    public Memory<byte> Memory => _mapping.Memory;

    /// <summary>Completes when the connection to the server is gone (the server stopped, or this side disposed it).</summary>
    public Task Disconnected => _disconnected.Task;

    /// <summary>Connects to the domain server at <paramref name="socketPath"/> and maps its memory.</summary>
    /// <param name="socketPath">The server's UNIX socket.</param>
    /// <param name="timeout">How long to wait for the server's welcome and, later, for each reply.</param>
    /// <exception cref="IOException">Nobody serves a domain there, or the server broke the protocol.</exception>
    public static RemoteIsmDomain Connect(string socketPath, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        TimeSpan wait = timeout ?? TimeSpan.FromSeconds(10);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            var hello = new byte[DomainWire.HelloSize];
            BinaryPrimitives.WriteUInt32LittleEndian(hello, DomainWire.Magic);
            BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(4), DomainWire.Version);
            FrameSocket.Send(socket, DomainWire.Frame(DomainWire.Hello, hello));
            socket.ReceiveTimeout = (int)wait.TotalMilliseconds;
            ReceivedFrame welcome = FrameSocket.Receive(socket) ?? throw new DomainProtocolException("the server closed the connection instead of welcoming");
            socket.ReceiveTimeout = 0;
            if (welcome.Type != DomainWire.Welcome || welcome.Payload.Length != DomainWire.WelcomeSize || welcome.Descriptor is null
                || BinaryPrimitives.ReadUInt16LittleEndian(welcome.Payload) != DomainWire.Version)
            {
                welcome.Descriptor?.Dispose();
                throw new DomainProtocolException("the server's first frame is not a version-1 welcome with the domain memory");
            }

            return new RemoteIsmDomain(socket, welcome, wait);
        }
        catch (Exception e) when (e is SocketException or DomainProtocolException)
        {
            socket.Dispose();
            throw new IOException($"cannot join the domain at {socketPath}: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public ulong Join(IIsmDomainMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        ReadOnlySpan<byte> reply = Call(DomainOperation.Join, 0);
        ulong devid = Le64(reply, 8);
        _members[devid] = member;
        return devid;
    }

    public void Leave(ulong devid)
    {
        Call(DomainOperation.Leave, devid);
        _members.TryRemove(devid, out _);
    }

    public IsmMapResult Allocate(ulong devid, ulong size, IsmChunkLimits limits) =>
        MapResult(Call(DomainOperation.Allocate, devid, size, (ulong)limits.ReplyChunks, (ulong)limits.FreeSlots));

    public IsmQueryResult Query(ulong devid, ulong token)
    {
        byte[] reply = Call(DomainOperation.Query, devid, token);
        return new IsmQueryResult((IsmAck)reply[4], Le64(reply, 8), (IsmPermissions)Le64(reply, 16));
    }

    public IsmMapResult Attach(ulong devid, ulong token, IsmPermissions access, IsmChunkLimits limits) =>
        MapResult(Call(DomainOperation.Attach, devid, token, (ulong)access, (ulong)limits.ReplyChunks, (ulong)limits.FreeSlots));

    public IsmAck Detach(ulong devid, ulong token) => (IsmAck)Call(DomainOperation.Detach, devid, token)[4];

    public IsmAck Grant(ulong devid, ulong token, IsmPermissions permissions, ulong? peer) =>
        (IsmAck)Call(DomainOperation.Grant, devid, token, (ulong)permissions, peer is null ? 0UL : 1UL, peer ?? 0)[4];

    public void Kick(ulong devid, ulong token)
    {
        var payload = new byte[DomainWire.KickSize];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, devid);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), token);
        SendFrame(DomainWire.Frame(DomainWire.Kick, payload));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        _reader.Join();
        _socket.Dispose();
        _mapping.Unmap();
        _memoryFd.Dispose();
    }

    private static ulong Le64(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(data[offset..]);

    private static IsmMapResult MapResult(byte[] reply)
    {
        var ack = (IsmAck)reply[4];
        if (ack == IsmAck.TooBig)
        {
            return new IsmMapResult(ack, ChunkCount: Le64(reply, 16));
        }

        if (ack != IsmAck.Ok)
        {
            return IsmMapResult.Failed(ack);
        }

        ulong count = Le64(reply, 24);
        var chunks = new ulong[count];
        for (int i = 0; i < chunks.Length; i++)
        {
            chunks[i] = Le64(reply, DomainWire.ReplyHeaderSize + (8 * i));
        }

        return new IsmMapResult(ack, Le64(reply, 8), Le64(reply, 16), chunks, count);
    }

    /// <summary>Sends a request and waits for its reply (the whole reply payload).</summary>
    private byte[] Call(DomainOperation operation, ulong devid, ulong a = 0, ulong b = 0, ulong c = 0, ulong d = 0)
    {
        uint id = (uint)Interlocked.Increment(ref _nextRequest);
        var payload = new byte[DomainWire.RequestSize];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, id);
        payload[4] = (byte)operation;
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), devid);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), a);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), b);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(32), c);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(40), d);
        var reply = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            SendFrame(DomainWire.Frame(DomainWire.Request, payload));
            if (!reply.Task.Wait(_timeout))
            {
                throw new IsmDomainUnavailableException($"the domain server did not answer {operation} within {_timeout.TotalSeconds:0.#} s");
            }

            return reply.Task.Result;
        }
        catch (AggregateException e) when (e.InnerException is IsmDomainUnavailableException unavailable)
        {
            throw unavailable;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private void SendFrame(byte[] frame)
    {
        if (_disconnected.Task.IsCompleted)
        {
            throw new IsmDomainUnavailableException("the connection to the domain server is closed");
        }

        try
        {
            lock (_sendLock)
            {
                FrameSocket.Send(_socket, frame);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw new IsmDomainUnavailableException("the domain server is gone: " + e.Message, e);
        }
    }

    private void ReadLoop()
    {
        try
        {
            while (FrameSocket.Receive(_socket) is { } frame)
            {
                frame.Descriptor?.Dispose();
                if (frame.Descriptor is not null)
                {
                    break;
                }

                if (frame.Type == DomainWire.Reply && frame.Payload.Length >= DomainWire.ReplyHeaderSize)
                {
                    uint id = BinaryPrimitives.ReadUInt32LittleEndian(frame.Payload);
                    if (_pending.TryGetValue(id, out TaskCompletionSource<byte[]>? waiter))
                    {
                        waiter.TrySetResult(frame.Payload);
                    }
                }
                else if (frame.Type == DomainWire.Event && frame.Payload.Length == DomainWire.EventSize)
                {
                    ReadOnlySpan<byte> p = frame.Payload;
                    if (_members.TryGetValue(Le64(p, 0), out IIsmDomainMember? member))
                    {
                        member.OnDomainEvent(new IsmDomainEvent(Le64(p, 8), Le64(p, 16), Le64(p, 24), Le64(p, 32)));
                    }
                }
                else
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or DomainProtocolException or ObjectDisposedException)
        {
            // The connection is over either way.
        }
        finally
        {
            // Not closed by this side: the server died or hung up. The regions it held are lost.
            bool lost = Volatile.Read(ref _disposed) == 0;
            if (lost)
            {
                try
                {
                    // From now on the windows reach zeroed memory of this process, never what the dead domain's other members still map.
                    _mapping.Detach();
                }
                catch (IOException)
                {
                    // Too little memory for the replacement: the devices are told below all the same.
                }
            }

            foreach (TaskCompletionSource<byte[]> waiter in _pending.Values)
            {
                waiter.TrySetException(new IsmDomainUnavailableException("the connection to the domain server closed"));
            }

            if (lost)
            {
                foreach (IIsmDomainMember member in _members.Values)
                {
                    member.OnDomainLost();
                }
            }

            // Last, so that whoever awaits it finds the memory replaced and the members told.
            _disconnected.TrySetResult();
        }
    }
}
