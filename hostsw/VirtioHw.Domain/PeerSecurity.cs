using System.Globalization;
using System.Runtime.InteropServices;
using VirtioHw.Domain.Native;

namespace VirtioHw.Domain;

/// <summary>
/// Who is at the other end of a connected UNIX socket, as the kernel recorded it when the peer
/// connected (SO_PEERCRED, and SO_PEERGROUPS for its supplementary groups): what a peer says
/// about itself is never asked.
/// </summary>
/// <param name="ProcessId">The connecting process.</param>
/// <param name="UserId">Its effective user id.</param>
/// <param name="GroupId">Its effective group id.</param>
/// <param name="Groups">Its supplementary groups.</param>
public sealed record PeerCredentials(int ProcessId, uint UserId, uint GroupId, IReadOnlyList<uint> Groups)
{
    /// <summary>The credentials of the peer of <paramref name="socket"/>.</summary>
    /// <exception cref="IOException">The socket is not a connected UNIX socket.</exception>
    public static unsafe PeerCredentials Of(SafeHandle socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Libc.PeerCredentials credentials;
        uint length = (uint)sizeof(Libc.PeerCredentials);
        if (Libc.GetSocketOption(socket, Libc.SocketLevel, Libc.SocketPeerCredentials, &credentials, &length) != 0)
        {
            throw new IOException($"cannot read the peer's credentials: {Libc.LastErrorText}");
        }

        // The kernel says how much room the group list needs when the first guess is short.
        var groups = new uint[32];
        while (true)
        {
            uint bytes = (uint)(groups.Length * sizeof(uint));
            fixed (uint* list = groups)
            {
                if (Libc.GetSocketOption(socket, Libc.SocketLevel, Libc.SocketPeerGroups, list, &bytes) == 0)
                {
                    Array.Resize(ref groups, (int)(bytes / sizeof(uint)));
                    break;
                }
            }

            if (Libc.LastError != Libc.ErrorRange || bytes <= groups.Length * sizeof(uint))
            {
                throw new IOException($"cannot read the peer's groups: {Libc.LastErrorText}");
            }

            groups = new uint[bytes / sizeof(uint)];
        }

        return new PeerCredentials(credentials.ProcessId, credentials.UserId, credentials.GroupId, groups);
    }

    /// <summary>Whether the peer is in <paramref name="group"/>, as its effective or a supplementary group.</summary>
    public bool IsIn(uint group) => GroupId == group || Groups.Contains(group);

    /// <summary>"uid 1000 gid 1000 pid 4242": for a log line.</summary>
    public override string ToString() => $"uid {UserId} gid {GroupId} pid {ProcessId}";
}

/// <summary>
/// Who may connect to a server's UNIX socket: the socket file's mode and group (set between bind
/// and listen, so nobody connects under the umask's mode), and the same rule applied to every
/// connection's <see cref="PeerCredentials"/>, so a connection the file mode would not allow is
/// refused even when the kernel let it through (root, a file whose mode was changed later, a
/// socket reached through a descriptor passed along). Immutable.
/// </summary>
public sealed record SocketAccess
{
    /// <summary>Read and write for the user the server runs as, nobody else: the default.</summary>
    public static SocketAccess OwnerOnly { get; } = new();

    /// <summary>Permission bits of the socket file (0 to 0777); connecting needs the write bit of the peer's class.</summary>
    public uint Mode { get; init; } = 0b110_000_000; // 0600

    /// <summary>The socket file's group: by default the server's effective group.</summary>
    public uint Group { get; init; } = Libc.EffectiveGroupId();

    /// <summary>The user the socket belongs to: the server's effective user.</summary>
    public uint Owner { get; init; } = Libc.EffectiveUserId();

    /// <summary>
    /// Whether the rule of the file mode lets <paramref name="peer"/> in: the owner's bits for the
    /// owner, the group's bits for a member of the socket's group, the others' bits for the rest.
    /// </summary>
    public bool Allows(PeerCredentials peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        const uint write = 0b010;
        if (peer.UserId == Owner)
        {
            return ((Mode >> 6) & write) != 0;
        }

        if (peer.IsIn(Group))
        {
            return ((Mode >> 3) & write) != 0;
        }

        return (Mode & write) != 0;
    }

    /// <summary>"mode 0660, owner uid 1000, group 27": for a refusal line.</summary>
    public override string ToString() => $"mode {Octal(Mode)}, owner uid {Owner}, group {Group}";

    /// <summary>"0660".</summary>
    public static string Octal(uint mode) => "0" + Convert.ToString(mode, 8).PadLeft(3, '0');

    /// <summary>Gives the bound socket file at <paramref name="path"/> this mode and group; call before listening.</summary>
    /// <exception cref="IOException">chmod or chown failed (for instance a group the server is not in, without root).</exception>
    public void Apply(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // Always: a directory with the set-group-id bit would otherwise give the socket its own group.
        if (Libc.ChangePathOwner(path, uint.MaxValue, Group) != 0)
        {
            throw new IOException($"cannot give {path} to group {Group}: {Libc.LastErrorText}");
        }

        if (Libc.ChangePathMode(path, Mode) != 0)
        {
            throw new IOException($"cannot set the mode of {path} to {Octal(Mode)}: {Libc.LastErrorText}");
        }
    }

    /// <summary>A mode written in octal ("0660", "660", "0o660"); one line naming the text when it is not one.</summary>
    /// <exception cref="FormatException">Not an octal number from 0 to 0777.</exception>
    public static uint ParseMode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string digits = text.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (digits.Length is 0 or > 4 || digits.Any(c => c is < '0' or > '7'))
        {
            throw new FormatException($"--mode '{text}' is not an octal mode from 0 to 0777 (for instance 0660)");
        }

        uint mode = Convert.ToUInt32(digits, 8);
        return mode <= 0b111_111_111 ? mode : throw new FormatException($"--mode '{text}' is not an octal mode from 0 to 0777 (for instance 0660)");
    }

    /// <summary>A group given by name or number.</summary>
    /// <exception cref="FormatException">No such group.</exception>
    public static unsafe uint ParseGroup(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint number))
        {
            return number;
        }

        Libc.GroupEntry entry;
        Libc.GroupEntry* found = null;
        var buffer = new byte[16384];
        int error;
        fixed (byte* start = buffer)
        {
            error = Libc.GroupByName(text, &entry, start, (nuint)buffer.Length, &found);
        }

        return error == 0 && found != null ? entry.GroupId : throw new FormatException($"--group '{text}' is not a group of this system");
    }
}
