using System.Buffers.Binary;
using System.Net.Sockets;
using VirtioHw.Domain;
using VirtioHw.Firmware.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// Hostile and dying peers against the domain server (hostsw/VirtioHw.Domain, wire protocol
/// version 3): frames with bad lengths, types and reserved bytes, requests for devids never
/// joined, unknown operations, garbage sizes and tokens, and peers that join, allocate and attach,
/// then vanish at any step, mid-frame included. Once they are gone the server has no peer, no
/// member, no region, no doorbell and every chunk back in its pool, and a well-behaved client is served.
/// </summary>
public sealed class DomainServerTarget : FuzzTarget
{
    private const ulong ChunkSize = 128 * 1024;
    private const int Chunks = 16;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public override string Name => "domain";

    public override string Description => "hostile and dying peers against the domain server: every chunk returns, the server keeps serving";

    public override TimeSpan HangTimeout => TimeSpan.FromSeconds(30);

    public override byte[] Generate(Random random) => Mutator.RandomBytes(random, 512);

    public override void Execute(byte[] input)
    {
        var choices = new FuzzInput(input);
        string folder = Directory.CreateTempSubdirectory("vhw-fuzz-").FullName;
        try
        {
            using var server = new DomainServer(new DomainServerSettings
            {
                SocketPath = Path.Combine(folder, "d"),
                MemorySize = (long)(Chunks * ChunkSize),
                ChunkSize = ChunkSize,
                HandshakeTimeout = TimeSpan.FromSeconds(2),
            });
            var peers = new List<RawPeer>();
            try
            {
                int steps = 1 + choices.Choose(32);
                for (int i = 0; i < steps && !choices.IsEmpty; i++)
                {
                    Step(server, choices, peers);
                }
            }
            finally
            {
                foreach (RawPeer peer in peers)
                {
                    peer.Dispose();
                }
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (server.PeerCount > 0 || server.Domain.MemberCount > 0)
            {
                FuzzFailure.Check(clock.Elapsed < Settle, $"every peer is gone but the server still counts {server.PeerCount} peers and {server.Domain.MemberCount} members");
                Thread.Sleep(5);
            }

            FuzzFailure.Check(server.Domain.RegionCount == 0, $"{server.Domain.RegionCount} regions outlived every peer");
            FuzzFailure.Check(server.DoorbellCount == 0, $"{server.DoorbellCount} doorbells outlived every peer");
            FuzzFailure.Check(server.Domain.FreeChunks == server.Domain.ChunkCount, $"{server.Domain.ChunkCount - server.Domain.FreeChunks} chunks did not return to the pool");

            using RemoteIsmDomain client = RemoteIsmDomain.Connect(server.SocketPath, Settle);
            ulong devid = client.Join(new NoEvents());
            IsmMapResult region = client.Allocate(devid, Chunks * ChunkSize, new IsmChunkLimits(Chunks, Chunks));
            FuzzFailure.Check(region.Ack == IsmAck.Ok, $"a well-behaved client could not allocate the whole domain afterwards (ack {region.Ack})");
            FuzzFailure.Check(!client.Memory.Span.ContainsAnyExcept((byte)0), "the whole domain, just allocated, is not zero");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private void Step(DomainServer server, FuzzInput choices, List<RawPeer> peers)
    {
        if (peers.Count == 0 || choices.Choose(6) == 0)
        {
            var peer = new RawPeer(server.SocketPath);
            peers.Add(peer);
            if (choices.Choose(4) != 0)
            {
                peer.Hello(choices.Choose(8) == 0 ? choices.UInt32() : DomainWire.Magic, choices.Choose(8) == 0 ? choices.UInt16() : DomainWire.Version);
            }

            return;
        }

        int index = choices.Choose(peers.Count);
        RawPeer p = peers[index];
        switch (choices.Choose(10))
        {
            case 0:
                // Dies here, whatever it held.
                p.Dispose();
                peers.RemoveAt(index);
                CountFault();
                break;
            case 1:
                // Dies in the middle of a frame.
                p.Send([.. DomainWire.Frame(DomainWire.Request, new byte[DomainWire.RequestSize]).AsSpan(0, 1 + choices.Choose(DomainWire.HeaderSize + DomainWire.RequestSize - 1))]);
                p.Dispose();
                peers.RemoveAt(index);
                CountFault();
                break;
            case 2:
                {
                    // A frame of any type, length and reserved bytes.
                    byte[] payload = choices.Bytes(96);
                    byte[] frame = DomainWire.Frame(choices.Choose(3) == 0 ? choices.UInt16() : (ushort)(1 + choices.Choose(3)), payload);
                    if (choices.Choose(4) == 0)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(frame, choices.UInt32());
                    }

                    if (choices.Choose(4) == 0)
                    {
                        frame[6] = choices.Byte();
                    }

                    p.Send(frame);
                    break;
                }

            case 3:
                p.Request(DomainOperation.Join, 0, 0, 0, 0, 0);
                break;
            default:
                {
                    var op = (DomainOperation)(choices.Choose(10) == 0 ? choices.Byte() : 1 + choices.Choose(7));
                    ulong devid = choices.Choose(4) == 0 ? choices.UInt64() : p.DevId;
                    ulong token = choices.Choose(3) == 0 ? choices.UInt64() : p.Token;
                    ulong a = op is DomainOperation.Allocate ? (choices.Choose(3) == 0 ? choices.Edgy(ChunkSize) : ChunkSize * (ulong)(1 + choices.Choose(Chunks))) : token;
                    p.Request(op, devid, a, choices.Choose(3) == 0 ? choices.UInt64() : (ulong)choices.Choose(Chunks + 1), choices.Choose(3) == 0 ? choices.UInt64() : Chunks, choices.UInt64());
                    break;
                }
        }
    }

    /// <summary>A client speaking the wire protocol byte by byte, keeping the last devid and token the server gave it.</summary>
    private sealed class RawPeer : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private uint _requestId;

        public RawPeer(string path)
        {
            _socket.Connect(new UnixDomainSocketEndPoint(path));
            _socket.ReceiveTimeout = 2000;
        }

        public ulong DevId { get; private set; }

        public ulong Token { get; private set; }

        public void Hello(uint magic, ushort version)
        {
            byte[] payload = new byte[DomainWire.HelloSize];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, magic);
            BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), version);
            Send(DomainWire.Frame(DomainWire.Hello, payload));
            ReadFrame(DomainWire.Welcome);
        }

        public void Request(DomainOperation op, ulong devid, ulong a, ulong b, ulong c, ulong d)
        {
            byte[] payload = new byte[DomainWire.RequestSize];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, ++_requestId);
            payload[4] = (byte)op;
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), devid);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), a);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), b);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(32), c);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(40), d);
            Send(DomainWire.Frame(DomainWire.Request, payload));
            if (ReadFrame(DomainWire.Reply) is { Length: >= DomainWire.ReplyHeaderSize } reply && reply[4] == (byte)IsmAck.Ok)
            {
                ulong value0 = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(8));
                if (op == DomainOperation.Join)
                {
                    DevId = value0;
                }
                else if (op is DomainOperation.Allocate or DomainOperation.Attach)
                {
                    Token = value0;
                }
            }
        }

        public void Send(byte[] frame)
        {
            try
            {
                _socket.Send(frame);
            }
            catch (SocketException)
            {
                // Dropped by the server already: what a broken peer earns.
            }
        }

        public void Dispose() => _socket.Dispose();

        /// <summary>Reads frames until one of <paramref name="type"/> (events are skipped); null when the server closed or went quiet.</summary>
        private byte[]? ReadFrame(ushort type)
        {
            try
            {
                byte[] header = new byte[DomainWire.HeaderSize];
                while (ReadExactly(header))
                {
                    int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
                    ushort got = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(4));
                    FuzzFailure.Check(length <= DomainWire.MaxPayload, $"the server sent a {length}-byte frame");
                    byte[] payload = new byte[length];
                    if (!ReadExactly(payload))
                    {
                        return null;
                    }

                    if (got == type)
                    {
                        return payload;
                    }
                }
            }
            catch (SocketException)
            {
                // Closed or silent: the server dropped this peer.
            }

            return null;
        }

        private bool ReadExactly(byte[] buffer)
        {
            int filled = 0;
            while (filled < buffer.Length)
            {
                int read = _socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
                if (read == 0)
                {
                    return false;
                }

                filled += read;
            }

            return true;
        }
    }

    private sealed class NoEvents : IIsmDomainMember
    {
        public void OnDomainEvent(IsmDomainEvent domainEvent)
        {
        }
    }
}
