using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtioHw.Domain.Native;
using VirtioHw.Firmware.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Domain;

/// <summary>
/// A virtio-ism communication domain served on a UNIX socket: it holds the authoritative domain
/// (an <see cref="IsmDomain"/>: chunk pool, regions, tokens, permissions, referrers). Each region's
/// memory is a sealed memfd of its own, created when the region is allocated and handed to a peer
/// only with the reply to an allocate or attach the domain granted (read-only for a read-only
/// attach); when the region is freed the server forgets that memfd, so its chunks never again
/// reach memory an earlier holder still maps. Peers are processes; each joins devices and sends
/// their control operations and kicks; the server answers and sends each device its events. A
/// peer that disconnects, dies or breaks the protocol is dropped: its devices leave (the others
/// get DETACH events) and chunks nobody refers to return to the pool. Connections are admitted by
/// <see cref="DomainServerSettings.Access"/> (the socket file's mode and group, and the same rule
/// on each peer's credentials). Kicks do not pass through the server: for every two devices that
/// refer to one region it makes a pair of doorbells (eventfds), one for each direction, and hands
/// each device the one it rings and the one it is woken by; it closes them when the pair stops
/// sharing the region (<see cref="Doorbells"/>).
/// </summary>
/// <remarks>
/// One thread accepts; each peer has a reader thread and a writer thread, so a peer that stalls
/// or floods only stalls itself. A frame for a peer with nothing queued goes out at once, as far
/// as its socket takes it without waiting (a kick's event then costs no thread hand-off); the rest
/// is queued for the writer. Nothing waits on a socket under the domain's lock. Dispose stops
/// everything and removes the socket.
/// </remarks>
public sealed class DomainServer : IDisposable
{
    private readonly DomainServerSettings _settings;
    private readonly ILogger _logger;
    private readonly Socket _listener;
    private readonly SharedMapping _mapping;
    private readonly RegionMemories _regions;
    private readonly ConcurrentDictionary<int, Peer> _peers = new();
    private readonly Doorbells _doorbells = new();
    private readonly Thread _acceptThread;
    private int _nextPeer;
    private volatile bool _stopping;

    /// <summary>Creates the domain memory and starts listening.</summary>
    /// <exception cref="ArgumentException">The chunk size is not a power of two or the memory is not a whole number of chunks.</exception>
    /// <exception cref="IOException">The socket path is taken by something that is not a stale socket, or it cannot be bound.</exception>
    /// <param name="settings">What to serve.</param>
    /// <param name="logger">Where joins, leaves, refusals and drops are logged, with the peer's identity; none by default.</param>
    public DomainServer(DomainServerSettings settings, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!ulong.IsPow2(settings.ChunkSize) || settings.MemorySize <= 0 || (ulong)settings.MemorySize % settings.ChunkSize != 0 || settings.MemorySize > int.MaxValue)
        {
            throw new ArgumentException($"domain memory of {settings.MemorySize} bytes is not a whole number of {settings.ChunkSize}-byte chunks (a power of two) under 2 GiB", nameof(settings));
        }

        _settings = settings;
        _logger = logger ?? NullLogger.Instance;
        _mapping = SharedMapping.Reserve((int)settings.MemorySize);
        _regions = new RegionMemories(_mapping, settings.ChunkSize);
        Domain = new IsmDomain(_regions, settings.ChunkSize, settings.Cdid);
        try
        {
            _listener = Listen(settings.SocketPath, settings.Access);
        }
        catch
        {
            _regions.Dispose();
            _mapping.Unmap();
            throw;
        }

        SocketPath = settings.SocketPath;
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "domain accept" };
        _acceptThread.Start();
    }

    /// <summary>A peer connected and was welcomed (with its credentials), was refused, or left (any reason); the text is one line for a log.</summary>
    public event EventHandler<DomainServerEventArgs>? PeerChanged;

    /// <summary>The domain itself: for looking at it (free chunks, regions, members).</summary>
    public IsmDomain Domain { get; }

    public string SocketPath { get; }

    /// <summary>Who may connect (<see cref="DomainServerSettings.Access"/>).</summary>
    public SocketAccess Access => _settings.Access;

    /// <summary>
    /// The domain memory as the server maps it: every live region's memory where its chunks lie,
    /// zeroes elsewhere. For looking at it; valid until disposed.
    /// </summary>
    public ReadOnlyMemory<byte> Memory => _mapping.Memory;

    /// <summary>Peers connected now.</summary>
    public int PeerCount => _peers.Count;

    /// <summary>Doorbells the server holds now: two for every two devices that refer to one region.</summary>
    public int DoorbellCount => _doorbells.Count;

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _listener.Dispose();
        _acceptThread.Join();
        foreach (Peer peer in _peers.Values)
        {
            peer.Close();
        }

        foreach (Peer peer in _peers.Values)
        {
            peer.Join();
        }

        TryDelete(SocketPath);
        _doorbells.Dispose();
        _regions.Dispose();
        _mapping.Unmap();
    }

    private static Socket Listen(string path, SocketAccess access)
    {
        if (File.Exists(path) || Directory.Exists(path))
        {
            // A socket left by a server that died is replaced; anything else, or a live server, is not.
            if ((File.GetAttributes(path) & FileAttributes.Directory) != 0 || !IsStaleSocket(path))
            {
                throw new IOException($"{path} exists and is not a stale domain socket");
            }

            File.Delete(path);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            // Before listening: until then a connect is refused, so nobody gets in under the umask's mode.
            access.Apply(path);
            socket.Listen(64);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            TryDelete(path);
            throw new IOException($"cannot listen on {path}: {e.Message}", e);
        }
        catch (IOException)
        {
            socket.Dispose();
            TryDelete(path);
            throw;
        }
    }

    private static bool IsStaleSocket(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return false;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode == SocketError.ConnectionRefused;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket connection;
            try
            {
                connection = _listener.Accept();
            }
            catch (SocketException)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            PeerCredentials credentials;
            try
            {
                credentials = PeerCredentials.Of(connection.SafeHandle);
            }
            catch (IOException e)
            {
                connection.Dispose();
                Report($"refused a connection: {e.Message}");
                ServerLog.Refused(_logger, e.Message, null);
                continue;
            }

            if (!_settings.Access.Allows(credentials))
            {
                connection.Dispose();
                Report($"refused a connection from {credentials}: the socket's {_settings.Access} does not let it in");
                ServerLog.Refused(_logger, $"the socket's {_settings.Access} does not let it in", credentials);
                continue;
            }

            var peer = new Peer(this, Interlocked.Increment(ref _nextPeer), connection, credentials);
            _peers[peer.Id] = peer;
            if (_stopping)
            {
                peer.Close();
            }

            peer.Start();
        }
    }

    private void Report(string line) => PeerChanged?.Invoke(this, new DomainServerEventArgs(line, _peers.Count));

    /// <summary>One connected process: its socket, its devices, its outgoing frames.</summary>
    private sealed class Peer(DomainServer server, int id, Socket socket, PeerCredentials credentials)
    {
        public DomainServer Server => server;

        // Frames (or the unsent end of one, with the descriptor still to go with its first byte) for the writer, in order; guarded by itself.
        private readonly Queue<Outgoing> _outgoing = new();
        private readonly HashSet<ulong> _devices = [];
        private Thread? _readerThread;
        private Thread? _writerThread;
        private int _closed;

        // Under _outgoing: the writer is sending a frame it took; no more frames will be queued.
        private bool _writing;
        private bool _completed;

        public int Id { get; } = id;

        public void Start()
        {
            _readerThread = new Thread(ReadLoop) { IsBackground = true, Name = $"domain peer {Id} reader" };
            _writerThread = new Thread(WriteLoop) { IsBackground = true, Name = $"domain peer {Id} writer" };
            _writerThread.Start();
            _readerThread.Start();
        }

        /// <summary>
        /// Sends a frame without waiting when nothing is ahead of it, and queues what the socket did
        /// not take; a peer that lets too many frames pile up is dropped. <paramref name="attached"/>
        /// goes with the frame's first byte and is disposed once sent or dropped.
        /// </summary>
        public void Enqueue(byte[] frame, FileDescriptor? attached = null)
        {
            lock (_outgoing)
            {
                if (_completed)
                {
                    attached?.Dispose();
                    return;
                }

                int sent = 0;
                if (_outgoing.Count == 0 && !_writing)
                {
                    try
                    {
                        sent = FrameSocket.SendWithoutWaiting(socket, frame, attached);
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        attached?.Dispose();
                        Close();
                        return;
                    }

                    if (sent > 0)
                    {
                        // The descriptor went with the first byte.
                        attached?.Dispose();
                        attached = null;
                    }

                    if (sent == frame.Length)
                    {
                        return;
                    }
                }
                else if (_outgoing.Count >= server._settings.MaxQueuedFrames)
                {
                    attached?.Dispose();
                    Close();
                    return;
                }

                _outgoing.Enqueue(new Outgoing(frame.AsMemory(sent), attached));
                Monitor.Pulse(_outgoing);
            }
        }

        /// <summary>Shuts the connection; the reader then cleans up.</summary>
        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                try
                {
                    socket.Shutdown(SocketShutdown.Both);
                }
                catch (SocketException)
                {
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        public void Join()
        {
            _readerThread?.Join();
            _writerThread?.Join();
        }

        private void ReadLoop()
        {
            string why = "disconnected";
            bool dropped = false;
            try
            {
                socket.ReceiveTimeout = (int)server._settings.HandshakeTimeout.TotalMilliseconds;
                Handshake();
                socket.ReceiveTimeout = 0;
                server.Report($"peer {Id} joined: {credentials}");
                ServerLog.Joined(server._logger, Id, credentials.ProcessId, credentials.UserId, credentials.GroupId);
                while (FrameSocket.Receive(socket) is { } frame)
                {
                    if (frame.Descriptor is not null)
                    {
                        frame.Descriptor.Dispose();
                        throw new DomainProtocolException("a peer sent a descriptor");
                    }

                    Handle(frame);
                }
            }
            catch (DomainProtocolException e)
            {
                why = "dropped: " + e.Message;
                dropped = true;
            }
            catch (SocketException e)
            {
                why = _closed != 0 ? "dropped" : "connection failed: " + e.Message;
                dropped = _closed != 0;
            }
            catch (ObjectDisposedException)
            {
            }
            finally
            {
                Close();
                foreach (ulong devid in _devices)
                {
                    server.Domain.Leave(devid);
                    server._doorbells.Forget(devid);
                }

                lock (_outgoing)
                {
                    _completed = true;
                    Monitor.Pulse(_outgoing);
                }

                _writerThread?.Join();
                foreach (Outgoing unsent in _outgoing)
                {
                    unsent.Attached?.Dispose();
                }

                socket.Dispose();
                server._peers.TryRemove(Id, out _);
                server.Report($"peer {Id} left ({why}; {_devices.Count} device(s) detached)");
                string reason = $"{why}; {_devices.Count} device(s) detached";
                if (dropped)
                {
                    ServerLog.Dropped(server._logger, Id, reason, credentials.ProcessId, credentials.UserId, credentials.GroupId);
                }
                else
                {
                    ServerLog.Left(server._logger, Id, reason, credentials.ProcessId, credentials.UserId, credentials.GroupId);
                }
            }
        }

        /// <summary>Sends the queued frames in order, waiting on the socket as long as it takes.</summary>
        private void WriteLoop()
        {
            try
            {
                while (true)
                {
                    Outgoing frame;
                    lock (_outgoing)
                    {
                        _writing = false;
                        while (_outgoing.Count == 0 && !_completed)
                        {
                            Monitor.Wait(_outgoing);
                        }

                        if (_outgoing.Count == 0)
                        {
                            return;
                        }

                        frame = _outgoing.Dequeue();
                        _writing = true;
                    }

                    try
                    {
                        FrameSocket.Send(socket, frame.Frame.Span, frame.Attached);
                    }
                    finally
                    {
                        frame.Attached?.Dispose();
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Close();
            }
        }

        private void Handshake()
        {
            ReceivedFrame hello = FrameSocket.Receive(socket) ?? throw new DomainProtocolException("closed before its hello");
            hello.Descriptor?.Dispose();
            if (hello.Type != DomainWire.Hello || hello.Payload.Length != DomainWire.HelloSize || hello.Descriptor is not null)
            {
                throw new DomainProtocolException("the first frame is not a hello");
            }

            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(hello.Payload);
            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(hello.Payload.AsSpan(4));
            if (magic != DomainWire.Magic || version != DomainWire.Version)
            {
                throw new DomainProtocolException($"hello with magic 0x{magic:x8} version {version}; this server speaks version {DomainWire.Version}");
            }

            var welcome = new byte[DomainWire.WelcomeSize];
            BinaryPrimitives.WriteUInt16LittleEndian(welcome, DomainWire.Version);
            server.Domain.Cdid.TryWriteBytes(welcome.AsSpan(8, 16), bigEndian: true, out _);
            BinaryPrimitives.WriteUInt64LittleEndian(welcome.AsSpan(24), server.Domain.ChunkSize);
            BinaryPrimitives.WriteUInt64LittleEndian(welcome.AsSpan(32), (ulong)server.Domain.ChunkCount);
            // Sent before the writer carries anything else: nothing is queued until a device joins. No
            // memory comes with it: a peer gets a region's memory only with an allocate or attach.
            FrameSocket.Send(socket, DomainWire.Frame(DomainWire.Welcome, welcome));
        }

        private void Handle(ReceivedFrame frame)
        {
            ReadOnlySpan<byte> p = frame.Payload;
            switch (frame.Type)
            {
                case DomainWire.Kick when p.Length == DomainWire.KickSize:
                    server.Domain.Kick(Owned(Le64(p, 0)), Le64(p, 8));
                    server._settings.StepTaken?.Invoke(DomainWire.Kick, default);
                    break;
                case DomainWire.Request when p.Length == DomainWire.RequestSize && p[5] == 0 && p[6] == 0 && p[7] == 0:
                    uint request = BinaryPrimitives.ReadUInt32LittleEndian(p);
                    var operation = (DomainOperation)p[4];
                    FileDescriptor? memory = null;
                    byte[] reply = Execute(request, operation, Le64(p, 8), Le64(p, 16), Le64(p, 24), Le64(p, 32), Le64(p, 40), ref memory);
                    server._settings.StepTaken?.Invoke(DomainWire.Request, operation);
                    Enqueue(reply, memory);
                    break;
                default:
                    throw new DomainProtocolException($"unexpected frame of type 0x{frame.Type:x4} and {p.Length} bytes");
            }
        }

        private byte[] Execute(uint request, DomainOperation operation, ulong devid, ulong a, ulong b, ulong c, ulong d, ref FileDescriptor? memory)
        {
            IsmDomain domain = server.Domain;
            switch (operation)
            {
                case DomainOperation.Join:
                    if (_devices.Count >= server._settings.MaxDevicesPerPeer)
                    {
                        throw new DomainProtocolException($"more than {server._settings.MaxDevicesPerPeer} devices");
                    }

                    var member = new RemoteMember(this);
                    ulong joined = domain.Join(member);
                    member.DevId = joined;
                    _devices.Add(joined);
                    server._doorbells.Register(joined, this);
                    return Reply(request, IsmAck.Ok, joined, 0, null);
                case DomainOperation.Leave:
                    domain.Leave(Owned(devid));
                    server._doorbells.Forget(devid);
                    _devices.Remove(devid);
                    return Reply(request, IsmAck.Ok, 0, 0, null);
                case DomainOperation.Allocate:
                    IsmMapResult allocated = domain.Allocate(Owned(devid), a, Limits(b, c));
                    if (allocated.Ack == IsmAck.Ok)
                    {
                        try
                        {
                            memory = server._regions.Create(allocated.Token, allocated.Chunks!);
                        }
                        catch (IOException)
                        {
                            // No memory for the region after all: it is freed again, and the device told so.
                            domain.Detach(devid, allocated.Token);
                            return Reply(request, IsmAck.NoMemory, 0, 0, null);
                        }
                    }

                    return MapReply(request, allocated);
                case DomainOperation.Query:
                    IsmQueryResult query = domain.Query(Owned(devid), a);
                    return Reply(request, query.Ack, query.Size, (ulong)query.Permissions, null);
                case DomainOperation.Attach:
                    IsmMapResult attached = domain.Attach(Owned(devid), a, (IsmPermissions)b, Limits(c, d));
                    if (attached.Ack == IsmAck.Ok)
                    {
                        try
                        {
                            memory = server._regions.Open(attached.Token, writable: ((IsmPermissions)b & IsmPermissions.Write) != 0);
                        }
                        catch (IOException)
                        {
                            domain.Detach(devid, attached.Token);
                            return Reply(request, IsmAck.NoMemory, 0, 0, null);
                        }
                    }

                    return MapReply(request, attached);
                case DomainOperation.Detach:
                    return Reply(request, domain.Detach(Owned(devid), a), 0, 0, null);
                case DomainOperation.Grant:
                    if (c > 1)
                    {
                        throw new DomainProtocolException("a grant whose per-device flag is neither 0 nor 1");
                    }

                    return Reply(request, domain.Grant(Owned(devid), a, (IsmPermissions)b, c == 1 ? d : null), 0, 0, null);
                default:
                    throw new DomainProtocolException($"unknown operation {(byte)operation}");
            }
        }

        /// <summary>A frame, or the unsent end of one, and the descriptor that still has to go with its first byte.</summary>
        private readonly record struct Outgoing(ReadOnlyMemory<byte> Frame, FileDescriptor? Attached);

        private static IsmChunkLimits Limits(ulong replyChunks, ulong freeSlots) =>
            new((long)replyChunks, (int)Math.Min(freeSlots, int.MaxValue));

        private static byte[] MapReply(uint request, IsmMapResult result) =>
            Reply(request, result.Ack, result.Token, result.Ack == IsmAck.TooBig ? result.ChunkCount : result.Size, result.Ack == IsmAck.Ok ? result.Chunks : null);

        private static byte[] Reply(uint request, IsmAck ack, ulong value0, ulong value1, IReadOnlyList<ulong>? chunks)
        {
            int count = chunks?.Count ?? 0;
            var payload = new byte[DomainWire.ReplyHeaderSize + (8 * count)];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, request);
            payload[4] = (byte)ack;
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), value0);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), value1);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), (ulong)count);
            for (int i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(32 + (8 * i)), chunks![i]);
            }

            return DomainWire.Frame(DomainWire.Reply, payload);
        }

        /// <summary>The devid, when this peer joined it; acting for another peer's device is a protocol error.</summary>
        private ulong Owned(ulong devid) =>
            _devices.Contains(devid) ? devid : throw new DomainProtocolException($"devid {devid} does not belong to this peer");

        private static ulong Le64(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(data[offset..]);

        /// <summary>A device of this peer, as the domain sees it: its events become frames for the peer.</summary>
        private sealed class RemoteMember(Peer peer) : IIsmDomainMember
        {
            /// <summary>Set right after joining, before the device can refer to any region.</summary>
            public ulong DevId { get; set; }

            public void OnDomainEvent(IsmDomainEvent domainEvent)
            {
                // Under the domain's lock, so the doorbells change in the order the referrers do.
                Doorbells doorbells = peer.Server._doorbells;
                switch (domainEvent.Type)
                {
                    case IsmWire.EventUpdate:
                        // A kick that came as a frame: it rings the doorbell the kicker would have rung.
                        doorbells.Ring(DevId, domainEvent.Token, domainEvent.DevId);
                        return;
                    case IsmWire.EventAttach:
                        doorbells.Open(DevId, domainEvent.Token, domainEvent.DevId);
                        break;
                    case IsmWire.EventDetach:
                        doorbells.Close(DevId, domainEvent.Token, domainEvent.DevId);
                        break;
                }

                var payload = new byte[DomainWire.EventSize];
                BinaryPrimitives.WriteUInt64LittleEndian(payload, DevId);
                BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), domainEvent.Type);
                BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), domainEvent.Token);
                BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), domainEvent.DevId);
                BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(32), domainEvent.Peers);
                peer.Enqueue(DomainWire.Frame(DomainWire.Event, payload));
            }
        }
    }

    /// <summary>
    /// The doorbells of the domain: for each device A that refers to a region together with a
    /// device B, the eventfd B rings to wake A for that region, and the one A rings to wake B. The
    /// server keeps a copy of each (to ring for a kick that comes as a frame) and hands the others
    /// out: to A the one it is woken by and the one it rings, and the same to B. Made on the ATTACH
    /// event that starts the pair, ahead of that event and of the attacher's reply; closed on the
    /// DETACH that ends it, ahead of that event, so a device that refers to the region no more is
    /// never woken for it again. Thread-safe.
    /// </summary>
    private sealed class Doorbells : IDisposable
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<(ulong Woken, ulong Token, ulong Ringer), FileDescriptor> _bells = [];
        private readonly Dictionary<ulong, Peer> _owners = [];

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _bells.Count;
                }
            }
        }

        public void Register(ulong devid, Peer owner)
        {
            lock (_lock)
            {
                _owners[devid] = owner;
            }
        }

        /// <summary>The device left (its pairs were closed by the DETACH events of its leaving).</summary>
        public void Forget(ulong devid)
        {
            lock (_lock)
            {
                _owners.Remove(devid);
            }
        }

        /// <summary><paramref name="attacher"/> now refers to <paramref name="token"/> with <paramref name="referrer"/>: a doorbell each way.</summary>
        public void Open(ulong referrer, ulong token, ulong attacher)
        {
            lock (_lock)
            {
                if (!_owners.TryGetValue(referrer, out Peer? referrerPeer) || !_owners.TryGetValue(attacher, out Peer? attacherPeer))
                {
                    return;
                }

                FileDescriptor? wakesReferrer = null, wakesAttacher = null;
                try
                {
                    wakesReferrer = Doorbell.Create();
                    wakesAttacher = Doorbell.Create();
                    FileDescriptor[] copies =
                    [
                        SharedMapping.Duplicate(wakesReferrer), SharedMapping.Duplicate(wakesAttacher),
                        SharedMapping.Duplicate(wakesReferrer), SharedMapping.Duplicate(wakesAttacher),
                    ];
                    _bells[(referrer, token, attacher)] = wakesReferrer;
                    _bells[(attacher, token, referrer)] = wakesAttacher;
                    referrerPeer.Enqueue(Frame(DomainWire.Doorbell, referrer, token, attacher, DomainWire.WakeRole), copies[0]);
                    referrerPeer.Enqueue(Frame(DomainWire.Doorbell, referrer, token, attacher, DomainWire.RingRole), copies[1]);
                    attacherPeer.Enqueue(Frame(DomainWire.Doorbell, attacher, token, referrer, DomainWire.RingRole), copies[2]);
                    attacherPeer.Enqueue(Frame(DomainWire.Doorbell, attacher, token, referrer, DomainWire.WakeRole), copies[3]);
                }
                catch (IOException)
                {
                    // Out of descriptors: the attacher could not be woken nor wake anyone, so it is dropped
                    // (its devices leave the domain) rather than kept in a region its kicks never leave.
                    wakesReferrer?.Dispose();
                    wakesAttacher?.Dispose();
                    _bells.Remove((referrer, token, attacher));
                    _bells.Remove((attacher, token, referrer));
                    attacherPeer.Close();
                }
            }
        }

        /// <summary><paramref name="detacher"/> no longer refers to <paramref name="token"/>: the pair's doorbells are closed everywhere.</summary>
        public void Close(ulong referrer, ulong token, ulong detacher)
        {
            lock (_lock)
            {
                bool known = _bells.Remove((referrer, token, detacher), out FileDescriptor? one);
                known |= _bells.Remove((detacher, token, referrer), out FileDescriptor? other);
                one?.Dispose();
                other?.Dispose();
                if (!known)
                {
                    return;
                }

                if (_owners.TryGetValue(referrer, out Peer? referrerPeer))
                {
                    referrerPeer.Enqueue(Frame(DomainWire.DoorbellClosed, referrer, token, detacher, 0));
                }

                if (_owners.TryGetValue(detacher, out Peer? detacherPeer))
                {
                    detacherPeer.Enqueue(Frame(DomainWire.DoorbellClosed, detacher, token, referrer, 0));
                }
            }
        }

        /// <summary>Rings the doorbell <paramref name="ringer"/> wakes <paramref name="woken"/> by for <paramref name="token"/>.</summary>
        public void Ring(ulong woken, ulong token, ulong ringer)
        {
            lock (_lock)
            {
                if (_bells.TryGetValue((woken, token, ringer), out FileDescriptor? bell))
                {
                    Doorbell.Ring(bell);
                }
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                foreach (FileDescriptor bell in _bells.Values)
                {
                    bell.Dispose();
                }

                _bells.Clear();
                _owners.Clear();
            }
        }

        private static byte[] Frame(ushort type, ulong devid, ulong token, ulong peer, uint role)
        {
            var payload = new byte[DomainWire.DoorbellSize];
            BinaryPrimitives.WriteUInt64LittleEndian(payload, devid);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), token);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), peer);
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(24), role);
            return DomainWire.Frame(type, payload);
        }
    }
}

/// <summary>A line about a peer joining or leaving, and how many peers are connected after it.</summary>
public sealed class DomainServerEventArgs(string message, int peers) : EventArgs
{
    public string Message { get; } = message;

    public int Peers { get; } = peers;
}

/// <summary>
/// The memory of the live regions, as the server maps it and hands it out: one sealed memfd per
/// region (its chunks in order), mapped where the region's chunks lie. The domain clears a chunk
/// when the region that held it is freed: the server then withdraws that chunk (fresh zeroed
/// memory of its own in its place) and, with the region's last chunk, closes the region's memfd.
/// Peers that kept that memfd keep only the dead region's bytes; a chunk of the pool is memory of
/// the server alone, zero, and nobody writes it. Thread-safe: the domain calls <see cref="Clear"/>
/// under its lock; no lock of the domain is taken here.
/// </summary>
internal sealed class RegionMemories(SharedMapping mapping, ulong chunkSize) : IIsmDomainMemory, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Region?[] _byChunk = new Region?[(ulong)mapping.Length / chunkSize];
    private readonly Dictionary<ulong, Region> _byToken = [];

    public ulong Length => (ulong)mapping.Length;

    /// <summary>The live regions' memfds.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byToken.Count;
            }
        }
    }

    /// <summary>
    /// Backs a newly allocated region with a memfd of its own, mapped at its chunks; returns a
    /// descriptor of it for the allocator (the caller disposes it).
    /// </summary>
    /// <exception cref="IOException">The memfd could not be made or mapped; chunks mapped so far are withdrawn when the region is freed.</exception>
    public FileDescriptor Create(ulong token, IReadOnlyList<ulong> chunks)
    {
        FileDescriptor memory = SharedMapping.CreateMemFd("virtiohw-ism-region", (long)((ulong)chunks.Count * chunkSize));
        var region = new Region(token, memory, chunks.Count);
        lock (_lock)
        {
            _byToken.Add(token, region);
            foreach (ulong address in chunks)
            {
                _byChunk[address / chunkSize] = region;
            }
        }

        for (int i = 0; i < chunks.Count; i++)
        {
            mapping.MapAt(chunks[i], chunkSize, memory, (long)((ulong)i * chunkSize), writable: true);
        }

        return SharedMapping.Duplicate(memory);
    }

    /// <summary>A descriptor of a live region's memfd for a device the domain let attach; read-only unless <paramref name="writable"/>.</summary>
    /// <exception cref="IOException">The region has no memory (it cannot happen while the attacher refers to it), or out of descriptors.</exception>
    public FileDescriptor Open(ulong token, bool writable)
    {
        lock (_lock)
        {
            if (!_byToken.TryGetValue(token, out Region? region))
            {
                throw new IOException($"region {token:x16} has no memory");
            }

            return writable ? SharedMapping.Duplicate(region.Memory) : SharedMapping.ReopenReadOnly(region.Memory);
        }
    }

    public void Clear(ulong address, ulong length)
    {
        bool held = false;
        lock (_lock)
        {
            for (ulong chunk = address / chunkSize; chunk < (address + length + chunkSize - 1) / chunkSize; chunk++)
            {
                if (_byChunk[chunk] is not { } region)
                {
                    continue;
                }

                held = true;
                _byChunk[chunk] = null;
                if (--region.Chunks == 0)
                {
                    _byToken.Remove(region.Token);
                    region.Memory.Dispose();
                }
            }
        }

        // A chunk of the pool is already zero and the server's alone; one that held a region gets fresh
        // memory. The domain calls this under its lock, so the chunk is withdrawn before it can be taken again.
        if (held)
        {
            try
            {
                mapping.Withdraw(address, length);
            }
            catch (IOException)
            {
                // Out of memory for the replacement: the chunk keeps the dead region's bytes in this
                // process only, until the next region taking it maps its own memory over them.
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (Region region in _byToken.Values)
            {
                region.Memory.Dispose();
            }

            _byToken.Clear();
            Array.Clear(_byChunk);
        }
    }

    private sealed class Region(ulong token, FileDescriptor memory, int chunks)
    {
        public ulong Token { get; } = token;

        public FileDescriptor Memory { get; } = memory;

        /// <summary>Chunks not yet cleared; under the lock.</summary>
        public int Chunks { get; set; } = chunks;
    }
}
