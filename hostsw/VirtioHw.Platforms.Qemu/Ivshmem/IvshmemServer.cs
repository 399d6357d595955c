using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtioHw.Domain;
using VirtioHw.Platforms.Qemu.Native;

namespace VirtioHw.Platforms.Qemu.Ivshmem;

/// <summary>
/// An ivshmem server speaking QEMU's protocol, so QEMU <c>ivshmem-doorbell</c> devices and
/// <see cref="IvshmemClient"/>s share one memory and ring each other's interrupt vectors.
/// </summary>
/// <remarks>
/// <para>
/// The protocol runs one way, server to peer, over a UNIX stream socket; every message is one
/// little-endian int64, some with one file descriptor attached. On connecting, a peer receives the
/// protocol version (0), its id, -1 with the shared-memory descriptor, then for every peer already
/// connected that peer's id once per vector with one eventfd each (vectors in order), then its own
/// id once per vector with its own eventfds. Later it receives a peer's id with an eventfd (once
/// per vector) when that peer joins, and a peer's id without a descriptor when it leaves. Unless
/// <see cref="IvshmemServerSettings.NotifyJoins"/> is off (QEMU 7.2's server), a join also rings
/// vector 0 of every peer already present: the seed specification's join notification.
/// </para>
/// <para>
/// Ids start at 0 and count upwards, skipping ids in use and wrapping at 65536, so an id is not
/// reused soon after its peer left. A peer that sends anything (the protocol has peers send
/// nothing), or lets more than <see cref="IvshmemServerSettings.MaxQueuedMessages"/> messages pile
/// up unread, is disconnected and announced as gone; a connection that vanishes during its
/// handshake is forgotten without being announced. Sends never block: what a peer's socket cannot
/// take now waits in a queue for that peer alone.
/// </para>
/// <para>
/// One thread runs the server; <see cref="PeerIds"/> and <see cref="Events"/> may be read from any.
/// </para>
/// </remarks>
public sealed class IvshmemServer : IDisposable
{
    private const int ProtocolVersion = 0;
    private const long SharedMemoryMessage = -1;
    private const int ListenBacklog = 64;

    // The reason of a peer that went away by itself, as opposed to one the server dropped.
    private const string Disconnected = "disconnected";

    // After accept fails for want of resources, the listener rests this long rather than spin.
    private const int AcceptBackoffMilliseconds = 100;

    private readonly IvshmemServerSettings _settings;
    private readonly ILogger _logger;
    private readonly SafeHandle _memory;
    private readonly FileDescriptor _listener;
    private readonly FileDescriptor _wake;
    private readonly Thread _thread;
    private readonly Channel<IvshmemServerEvent> _events = Channel.CreateBounded<IvshmemServerEvent>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true });

    // Owned by the server thread; the lock guards only the published id list.
    private readonly SortedDictionary<int, Peer> _peers = [];
    private readonly Lock _published = new();
    private int[] _peerIds = [];
    private int _nextId;
    private long _listenerRestsUntil;
    private int _disposed;
    private Exception? _failure;

    private IvshmemServer(IvshmemServerSettings settings, ILogger logger, SafeHandle memory, FileDescriptor listener, FileDescriptor wake)
    {
        _settings = settings;
        _logger = logger;
        _memory = memory;
        _listener = listener;
        _wake = wake;
        _thread = new Thread(Run) { IsBackground = true, Name = "ivshmem server " + settings.SocketPath };
    }

    public IvshmemServerSettings Settings => _settings;

    /// <summary>Ids of the peers connected now, ascending.</summary>
    public IReadOnlyList<int> PeerIds
    {
        get
        {
            lock (_published)
            {
                return _peerIds;
            }
        }
    }

    /// <summary>What happened to connections, oldest first; the oldest are dropped past 1024 unread.</summary>
    public ChannelReader<IvshmemServerEvent> Events => _events.Reader;

    /// <summary>
    /// Prepares the shared memory, listens on the socket and starts serving. A socket file left by a
    /// server that is gone is replaced; one that a live server listens on is not.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    /// <exception cref="IOException">The socket or the shared memory cannot be set up; one line.</exception>
    public static IvshmemServer Start(IvshmemServerSettings settings, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        string socketPath = Path.GetFullPath(settings.SocketPath);
        RemoveStaleSocket(socketPath);

        SafeHandle? memory = null;
        FileDescriptor? listener = null;
        FileDescriptor? wake = null;
        try
        {
            memory = settings.SharedMemoryPath is { } path
                ? SharedMemoryFile.OpenFile(path, settings.Size)
                : SharedMemoryFile.CreateAnonymous("ivshmem", settings.Size);
            wake = NewEventFd();
            // The socket's mode and group are set before it listens, so nobody connects under the umask's mode.
            listener = UnixSocket.Listen(socketPath, ListenBacklog, settings.Access.Apply);
            var server = new IvshmemServer(settings, logger ?? NullLogger.Instance, memory, listener, wake);
            server._thread.Start();
            return server;
        }
        catch
        {
            listener?.Dispose();
            wake?.Dispose();
            memory?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stops serving: every peer sees its connection close, the socket file is removed. A named
    /// shared-memory object or file stays, with its contents.
    /// </summary>
    /// <exception cref="IOException">The server thread had failed; the message says why.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Signal(_wake);
        _thread.Join();
        foreach (Peer peer in _peers.Values)
        {
            peer.Dispose();
        }

        _peers.Clear();
        Publish();
        _listener.Dispose();
        _wake.Dispose();
        _memory.Dispose();
        _events.Writer.TryComplete();
        TryDelete(Path.GetFullPath(_settings.SocketPath));
        if (_failure is not null)
        {
            throw new IOException($"the ivshmem server at {_settings.SocketPath} failed: {_failure.Message}", _failure);
        }
    }

    private void Run()
    {
        var polls = new List<Libc.PollDescriptor>();
        var order = new List<Peer>();
        try
        {
            while (true)
            {
                polls.Clear();
                order.Clear();
                polls.Add(new Libc.PollDescriptor { Descriptor = _wake.Number, Events = Libc.PollIn });
                long now = Environment.TickCount64;
                bool listening = now >= _listenerRestsUntil;
                polls.Add(new Libc.PollDescriptor { Descriptor = listening ? _listener.Number : -1, Events = Libc.PollIn });
                foreach (Peer peer in _peers.Values)
                {
                    short events = peer.HasQueued ? (short)(Libc.PollIn | Libc.PollOut) : Libc.PollIn;
                    polls.Add(new Libc.PollDescriptor { Descriptor = peer.Socket.Number, Events = events });
                    order.Add(peer);
                }

                int timeout = listening ? -1 : (int)Math.Max(1, _listenerRestsUntil - now);
                UnixSocket.Poll(CollectionsMarshal.AsSpan(polls), timeout);
                if (polls[0].ReturnedEvents != 0)
                {
                    return;
                }

                var dropped = new List<(Peer Peer, string Reason)>();
                for (int i = 0; i < order.Count; i++)
                {
                    if (Service(order[i], polls[i + 2].ReturnedEvents) is { } reason)
                    {
                        dropped.Add((order[i], reason));
                    }
                }

                Remove(dropped);
                if (polls[1].ReturnedEvents != 0)
                {
                    AcceptAll();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _failure = e;
        }
    }

    // What a peer's poll events mean: null while it behaves, else why it is disconnected.
    private string? Service(Peer peer, short events)
    {
        if ((events & Libc.PollIn) != 0)
        {
            if (!UnixSocket.Drain(peer.Socket, out int received))
            {
                return Disconnected;
            }

            if (received > 0)
            {
                return $"sent {received} bytes; peers of this protocol send nothing";
            }
        }

        if ((events & (Libc.PollError | Libc.PollHangUp | Libc.PollInvalid)) != 0)
        {
            return Disconnected;
        }

        if ((events & Libc.PollOut) != 0 && peer.Flush() == SendStatus.Failed)
        {
            return Disconnected;
        }

        return null;
    }

    private void AcceptAll()
    {
        while (true)
        {
            FileDescriptor? connection;
            try
            {
                connection = UnixSocket.TryAccept(_listener);
            }
            catch (IOException e)
            {
                // Out of descriptors, most likely: refuse for a moment instead of spinning.
                _listenerRestsUntil = Environment.TickCount64 + AcceptBackoffMilliseconds;
                Report(IvshmemServerEventKind.Refused, -1, e.Message, null);
                return;
            }

            if (connection is null)
            {
                return;
            }

            if (Check(connection) is { } credentials)
            {
                Admit(connection, credentials);
            }
        }
    }

    // The peer's credentials when the socket's access rule lets it in, else null; logged either way.
    private PeerCredentials? Check(FileDescriptor connection)
    {
        PeerCredentials credentials;
        try
        {
            credentials = PeerCredentials.Of(connection);
        }
        catch (IOException e)
        {
            connection.Dispose();
            Report(IvshmemServerEventKind.Refused, -1, e.Message, null);
            return null;
        }

        if (!_settings.Access.Allows(credentials))
        {
            connection.Dispose();
            Report(IvshmemServerEventKind.Refused, -1, $"{credentials}: the socket's {_settings.Access} does not let it in", credentials);
            return null;
        }

        Report(IvshmemServerEventKind.Accepted, -1, credentials.ToString(), credentials);
        return credentials;
    }

    private void Admit(FileDescriptor connection, PeerCredentials credentials)
    {
        if (_peers.Count >= _settings.MaxPeers)
        {
            connection.Dispose();
            Report(IvshmemServerEventKind.Refused, -1, $"server full ({_settings.MaxPeers} peers)", credentials);
            return;
        }

        int id = TakeId();
        Peer peer;
        try
        {
            peer = new Peer(id, connection, credentials, _settings.Vectors, _settings.MaxQueuedMessages);
        }
        catch (IOException e)
        {
            connection.Dispose();
            Report(IvshmemServerEventKind.Refused, -1, e.Message, credentials);
            return;
        }

        // The newcomer learns everything first; only a peer that got its handshake is announced.
        bool delivered = peer.Send(ProtocolVersion, null) != SendStatus.Failed
            && peer.Send(id, null) != SendStatus.Failed
            && peer.Send(SharedMemoryMessage, _memory) != SendStatus.Failed;
        foreach (Peer other in _peers.Values)
        {
            for (int vector = 0; delivered && vector < other.Vectors.Length; vector++)
            {
                delivered = peer.Send(other.Id, other.Vectors[vector]) != SendStatus.Failed;
            }
        }

        for (int vector = 0; delivered && vector < peer.Vectors.Length; vector++)
        {
            delivered = peer.Send(id, peer.Vectors[vector]) != SendStatus.Failed;
        }

        if (!delivered)
        {
            peer.Dispose();
            Report(IvshmemServerEventKind.HandshakeFailed, id, "its socket closed", credentials);
            return;
        }

        var dropped = new List<(Peer Peer, string Reason)>();
        foreach (Peer other in _peers.Values)
        {
            for (int vector = 0; vector < peer.Vectors.Length; vector++)
            {
                if (other.Send(id, peer.Vectors[vector]) == SendStatus.Failed)
                {
                    dropped.Add((other, other.Overflowed ? "stopped reading its messages" : Disconnected));
                    break;
                }
            }
        }

        if (_settings.NotifyJoins)
        {
            // The seed specification's join notification: vector 0 of every peer present, after the newcomer's eventfds.
            foreach (Peer other in _peers.Values)
            {
                Signal(other.Vectors[0]);
            }
        }

        _peers.Add(id, peer);
        Publish();
        Report(IvshmemServerEventKind.PeerJoined, id, "joined", credentials);
        Remove(dropped);
    }


    // Disconnects the peers and tells the rest; a peer that cannot be told is disconnected in turn.
    private void Remove(List<(Peer Peer, string Reason)> dropped)
    {
        var pending = new Queue<(Peer Peer, string Reason)>(dropped);
        while (pending.TryDequeue(out (Peer Peer, string Reason) next))
        {
            if (!_peers.Remove(next.Peer.Id))
            {
                continue;
            }

            next.Peer.Dispose();
            Report(IvshmemServerEventKind.PeerLeft, next.Peer.Id, next.Reason, next.Peer.Credentials);
            foreach (Peer other in _peers.Values)
            {
                if (other.Send(next.Peer.Id, null) == SendStatus.Failed)
                {
                    pending.Enqueue((other, other.Overflowed ? "stopped reading its messages" : Disconnected));
                }
            }
        }

        if (dropped.Count > 0)
        {
            Publish();
        }
    }

    private int TakeId()
    {
        Debug.Assert(_peers.Count < IvshmemServerSettings.MaxPeerIds);
        while (_peers.ContainsKey(_nextId))
        {
            _nextId = (_nextId + 1) % IvshmemServerSettings.MaxPeerIds;
        }

        int id = _nextId;
        _nextId = (_nextId + 1) % IvshmemServerSettings.MaxPeerIds;
        return id;
    }

    private void Publish()
    {
        int[] ids = [.. _peers.Keys];
        lock (_published)
        {
            _peerIds = ids;
        }
    }

    // One event for Events, one log entry with the peer's identity where the kernel gave it.
    private void Report(IvshmemServerEventKind kind, int peerId, string detail, PeerCredentials? peer)
    {
        _events.Writer.TryWrite(new IvshmemServerEvent(kind, peerId, detail));
        switch (kind)
        {
            case IvshmemServerEventKind.Accepted when peer is not null:
                ServerLog.Accepted(_logger, peer.ProcessId, peer.UserId, peer.GroupId);
                break;
            case IvshmemServerEventKind.PeerJoined when peer is not null:
                ServerLog.Joined(_logger, peerId, peer.ProcessId, peer.UserId, peer.GroupId);
                break;
            case IvshmemServerEventKind.PeerLeft when peer is not null && detail == Disconnected:
                ServerLog.Left(_logger, peerId, detail, peer.ProcessId, peer.UserId, peer.GroupId);
                break;
            case IvshmemServerEventKind.PeerLeft when peer is not null:
                // The server gave up on it: it misbehaved or stopped reading.
                ServerLog.Dropped(_logger, peerId, detail, peer.ProcessId, peer.UserId, peer.GroupId);
                break;
            case IvshmemServerEventKind.HandshakeFailed when peer is not null:
                ServerLog.HandshakeFailed(_logger, peerId, detail, peer.ProcessId, peer.UserId, peer.GroupId);
                break;
            case IvshmemServerEventKind.Refused:
                ServerLog.Refused(_logger, detail, peer);
                break;
        }
    }

    private static FileDescriptor NewEventFd()
    {
        FileDescriptor eventFd = Libc.EventFd(0, Libc.EventFdCloseOnExec | Libc.EventFdNonBlocking);
        if (eventFd.IsInvalid)
        {
            int errno = Libc.LastError;
            eventFd.Dispose();
            throw new IOException($"eventfd failed: {Libc.Describe(errno)}");
        }

        return eventFd;
    }

    private static unsafe void Signal(FileDescriptor eventFd)
    {
        ulong one = 1;
        _ = Libc.Write(eventFd, &one, sizeof(ulong));
    }

    private static void RemoveStaleSocket(string path)
    {
        if (!UnixSocket.IsSocket(path, out bool exists))
        {
            if (exists)
            {
                throw new IOException($"{path} exists and is not a socket; not replacing it");
            }

            return;
        }

        FileDescriptor? live = UnixSocket.TryConnect(path);
        if (live is not null)
        {
            live.Dispose();
            throw new IOException($"another server listens on {path}");
        }

        TryDelete(path);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Someone else removed or replaced it meanwhile; nothing of ours is left to clean.
        }
    }

    private enum SendStatus
    {
        Sent,
        Queued,
        Failed,
    }

    /// <summary>One connected peer: its socket, its eventfds, and what its socket could not take yet.</summary>
    private sealed class Peer : IDisposable
    {
        private readonly Queue<Outgoing> _queue = new();
        private readonly int _maxQueued;

        public Peer(int id, FileDescriptor socket, PeerCredentials credentials, int vectors, int maxQueued)
        {
            Id = id;
            Credentials = credentials;
            Socket = socket;
            _maxQueued = maxQueued;
            Vectors = new FileDescriptor[vectors];
            try
            {
                for (int i = 0; i < vectors; i++)
                {
                    Vectors[i] = NewEventFd();
                }
            }
            catch
            {
                DisposeVectors();
                throw;
            }
        }

        public int Id { get; }

        /// <summary>Who connected, as the kernel recorded it.</summary>
        public PeerCredentials Credentials { get; }

        public FileDescriptor Socket { get; }

        public FileDescriptor[] Vectors { get; }

        public bool HasQueued => _queue.Count > 0;

        /// <summary>The peer was given up on because its queue filled.</summary>
        public bool Overflowed { get; private set; }

        /// <summary>Sends now, or queues behind what is already waiting; Failed once the peer is lost.</summary>
        public SendStatus Send(long value, SafeHandle? attached)
        {
            if (Overflowed)
            {
                return SendStatus.Failed;
            }

            if (_queue.Count == 0)
            {
                UnixSocket.SendResult result = UnixSocket.TrySend(Socket, value, attached);
                if (result == UnixSocket.SendResult.Sent)
                {
                    return SendStatus.Sent;
                }

                if (result == UnixSocket.SendResult.Failed)
                {
                    return SendStatus.Failed;
                }
            }

            if (_queue.Count >= _maxQueued)
            {
                Overflowed = true;
                return SendStatus.Failed;
            }

            _queue.Enqueue(new Outgoing(value, attached));
            return SendStatus.Queued;
        }

        /// <summary>Sends what was queued, as far as the socket takes it.</summary>
        public SendStatus Flush()
        {
            while (_queue.TryPeek(out Outgoing? next))
            {
                UnixSocket.SendResult result = UnixSocket.TrySend(Socket, next.Value, next.Attached);
                if (result == UnixSocket.SendResult.WouldBlock)
                {
                    return SendStatus.Queued;
                }

                _queue.Dequeue().Dispose();
                if (result == UnixSocket.SendResult.Failed)
                {
                    return SendStatus.Failed;
                }
            }

            return SendStatus.Sent;
        }

        public void Dispose()
        {
            while (_queue.TryDequeue(out Outgoing? queued))
            {
                queued.Dispose();
            }

            Socket.Dispose();
            DisposeVectors();
        }

        private void DisposeVectors()
        {
            foreach (FileDescriptor? vector in Vectors)
            {
                vector?.Dispose();
            }
        }
    }

    /// <summary>A queued message; it holds a reference on its descriptor so the descriptor outlives its owner until sent.</summary>
    private sealed class Outgoing : IDisposable
    {
        private bool _referenced;

        public Outgoing(long value, SafeHandle? attached)
        {
            Value = value;
            Attached = attached;
            attached?.DangerousAddRef(ref _referenced);
        }

        public long Value { get; }

        public SafeHandle? Attached { get; }

        public void Dispose()
        {
            if (_referenced)
            {
                _referenced = false;
                Attached!.DangerousRelease();
            }
        }
    }
}
