using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using VirtioHw.Domain.Native;
using VirtioHw.Firmware.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Domain;

/// <summary>
/// A communication domain held by a <see cref="DomainServer"/>, joined from this process: the
/// <see cref="IIsmDomain"/> the ISM firmware of this process's devices use, and the domain memory
/// as this process sees it (<see cref="Memory"/>), which the devices' chunk windows read and write
/// directly. That memory is this process's own zeroes except where a region one of its devices
/// allocated or attached lies: there the region's memfd, received with the reply, is mapped
/// (read-only for read-only attachments) until the last of this process's devices detaches it.
/// Control operations are requests to the server and wait for its reply. A kick never reaches the
/// server: it rings the doorbells (eventfds) the server handed this process for the region, one
/// per other referrer, and the thread woken in the other process delivers the UPDATE itself. One
/// thread per connection waits on the socket and this process's doorbells together, taking the
/// socket's frames first, so an ATTACH or DETACH the server sent before a kick is delivered
/// before that kick's UPDATE.
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
    private readonly SharedMapping _mapping;
    private readonly Dictionary<ulong, LocalRegion> _regions = [];
    private readonly Lock _sendLock = new();
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<ReceivedFrame>> _pending = new();
    private readonly ConcurrentDictionary<ulong, IIsmDomainMember> _members = new();
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _reader;
    private readonly TimeSpan _timeout;
    private readonly DoorbellPoller _poller;

    // The doorbells this process holds, under _doorbellLock: those its devices ring, by (devid,
    // token), and those they are woken by, by their id in the poller (0 is the socket).
    private readonly Lock _doorbellLock = new();
    private readonly Dictionary<(ulong DevId, ulong Token), List<(ulong Peer, FileDescriptor Bell)>> _rings = [];
    private readonly Dictionary<ulong, WakeBell> _wakes = [];
    private ulong _lastWakeId;
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
        if (!ulong.IsPow2(ChunkSize) || ChunkSize % (ulong)Environment.SystemPageSize != 0 || chunks == 0 || chunks > int.MaxValue / ChunkSize)
        {
            throw new DomainProtocolException($"the server announced {chunks} chunks of {ChunkSize} bytes (page-sized chunks, under 2 GiB in all, are what this side maps)");
        }

        ChunkCount = (int)chunks;
        _mapping = SharedMapping.Reserve((int)(chunks * ChunkSize));
        _poller = new DoorbellPoller();
        _poller.Add(socket.SafeHandle, SocketId);
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "domain client events" };
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
            ReceivedFrame welcome;
            try
            {
                FrameSocket.Send(socket, DomainWire.Frame(DomainWire.Hello, hello));
                socket.ReceiveTimeout = (int)wait.TotalMilliseconds;
                welcome = FrameSocket.Receive(socket) ?? throw new DomainProtocolException(Unwelcome);
            }
            catch (SocketException e)
            {
                // Hung up on before the welcome (reset, or a broken pipe when the hello had not even gone out).
                throw new DomainProtocolException($"{Unwelcome}: {e.Message}", e);
            }

            socket.ReceiveTimeout = 0;
            welcome.Descriptor?.Dispose();
            if (welcome.Type != DomainWire.Welcome || welcome.Payload.Length != DomainWire.WelcomeSize || welcome.Descriptor is not null
                || BinaryPrimitives.ReadUInt16LittleEndian(welcome.Payload) != DomainWire.Version)
            {
                throw new DomainProtocolException($"the server's first frame is not a version-{DomainWire.Version} welcome");
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

    private const string Unwelcome = "the server closed the connection instead of welcoming it (its log says why; a user the socket's access rule does not allow is refused)";

    public ulong Join(IIsmDomainMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        ReadOnlySpan<byte> reply = Payload(Call(DomainOperation.Join, 0));
        ulong devid = Le64(reply, 8);
        _members[devid] = member;
        return devid;
    }

    public void Leave(ulong devid)
    {
        Silence(devid, token: null);
        _ = Payload(Call(DomainOperation.Leave, devid));
        _members.TryRemove(devid, out _);
        Forget(devid, token: null);
    }

    public IsmMapResult Allocate(ulong devid, ulong size, IsmChunkLimits limits) =>
        MapRegion(devid, Call(DomainOperation.Allocate, devid, size, (ulong)limits.ReplyChunks, (ulong)limits.FreeSlots));

    public IsmQueryResult Query(ulong devid, ulong token)
    {
        byte[] reply = Payload(Call(DomainOperation.Query, devid, token));
        return new IsmQueryResult((IsmAck)reply[4], Le64(reply, 8), (IsmPermissions)Le64(reply, 16));
    }

    public IsmMapResult Attach(ulong devid, ulong token, IsmPermissions access, IsmChunkLimits limits) =>
        MapRegion(devid, Call(DomainOperation.Attach, devid, token, (ulong)access, (ulong)limits.ReplyChunks, (ulong)limits.FreeSlots));

    public IsmAck Detach(ulong devid, ulong token)
    {
        // From here on the device neither rings nor hears the region's doorbells: a kick after the
        // detach reaches nobody, whichever side it comes from.
        Silence(devid, token);
        var ack = (IsmAck)Payload(Call(DomainOperation.Detach, devid, token))[4];
        if (ack == IsmAck.Ok)
        {
            Forget(devid, token);
        }

        return ack;
    }

    public IsmAck Grant(ulong devid, ulong token, IsmPermissions permissions, ulong? peer) =>
        (IsmAck)Payload(Call(DomainOperation.Grant, devid, token, (ulong)permissions, peer is null ? 0UL : 1UL, peer ?? 0))[4];

    /// <summary>Regions whose memory is mapped in this process now (for tests of what a process can reach).</summary>
    internal int MappedRegions
    {
        get
        {
            lock (_regions)
            {
                return _regions.Count;
            }
        }
    }

    /// <summary>Doorbells this process holds now, those it rings and those it is woken by (for tests of who can reach whom).</summary>
    internal (int Rings, int Wakes) Doorbells
    {
        get
        {
            lock (_doorbellLock)
            {
                return (_rings.Values.Sum(r => r.Count), _wakes.Count);
            }
        }
    }

    /// <summary>Rings the doorbell of every other referrer of the region: each gets an UPDATE from its own waiting thread.</summary>
    public void Kick(ulong devid, ulong token)
    {
        if (_disconnected.Task.IsCompleted)
        {
            throw new IsmDomainUnavailableException("the connection to the domain server is closed");
        }

        lock (_doorbellLock)
        {
            if (_rings.TryGetValue((devid, token), out List<(ulong Peer, FileDescriptor Bell)>? bells))
            {
                foreach ((_, FileDescriptor bell) in bells)
                {
                    // A full count (a peer that never reads its doorbell) has every later kick's wake-up pending already.
                    Doorbell.Ring(bell);
                }
            }
        }
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
        ForgetAll();
        _poller.Dispose();
    }

    private const ulong SocketId = 0;

    /// <summary>The most UPDATE events one reading of a doorbell delivers; a count beyond it is rung by nobody following the protocol, and the device's event backlog is smaller anyway.</summary>
    private const ulong MaxUpdatesPerWake = 4096;

    /// <summary>A doorbell a device of this process is woken by: the region and the peer whose kicks ring it.</summary>
    private sealed record WakeBell(ulong DevId, ulong Token, ulong Peer, FileDescriptor Bell);

    /// <summary>A doorbell from the server: kept for ringing, or watched for waking.</summary>
    private void AddDoorbell(ReadOnlySpan<byte> p, FileDescriptor bell)
    {
        ulong devid = Le64(p, 0), token = Le64(p, 8), peer = Le64(p, 16);
        uint role = BinaryPrimitives.ReadUInt32LittleEndian(p[24..]);
        lock (_doorbellLock)
        {
            if (role == DomainWire.RingRole)
            {
                if (!_rings.TryGetValue((devid, token), out List<(ulong Peer, FileDescriptor Bell)>? bells))
                {
                    _rings[(devid, token)] = bells = [];
                }

                bells.Add((peer, bell));
                return;
            }

            ulong id = ++_lastWakeId;
            _poller.Add(bell, id);
            _wakes[id] = new WakeBell(devid, token, peer, bell);
        }
    }

    /// <summary>Closes the doorbells of one pair, or of every pair of <paramref name="devid"/> (for <paramref name="token"/>, or all when null).</summary>
    private void Silence(ulong devid, ulong? token, ulong? peer = null)
    {
        lock (_doorbellLock)
        {
            foreach (((ulong d, ulong t), List<(ulong Peer, FileDescriptor Bell)> bells) in _rings.ToArray())
            {
                if (d != devid || (token is not null && t != token))
                {
                    continue;
                }

                foreach ((ulong p, FileDescriptor bell) in bells.ToArray())
                {
                    if (peer is null || p == peer)
                    {
                        bells.Remove((p, bell));
                        bell.Dispose();
                    }
                }

                if (bells.Count == 0)
                {
                    _rings.Remove((d, t));
                }
            }

            foreach ((ulong id, WakeBell wake) in _wakes.ToArray())
            {
                if (wake.DevId == devid && (token is null || wake.Token == token) && (peer is null || wake.Peer == peer))
                {
                    _wakes.Remove(id);
                    _poller.Remove(wake.Bell);
                    wake.Bell.Dispose();
                }
            }
        }
    }

    /// <summary>Every doorbell closed: the connection is over.</summary>
    private void SilenceAll()
    {
        lock (_doorbellLock)
        {
            foreach (List<(ulong Peer, FileDescriptor Bell)> bells in _rings.Values)
            {
                foreach ((_, FileDescriptor bell) in bells)
                {
                    bell.Dispose();
                }
            }

            foreach (WakeBell wake in _wakes.Values)
            {
                _poller.Remove(wake.Bell);
                wake.Bell.Dispose();
            }

            _rings.Clear();
            _wakes.Clear();
        }
    }

    /// <summary>
    /// A doorbell rang: an UPDATE for each kick counted, on this thread, straight into the device.
    /// A doorbell closed meanwhile, or read empty (a spurious wake-up), delivers nothing.
    /// </summary>
    private void Wake(ulong id)
    {
        WakeBell? wake;
        ulong count;
        lock (_doorbellLock)
        {
            if (!_wakes.TryGetValue(id, out wake))
            {
                return;
            }

            count = Math.Min(Doorbell.Take(wake.Bell), MaxUpdatesPerWake);
        }

        if (count > 0 && _members.TryGetValue(wake.DevId, out IIsmDomainMember? member))
        {
            var update = new IsmDomainEvent(IsmWire.EventUpdate, wake.Token, wake.Peer, 0);
            for (ulong i = 0; i < count; i++)
            {
                member.OnDomainEvent(update);
            }
        }
    }

    /// <summary>A region mapped in this process: its memfd, its chunks in order, and the devices of this process that refer to it.</summary>
    private sealed class LocalRegion(FileDescriptor memory, IReadOnlyList<ulong> chunks, bool writable)
    {
        public FileDescriptor Memory { get; } = memory;

        public IReadOnlyList<ulong> Chunks { get; } = chunks;

        public bool Writable { get; } = writable;

        public HashSet<ulong> Devices { get; init; } = [];
    }

    private static ulong Le64(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(data[offset..]);

    /// <summary>The payload of a reply that carries no descriptor; a descriptor there breaks the protocol, and the connection is dropped.</summary>
    private byte[] Payload(ReceivedFrame reply)
    {
        if (reply.Descriptor is not null)
        {
            reply.Descriptor.Dispose();
            HangUp();
            throw new IsmDomainUnavailableException("the domain server sent memory with a reply that has none");
        }

        return reply.Payload;
    }

    /// <summary>
    /// The result of an allocate or attach; on OK the region's memfd is mapped where its chunks lie
    /// before the result is returned, so the device's chunk window reaches it at once.
    /// </summary>
    private IsmMapResult MapRegion(ulong devid, ReceivedFrame reply)
    {
        IsmMapResult result = MapResult(reply.Payload);
        if (result.Ack != IsmAck.Ok)
        {
            _ = Payload(reply);
            return result;
        }

        FileDescriptor? memory = reply.Descriptor;
        try
        {
            IReadOnlyList<ulong> chunks = result.Chunks!;
            if (memory is null || SharedMapping.SizeOf(memory) != (long)((ulong)chunks.Count * ChunkSize)
                || chunks.Any(c => c % ChunkSize != 0 || c >= (ulong)ChunkCount * ChunkSize))
            {
                HangUp();
                throw new IsmDomainUnavailableException("the domain server's reply does not come with the region's memory for its chunks");
            }

            bool writable = !SharedMapping.IsReadOnly(memory);
            lock (_regions)
            {
                if (_regions.TryGetValue(result.Token, out LocalRegion? known))
                {
                    known.Devices.Add(devid);
                    if (!writable || known.Writable)
                    {
                        return result;
                    }

                    // Another device of this process attached it read-only before: now it is mapped writable.
                    known.Memory.Dispose();
                    _regions.Remove(result.Token);
                    var upgraded = new LocalRegion(memory, chunks, writable) { Devices = known.Devices };
                    MapLocked(upgraded);
                    memory = null;
                    return result;
                }

                var region = new LocalRegion(memory, chunks, writable);
                region.Devices.Add(devid);
                MapLocked(region);
                _regions[result.Token] = region;
                memory = null;
                return result;
            }
        }
        finally
        {
            memory?.Dispose();
        }

        void MapLocked(LocalRegion region)
        {
            for (int i = 0; i < region.Chunks.Count; i++)
            {
                _mapping.MapAt(region.Chunks[i], ChunkSize, region.Memory, (long)((ulong)i * ChunkSize), region.Writable);
            }

            _regions[result.Token] = region;
        }
    }

    /// <summary>Drops <paramref name="devid"/>'s reference to <paramref name="token"/> (all its regions when null); a region no device of this process refers to any more is withdrawn.</summary>
    private void Forget(ulong devid, ulong? token)
    {
        lock (_regions)
        {
            foreach ((ulong key, LocalRegion region) in _regions.ToArray())
            {
                if ((token is null || key == token) && region.Devices.Remove(devid) && region.Devices.Count == 0)
                {
                    _regions.Remove(key);
                    Withdraw(region);
                }
            }
        }
    }

    private void Withdraw(LocalRegion region)
    {
        try
        {
            foreach (ulong chunk in region.Chunks)
            {
                _mapping.Withdraw(chunk, ChunkSize);
            }
        }
        catch (IOException)
        {
            // Out of memory for the replacement: the mapping stays until the domain is left.
        }

        region.Memory.Dispose();
    }

    /// <summary>Closes every region's memfd; the mapping itself is replaced or unmapped by the caller.</summary>
    private void ForgetAll()
    {
        lock (_regions)
        {
            foreach (LocalRegion region in _regions.Values)
            {
                region.Memory.Dispose();
            }

            _regions.Clear();
        }
    }

    private void HangUp()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

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

    /// <summary>Sends a request and waits for its reply (the whole reply payload, and the memory that came with it).</summary>
    private ReceivedFrame Call(DomainOperation operation, ulong devid, ulong a = 0, ulong b = 0, ulong c = 0, ulong d = 0)
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
        var reply = new TaskCompletionSource<ReceivedFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            SendFrame(DomainWire.Frame(DomainWire.Request, payload));
            if (!reply.Task.Wait(_timeout))
            {
                // A reply that comes after all is dropped by the reader, its descriptor closed.
                if (!reply.TrySetCanceled())
                {
                    reply.Task.Result.Descriptor?.Dispose();
                }

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

    /// <summary>One frame from the server; false when it breaks the protocol and the connection is dropped.</summary>
    private bool Handle(ReceivedFrame frame)
    {
        ReadOnlySpan<byte> p = frame.Payload;
        if (frame.Type == DomainWire.Reply && p.Length >= DomainWire.ReplyHeaderSize)
        {
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(p);
            if (!_pending.TryGetValue(id, out TaskCompletionSource<ReceivedFrame>? waiter) || !waiter.TrySetResult(frame))
            {
                frame.Descriptor?.Dispose();
            }

            return true;
        }

        if (frame.Type == DomainWire.Doorbell && p.Length == DomainWire.DoorbellSize && frame.Descriptor is { } bell
            && BinaryPrimitives.ReadUInt32LittleEndian(p[24..]) is DomainWire.RingRole or DomainWire.WakeRole && BinaryPrimitives.ReadUInt32LittleEndian(p[28..]) == 0)
        {
            try
            {
                AddDoorbell(p, bell);
                return true;
            }
            catch (IOException)
            {
                // Out of memory for watching it: this device could miss kicks, so the connection ends.
                bell.Dispose();
                return false;
            }
        }

        frame.Descriptor?.Dispose();
        if (frame.Descriptor is not null)
        {
            return false;
        }

        if (frame.Type == DomainWire.DoorbellClosed && p.Length == DomainWire.DoorbellSize)
        {
            Silence(Le64(p, 0), Le64(p, 8), Le64(p, 16));
            return true;
        }

        if (frame.Type == DomainWire.Event && p.Length == DomainWire.EventSize)
        {
            if (_members.TryGetValue(Le64(p, 0), out IIsmDomainMember? member))
            {
                member.OnDomainEvent(new IsmDomainEvent(Le64(p, 8), Le64(p, 16), Le64(p, 24), Le64(p, 32)));
            }

            return true;
        }

        return false;
    }

    private void ReadLoop()
    {
        try
        {
            Span<ulong> ready = stackalloc ulong[64];
            while (true)
            {
                int count = _poller.Wait(ready);

                // The socket first: what the server sent before a peer rang is delivered before its UPDATE.
                if (ready[..count].Contains(SocketId))
                {
                    do
                    {
                        if (FrameSocket.Receive(_socket) is not { } frame || !Handle(frame))
                        {
                            return;
                        }
                    }
                    while (_socket.Available > 0);
                }

                foreach (ulong id in ready[..count])
                {
                    if (id != SocketId)
                    {
                        Wake(id);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or DomainProtocolException or ObjectDisposedException or IOException)
        {
            // The connection is over either way.
        }
        finally
        {
            SilenceAll();

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

                ForgetAll();
            }

            foreach (TaskCompletionSource<ReceivedFrame> waiter in _pending.Values)
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
