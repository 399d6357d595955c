namespace VirtioHw.Domain;

/// <summary>What a <see cref="DomainServer"/> is built with; taken at construction, not changed after.</summary>
public sealed record DomainServerSettings
{
    /// <summary>The UNIX socket to listen on; it must not exist (a stale socket nobody listens on is replaced).</summary>
    public required string SocketPath { get; init; }

    /// <summary>Who may connect: the socket file's mode (0600 by default) and group, and the same rule on each peer's credentials.</summary>
    public SocketAccess Access { get; init; } = SocketAccess.OwnerOnly;

    /// <summary>Bytes of domain memory, a whole number of chunks (32 MiB: what one virtio-ism endpoint of the model maps).</summary>
    public long MemorySize { get; init; } = 32L << 20;

    /// <summary>Size of one chunk, a power of two; it must equal the chunk slot size of the members' endpoints.</summary>
    public ulong ChunkSize { get; init; } = 128 * 1024;

    /// <summary>The domain id; null for a new version-4 UUID.</summary>
    public Guid? Cdid { get; init; }

    /// <summary>How long a new connection has to send its Hello.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Devices one connection may join.</summary>
    public int MaxDevicesPerPeer { get; init; } = 64;

    /// <summary>Frames queued for a peer that does not read them; beyond this the peer is dropped.</summary>
    public int MaxQueuedFrames { get; init; } = 65536;

    /// <summary>
    /// Called on a peer's reader thread once a request or kick (<see cref="DomainWire.Request"/> or
    /// <see cref="DomainWire.Kick"/>, and the operation of a request) has taken effect in the domain,
    /// before its reply is queued: where fault-injection tests stop a peer in the middle of a step.
    /// </summary>
    internal Action<ushort, DomainOperation>? StepTaken { get; init; }
}
