using Microsoft.Extensions.Logging;

namespace VirtioHw.Domain;

/// <summary>
/// What the domain server and the ivshmem server log, with the peer's identity as the kernel gave
/// it (SO_PEERCRED) in named fields: <c>Pid</c>, <c>Uid</c>, <c>Gid</c>, and <c>PeerId</c> once it
/// has one. Event ids are stable, so log pipelines can select on them.
/// </summary>
public static partial class ServerLog
{
    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information, Message = "{Server} on {Socket} ({Access}): {Detail}")]
    public static partial void Listening(ILogger logger, string server, string socket, string access, string detail);

    [LoggerMessage(EventId = 2, EventName = "Stopped", Level = LogLevel.Information, Message = "{Server} stopped")]
    public static partial void Stopped(ILogger logger, string server);

    [LoggerMessage(EventId = 10, EventName = "ConnectionAccepted", Level = LogLevel.Debug, Message = "connection from pid {Pid} uid {Uid} gid {Gid}")]
    public static partial void Accepted(ILogger logger, int pid, uint uid, uint gid);

    [LoggerMessage(EventId = 11, EventName = "PeerJoined", Level = LogLevel.Information, Message = "peer {PeerId} joined: pid {Pid} uid {Uid} gid {Gid}")]
    public static partial void Joined(ILogger logger, int peerId, int pid, uint uid, uint gid);

    [LoggerMessage(EventId = 12, EventName = "PeerLeft", Level = LogLevel.Information, Message = "peer {PeerId} left ({Reason}): pid {Pid} uid {Uid} gid {Gid}")]
    public static partial void Left(ILogger logger, int peerId, string reason, int pid, uint uid, uint gid);

    [LoggerMessage(EventId = 13, EventName = "PeerDropped", Level = LogLevel.Warning, Message = "peer {PeerId} dropped ({Reason}): pid {Pid} uid {Uid} gid {Gid}")]
    public static partial void Dropped(ILogger logger, int peerId, string reason, int pid, uint uid, uint gid);

    [LoggerMessage(EventId = 14, EventName = "ConnectionRefused", Level = LogLevel.Warning, Message = "connection refused ({Reason}): pid {Pid} uid {Uid} gid {Gid}")]
    public static partial void Refused(ILogger logger, string reason, int pid, uint uid, uint gid);

    [LoggerMessage(EventId = 15, EventName = "ConnectionRefusedUnidentified", Level = LogLevel.Warning, Message = "connection refused before its credentials could be read ({Reason})")]
    public static partial void RefusedUnidentified(ILogger logger, string reason);

    [LoggerMessage(EventId = 16, EventName = "HandshakeFailed", Level = LogLevel.Warning, Message = "peer {PeerId} went away during its handshake ({Reason}): pid {Pid} uid {Uid} gid {Gid}")]
    public static partial void HandshakeFailed(ILogger logger, int peerId, string reason, int pid, uint uid, uint gid);

    /// <summary>A refusal, with the peer's identity when it is known.</summary>
    public static void Refused(ILogger logger, string reason, PeerCredentials? peer)
    {
        if (peer is null)
        {
            RefusedUnidentified(logger, reason);
        }
        else
        {
            Refused(logger, reason, peer.ProcessId, peer.UserId, peer.GroupId);
        }
    }
}
