using System.Buffers.Binary;

namespace VirtioHw.Domain;

/// <summary>
/// The domain protocol (version 3) on a UNIX stream socket. Every message is a frame: an 8-byte
/// header (le32 payload length, le16 type, le16 zero) and the payload, little-endian throughout.
/// Only the server's OK <see cref="Reply"/> to an allocate or attach (the region's sealed memfd)
/// and its <see cref="Doorbell"/> (an eventfd) carry a descriptor (SCM_RIGHTS); a descriptor from
/// a client, an unknown type, a wrong length or a request for a devid the connection does not own
/// is a protocol error, and the server drops that peer.
/// </summary>
public static class DomainWire
{
    /// <summary>"VHWD" read as a little-endian 32-bit number: the first field of <see cref="Hello"/>.</summary>
    public const uint Magic = 0x44574856;

    /// <summary>The protocol version this code speaks; the server refuses any other.</summary>
    public const ushort Version = 3;

    public const int HeaderSize = 8;

    /// <summary>The largest payload either side accepts (a reply listing 131,000 chunks fits).</summary>
    public const int MaxPayload = 1 << 20;

    // Client to server.

    /// <summary>le32 magic, le16 version, le16 zero. Must be the first frame.</summary>
    public const ushort Hello = 0x0001;

    /// <summary>le32 request id, u8 operation, 3 zero bytes, le64 devid, then four le64 arguments (<see cref="RequestSize"/> bytes).</summary>
    public const ushort Request = 0x0002;

    /// <summary>
    /// le64 devid, le64 token: a kick of the region's notify-address, which the server passes on to
    /// the other referrers' doorbells. No reply. Clients ring the doorbells themselves; the server
    /// still takes it from clients that do not.
    /// </summary>
    public const ushort Kick = 0x0003;

    // Server to client.

    /// <summary>le16 version, 6 zero bytes, the cdid (16 bytes, RFC 4122 order), le64 chunk size, le64 chunk count; no descriptor.</summary>
    public const ushort Welcome = 0x0081;

    /// <summary>
    /// le32 request id, u8 ack, 3 zero bytes, le64 value0, le64 value1, le64 count, then count le64
    /// chunk addresses; an OK allocate or attach comes with the region's memfd (its chunks in order;
    /// read-only for an attach without write access).
    /// </summary>
    public const ushort Reply = 0x0082;

    /// <summary>le64 receiver devid, le64 event type, le64 token, le64 causing devid, le64 peers.</summary>
    public const ushort Event = 0x0083;

    /// <summary>
    /// le64 devid (of the receiving connection), le64 token, le64 peer devid, le32 role
    /// (<see cref="RingRole"/> or <see cref="WakeRole"/>), le32 zero; with an eventfd. Sent when a
    /// device starts sharing a region with another: ringing the Ring doorbell is a kick of the
    /// region by devid that reaches the peer alone (an UPDATE for it); the Wake doorbell is where
    /// the peer's kicks of the region for devid arrive. Always ahead of the ATTACH event or reply
    /// that makes the pair.
    /// </summary>
    public const ushort Doorbell = 0x0084;

    /// <summary>
    /// le64 devid, le64 token, le64 peer devid, le64 zero; no descriptor. The pair no longer shares
    /// the region (one detached, left or died): both its doorbells are closed. Ahead of the DETACH
    /// event or reply that ends the pair.
    /// </summary>
    public const ushort DoorbellClosed = 0x0085;

    /// <summary>A doorbell devid rings to wake the peer.</summary>
    public const uint RingRole = 1;

    /// <summary>A doorbell the peer rings to wake devid.</summary>
    public const uint WakeRole = 2;

    public const int HelloSize = 8;
    public const int RequestSize = 48;
    public const int KickSize = 16;
    public const int WelcomeSize = 40;
    public const int ReplyHeaderSize = 32;
    public const int EventSize = 40;
    public const int DoorbellSize = 32;

    /// <summary>Writes a frame header for <paramref name="payloadLength"/> bytes of <paramref name="type"/>.</summary>
    public static void WriteHeader(Span<byte> header, ushort type, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payloadLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
    }

    /// <summary>A whole frame: header and payload.</summary>
    public static byte[] Frame(ushort type, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderSize + payload.Length];
        WriteHeader(frame, type, payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }
}

/// <summary>The operations of a <see cref="DomainWire.Request"/>; arguments a, b, c, d in order.</summary>
public enum DomainOperation : byte
{
    /// <summary>No arguments; the reply's value0 is the new devid.</summary>
    Join = 1,

    /// <summary>No arguments: the devid leaves (its regions are detached).</summary>
    Leave = 2,

    /// <summary>a size, b chunks the reply buffer can list (signed), c free chunk slots; reply value0 token, value1 size, the chunks.</summary>
    Allocate = 3,

    /// <summary>a token; reply value0 size, value1 permissions.</summary>
    Query = 4,

    /// <summary>a token, b access, c chunks the reply buffer can list (signed), d free chunk slots; reply value0 token, value1 size, the chunks.</summary>
    Attach = 5,

    /// <summary>a token.</summary>
    Detach = 6,

    /// <summary>a token, b permissions, c 1 for a per-device grant (0 for the default), d the peer devid.</summary>
    Grant = 7,
}
