namespace VirtioHw.Platforms.Qemu.Ivshmem;

/// <summary>What happened to a connection of an <see cref="IvshmemServer"/>.</summary>
public enum IvshmemServerEventKind
{
    /// <summary>A peer completed its handshake and was announced to the others.</summary>
    PeerJoined,

    /// <summary>A peer went away, or was disconnected for misbehaving; the others were told.</summary>
    PeerLeft,

    /// <summary>A connection went away before its handshake was out; nobody heard of it.</summary>
    HandshakeFailed,

    /// <summary>A connection was closed at once: the server is full or out of resources, or its socket's access rule does not let the peer in.</summary>
    Refused,

    /// <summary>A connection the socket's access rule lets in; the detail names the peer's credentials.</summary>
    Accepted,
}

/// <summary>One entry of <see cref="IvshmemServer.Events"/>.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="PeerId">The peer concerned, or -1 for a refused connection that never had an id.</param>
/// <param name="Detail">Why, in a few words: "disconnected", "sent 12 bytes", "server full (64 peers)".</param>
public readonly record struct IvshmemServerEvent(IvshmemServerEventKind Kind, int PeerId, string Detail)
{
    public override string ToString() => Kind switch
    {
        IvshmemServerEventKind.PeerJoined => $"peer {PeerId} joined",
        IvshmemServerEventKind.PeerLeft => $"peer {PeerId} left: {Detail}",
        IvshmemServerEventKind.HandshakeFailed => $"peer {PeerId} went away during its handshake: {Detail}",
        IvshmemServerEventKind.Accepted => $"connection from {Detail}",
        _ => $"connection refused: {Detail}",
    };
}
