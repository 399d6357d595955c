using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using VirtioHw.Platforms.Qemu.Native;

namespace VirtioHw.Platforms.Qemu.Ivshmem;

/// <summary>A peer joining or leaving, as an <see cref="IvshmemClient"/> hears it from the server.</summary>
/// <param name="PeerId">The peer's id.</param>
/// <param name="Joined">True for a join (all its eventfds arrived), false for a leave.</param>
public readonly record struct IvshmemPeerEvent(int PeerId, bool Joined)
{
    public override string ToString() => $"peer {PeerId} {(Joined ? "joined" : "left")}";
}

/// <summary>
/// A peer of an ivshmem server written in C#: it maps the shared memory, learns its id and every
/// peer's eventfds, rings a peer's vector, and waits on its own vectors. It takes part in the same
/// domain as QEMU <c>ivshmem-doorbell</c> devices.
/// </summary>
/// <remarks>
/// One thread per client reads the server's messages and the client's own eventfds. After the
/// server goes away the client keeps its memory mapping and its peers' eventfds (so doorbells to
/// peers still alive keep working) but hears of no more joins or leaves; <see cref="Disconnected"/>
/// completes. To rejoin a restarted server, connect a new client: it gets a new id, new eventfds
/// for itself and every peer, and (when the server uses the same named memory) the same bytes.
/// </remarks>
public sealed class IvshmemClient : IDisposable
{
    private const int MaxPeerId = IvshmemServerSettings.MaxPeerIds - 1;

    private readonly string _socketPath;
    private readonly FileDescriptor _socket;
    private readonly FileDescriptor _wake;
    private readonly MessageReader _reader = new();
    private readonly Lock _sync = new();
    private readonly Dictionary<int, List<FileDescriptor>> _peers = [];
    private readonly List<FileDescriptor> _own = [];
    private readonly Channel<long>[] _interrupts;
    private readonly Channel<IvshmemPeerEvent> _peerEvents = Channel.CreateUnbounded<IvshmemPeerEvent>(
        new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;

    private HandshakeStep _step = HandshakeStep.Version;
    private MemoryMapping? _memory;
    private int _disposed;

    private IvshmemClient(string socketPath, FileDescriptor socket, FileDescriptor wake, int vectors)
    {
        _socketPath = socketPath;
        _socket = socket;
        _wake = wake;
        VectorCount = vectors;
        _interrupts = new Channel<long>[vectors];
        for (int i = 0; i < vectors; i++)
        {
            _interrupts[i] = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleWriter = true });
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "ivshmem client " + socketPath };
    }

    private enum HandshakeStep
    {
        Version,
        Id,
        Memory,
        Vectors,
        Done,
    }

    /// <summary>This peer's id, as the server assigned it (the IVPosition a QEMU device would show).</summary>
    public int Id { get; private set; } = -1;

    /// <summary>Interrupt vectors of every peer of the server.</summary>
    public int VectorCount { get; }

    /// <summary>Bytes of shared memory.</summary>
    public long SharedMemoryLength => _memory!.Length;

    /// <summary>
    /// The shared memory, mapped into this process. Valid until the client is disposed; memories over
    /// 2 GiB are reached through <see cref="SharedMemoryPointer"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The memory is larger than a span can be.</exception>
    public unsafe Span<byte> SharedMemory
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_memory!.Length > int.MaxValue)
            {
                throw new InvalidOperationException($"the shared memory is {_memory.Length} bytes, more than a span holds");
            }

            return new Span<byte>(_memory.Pointer, (int)_memory.Length);
        }
    }

    /// <summary>The first byte of the shared memory; valid until the client is disposed.</summary>
    public unsafe byte* SharedMemoryPointer => _memory!.Pointer;

    /// <summary>Ids of the other peers whose eventfds have all arrived, ascending.</summary>
    public IReadOnlyList<int> Peers
    {
        get
        {
            lock (_sync)
            {
                var ids = new List<int>();
                foreach ((int id, List<FileDescriptor> fds) in _peers)
                {
                    if (fds.Count == VectorCount)
                    {
                        ids.Add(id);
                    }
                }

                ids.Sort();
                return ids;
            }
        }
    }

    /// <summary>Joins and leaves after this client's handshake, in the order the server sent them.</summary>
    public ChannelReader<IvshmemPeerEvent> PeerEvents => _peerEvents.Reader;

    /// <summary>Completes, with the reason, once the connection to the server is gone.</summary>
    public Task<string> Disconnected => _disconnected.Task;

    /// <summary>
    /// Connects to the server at <paramref name="socketPath"/> and completes its handshake: the
    /// memory is mapped and every current peer is known when this returns.
    /// </summary>
    /// <param name="socketPath">The server's socket.</param>
    /// <param name="vectors">Vectors per peer; must match the server's.</param>
    /// <param name="cancellationToken">Gives up on the handshake.</param>
    /// <exception cref="IOException">Nobody listens there, or the server broke the protocol; one line.</exception>
    public static async Task<IvshmemClient> ConnectAsync(string socketPath, int vectors, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(vectors, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vectors, IvshmemServerSettings.MaxVectors);

        FileDescriptor socket = UnixSocket.TryConnect(socketPath)
            ?? throw new IOException($"no ivshmem server listens at {socketPath}");
        FileDescriptor wake;
        try
        {
            wake = NewEventFd();
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new IvshmemClient(socketPath, socket, wake, vectors);
        client._thread.Start();
        try
        {
            await client._handshake.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Rings <paramref name="vector"/> of peer <paramref name="peerId"/> (adds 1 to its eventfd).
    /// False, as on QEMU's doorbell register, when there is no such peer or vector.
    /// </summary>
    public unsafe bool Ring(int peerId, int vector)
    {
        FileDescriptor target;
        lock (_sync)
        {
            List<FileDescriptor>? fds = peerId == Id ? _own : _peers.GetValueOrDefault(peerId);
            if (fds is null || (uint)vector >= (uint)fds.Count)
            {
                return false;
            }

            target = fds[vector];
        }

        ulong one = 1;
        try
        {
            return Libc.Write(target, &one, sizeof(ulong)) == sizeof(ulong);
        }
        catch (ObjectDisposedException)
        {
            return false;  // the peer left while we rang
        }
    }

    /// <summary>
    /// Waits until <paramref name="vector"/> of this peer is rung; returns how many rings arrived
    /// since the last wait returned (an eventfd adds them up).
    /// </summary>
    /// <exception cref="ChannelClosedException">The client was disposed.</exception>
    public ValueTask<long> WaitAsync(int vector, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vector);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(vector, VectorCount);
        return _interrupts[vector].Reader.ReadAsync(cancellationToken);
    }

    /// <summary>Takes rings of <paramref name="vector"/> already here, if any; for polling.</summary>
    public bool TryTake(int vector, out long rings)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vector);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(vector, VectorCount);
        return _interrupts[vector].Reader.TryRead(out rings);
    }

    /// <summary>Closes the connection (the server announces the leave) and unmaps the memory.</summary>
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ulong one = 1;
        _ = Libc.Write(_wake, &one, sizeof(ulong));
        _thread.Join();
        _socket.Dispose();
        _wake.Dispose();
        _reader.Dispose();
        lock (_sync)
        {
            foreach (List<FileDescriptor> fds in _peers.Values)
            {
                DisposeAll(fds);
            }

            _peers.Clear();
            DisposeAll(_own);
        }

        foreach (Channel<long> interrupts in _interrupts)
        {
            interrupts.Writer.TryComplete();
        }

        _peerEvents.Writer.TryComplete();
        _memory?.Dispose();
        _disconnected.TrySetResult("the client was disposed");
    }

    private void Run()
    {
        var polls = new List<Libc.PollDescriptor>();
        try
        {
            while (true)
            {
                polls.Clear();
                polls.Add(new Libc.PollDescriptor { Descriptor = _wake.Number, Events = Libc.PollIn });
                bool connected = !_disconnected.Task.IsCompleted;
                polls.Add(new Libc.PollDescriptor { Descriptor = connected ? _socket.Number : -1, Events = Libc.PollIn });
                foreach (FileDescriptor own in _own)
                {
                    polls.Add(new Libc.PollDescriptor { Descriptor = own.Number, Events = Libc.PollIn });
                }

                UnixSocket.Poll(CollectionsMarshal.AsSpan(polls), -1);
                if (polls[0].ReturnedEvents != 0)
                {
                    _handshake.TrySetException(new OperationCanceledException("the client was disposed during its handshake"));
                    return;
                }

                for (int vector = 0; vector < polls.Count - 2; vector++)
                {
                    if (polls[vector + 2].ReturnedEvents != 0)
                    {
                        TakeInterrupts(vector);
                    }
                }

                if (polls[1].ReturnedEvents != 0)
                {
                    ReadServer();
                }
            }
        }
        catch (InvalidDataException e)
        {
            Fail($"the ivshmem server at {_socketPath} {e.Message}");
        }
        catch (IOException e)
        {
            Fail($"the connection to the ivshmem server at {_socketPath} failed: {e.Message}");
        }
    }

    private void ReadServer()
    {
        while (true)
        {
            ReceiveStatus status = _reader.TryReceive(_socket, out long value, out FileDescriptor? descriptor);
            if (status == ReceiveStatus.WouldBlock)
            {
                return;
            }

            if (status == ReceiveStatus.Closed)
            {
                Fail(_step == HandshakeStep.Done
                    ? $"the ivshmem server at {_socketPath} closed the connection"
                    : $"the ivshmem server at {_socketPath} closed the connection during the handshake");
                return;
            }

            try
            {
                Handle(value, ref descriptor);
            }
            finally
            {
                descriptor?.Dispose();
            }
        }
    }

    // Takes the message; a descriptor it keeps is set to null so the caller does not close it.
    private void Handle(long value, ref FileDescriptor? descriptor)
    {
        switch (_step)
        {
            case HandshakeStep.Version:
                Expect(value == 0 && descriptor is null, $"speaks protocol version {value}, not 0");
                _step = HandshakeStep.Id;
                return;

            case HandshakeStep.Id:
                Expect(value is >= 0 and <= MaxPeerId && descriptor is null, $"sent {value} where the client's id belongs");
                Id = (int)value;
                _step = HandshakeStep.Memory;
                return;

            case HandshakeStep.Memory:
                Expect(value == -1 && descriptor is not null, "sent no shared-memory descriptor after the client's id");
                _memory = MemoryMapping.Map(descriptor!, SharedMemoryFile.SizeOf(descriptor!), "the ivshmem shared memory");
                _step = HandshakeStep.Vectors;
                return;

            default:
                break;
        }

        Expect(value is >= 0 and <= MaxPeerId, $"sent {value}, which is not a peer id");
        int peer = (int)value;
        if (peer == Id)
        {
            Expect(descriptor is not null && _own.Count < VectorCount,
                descriptor is null ? "announced this client as gone" : $"sent this client more than {VectorCount} vectors");
            lock (_sync)
            {
                _own.Add(descriptor!);
            }

            descriptor = null;
            if (_own.Count == VectorCount && _step != HandshakeStep.Done)
            {
                _step = HandshakeStep.Done;
                _handshake.TrySetResult();
            }

            return;
        }

        if (descriptor is null)
        {
            List<FileDescriptor>? gone;
            lock (_sync)
            {
                _peers.Remove(peer, out gone);
            }

            if (gone is not null)
            {
                DisposeAll(gone);
                Announce(new IvshmemPeerEvent(peer, Joined: false));
            }

            return;
        }

        int count;
        lock (_sync)
        {
            if (!_peers.TryGetValue(peer, out List<FileDescriptor>? fds))
            {
                fds = [];
                _peers.Add(peer, fds);
            }

            Expect(fds.Count < VectorCount, $"sent more than {VectorCount} vectors for peer {peer}; does it use {VectorCount} vectors?");
            fds.Add(descriptor);
            count = fds.Count;
        }

        descriptor = null;
        if (count == VectorCount)
        {
            Announce(new IvshmemPeerEvent(peer, Joined: true));
        }
    }

    // Peers known at the end of the handshake are the starting point, not news.
    private void Announce(IvshmemPeerEvent peerEvent)
    {
        if (_step == HandshakeStep.Done)
        {
            _peerEvents.Writer.TryWrite(peerEvent);
        }
    }

    private unsafe void TakeInterrupts(int vector)
    {
        ulong count;
        nint read = Libc.Read(_own[vector], &count, sizeof(ulong));
        if (read == sizeof(ulong))
        {
            _interrupts[vector].Writer.TryWrite((long)count);
        }
    }

    private void Fail(string reason)
    {
        _handshake.TrySetException(new IOException(reason));
        _disconnected.TrySetResult(reason);
    }

    private static void Expect([DoesNotReturnIf(false)] bool condition, string violation)
    {
        if (!condition)
        {
            throw new InvalidDataException(violation);
        }
    }

    private static void DisposeAll(List<FileDescriptor> fds)
    {
        foreach (FileDescriptor fd in fds)
        {
            fd.Dispose();
        }

        fds.Clear();
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
}
