using VirtioHw.Domain;

namespace VirtioHw.Platforms.Qemu.Ivshmem;

/// <summary>
/// How an <see cref="IvshmemServer"/> runs: where it listens, what memory it shares, and how many
/// interrupt vectors each peer has. Immutable once built.
/// </summary>
public sealed class IvshmemServerSettings
{
    /// <summary>The most vectors a peer may have: each costs every peer one descriptor per peer.</summary>
    public const int MaxVectors = 64;

    /// <summary>Peer ids are the high 16 bits of the doorbell register, so there are at most this many.</summary>
    public const int MaxPeerIds = 0x10000;

    /// <summary>Path of the UNIX socket peers connect to (QEMU: <c>-chardev socket,path=...</c>).</summary>
    public required string SocketPath { get; init; }

    /// <summary>Who may connect: the socket file's mode (0600 by default) and group, and the same rule on each peer's credentials.</summary>
    public SocketAccess Access { get; init; } = SocketAccess.OwnerOnly;

    /// <summary>
    /// The shared memory: null for an anonymous memfd, sealed so that no peer can resize it, that
    /// lives as long as the server or a peer holds it; a name without '/' for the POSIX
    /// shared-memory object <c>/dev/shm/NAME</c>; any other text is a file path. A named object or
    /// file is created when absent, sized to <see cref="Size"/>, keeps its contents, and is left in
    /// place when the server stops; a file cannot be sealed, so any peer can resize it.
    /// </summary>
    public string? SharedMemory { get; init; }

    /// <summary>Bytes of shared memory, a power of two of at least 4 KiB (QEMU maps it as BAR2). Default 4 MiB.</summary>
    public long Size { get; init; } = 4L << 20;

    /// <summary>Interrupt vectors per peer (QEMU: <c>ivshmem-doorbell,vectors=N</c>), 1 to <see cref="MaxVectors"/>. Default 1.</summary>
    public int Vectors { get; init; } = 1;

    /// <summary>
    /// Whether a join is announced as an interrupt, as the seed specification has it: when a peer
    /// joins, the server rings vector 0 of every peer already present (an MSI-X guest sees vector 0,
    /// "used to notify that a new guest has joined"). Default true; false is QEMU 7.2's server,
    /// which only sends the newcomer's eventfds (<c>virtiohw ivshmem-server --compat qemu</c>).
    /// </summary>
    public bool NotifyJoins { get; init; } = true;

    /// <summary>Peers connected at once; further connections are closed at once. Default 64.</summary>
    public int MaxPeers { get; init; } = 64;

    /// <summary>
    /// Messages queued for a peer that does not read them before the server gives up on it and
    /// disconnects it. It must hold a whole handshake (3 + <see cref="MaxPeers"/> ×
    /// <see cref="Vectors"/> messages). Default 16384.
    /// </summary>
    public int MaxQueuedMessages { get; init; } = 16384;

    /// <summary>Messages a peer receives on connecting when <paramref name="peers"/> are connected, itself included.</summary>
    public long HandshakeMessages(int peers) => 3 + ((long)peers * Vectors);

    /// <summary>The file behind <see cref="SharedMemory"/>, or null for an anonymous memfd.</summary>
    public string? SharedMemoryPath =>
        SharedMemory is null ? null
        : SharedMemory.Contains('/', StringComparison.Ordinal) ? SharedMemory
        : "/dev/shm/" + SharedMemory;

    /// <summary>Throws with a one-line message naming the first setting out of range.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(SocketPath))
        {
            throw new ArgumentException("the ivshmem server needs a socket path");
        }

        if (SharedMemory is { Length: 0 })
        {
            throw new ArgumentException("the shared memory name is empty");
        }

        if (Size < 4096 || !long.IsPow2(Size))
        {
            throw new ArgumentException($"shared memory size {Size} is not a power of two of at least 4096 bytes (QEMU maps it as a BAR)");
        }

        if (Vectors is < 1 or > MaxVectors)
        {
            throw new ArgumentException($"{Vectors} vectors is outside 1 to {MaxVectors}");
        }

        if (MaxPeers is < 1 or > MaxPeerIds)
        {
            throw new ArgumentException($"at most {MaxPeers} peers is outside 1 to {MaxPeerIds}");
        }

        long handshake = HandshakeMessages(MaxPeers);
        if (MaxQueuedMessages < handshake)
        {
            throw new ArgumentException(
                $"a queue of {MaxQueuedMessages} messages per peer cannot hold a handshake of {handshake} ({MaxPeers} peers, {Vectors} vectors)");
        }
    }
}
