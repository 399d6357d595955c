using System.Buffers.Binary;
using VirtioHw.Drivers.Ism;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// Random and malformed virtio-ism control commands through the host driver's controlq of two
/// model devices in one domain: unknown classes and commands, truncated and oversized data, zero
/// and huge sizes, live, stale, forged and zero tokens, reply buffers of every size. Every
/// command gets an ack the specification defines; a token no live region has is never accepted;
/// after each command free + mapped chunks = total, each live region has a referrer, and no chunk
/// serves two regions (a marker written through one region's slots is read back through every
/// referrer's slots); at the end every slot no region maps reads all-ones.
/// </summary>
public sealed class IsmControlQueueTarget : FuzzTarget
{
    private const int Devices = 2;
    // Regions of up to this many chunks, so that two devices' 256 slots fill up now and then.
    private const int RegionChunks = 48;
    private const int ClassAlloc = 0;
    private const int ClassQuery = 1;
    private const int ClassAttach = 2;
    private const int ClassDetach = 3;
    private const int ClassGrant = 4;
    private const int ClassEventVector = 5;
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(5);

    public override string Name => "ism";

    public override string Description => "malformed virtio-ism control commands through the driver: defined acks, no forged token accepted, chunk accounting holds";

    public override TimeSpan HangTimeout => TimeSpan.FromSeconds(60);

    public override byte[] Generate(Random random) => Mutator.RandomBytes(random, 768);

    public override void Execute(byte[] input) => ExecuteAsync(input).GetAwaiter().GetResult();

    private static async Task ExecuteAsync(byte[] input)
    {
        var choices = new FuzzInput(input);
        ulong chunkSize = EndpointDescriptions.LoadBuiltin("virtio-ism").FindSharedMemory(1)!.GranuleSize;
        using var domain = new IsmModelDomain(Devices);
        await using IsmBench bench = await IsmBench.StartAsync(domain).ConfigureAwait(false);
        var state = new DomainState(bench, chunkSize);
        int commands = 1 + choices.Choose(24);
        for (int i = 0; i < commands && !choices.IsEmpty; i++)
        {
            int device = choices.Choose(Devices);
            (byte[] request, ulong token, bool wellFormed) = Command(choices, state, chunkSize);
            int replyLength = choices.Choose(8) switch
            {
                0 => 1,
                1 => 2,
                2 => 9,
                3 => 17,
                4 => 17 + (8 * choices.Choose(RegionChunks + 2)),
                5 => 4096,
                _ => 17 + (8 * 256),
            };

            using var timeout = new CancellationTokenSource(AckTimeout);
            IsmAck ack;
            byte[] reply;
            try
            {
                (ack, reply) = await bench.Devices[device].SendAsync(request, replyLength, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new FuzzFailure($"command {Convert.ToHexString(request)} got no ack within {AckTimeout.TotalSeconds:0} s");
            }

            FuzzFailure.Check(Enum.IsDefined(ack), $"command {Convert.ToHexString(request[..Math.Min(2, request.Length)])} got ack {(byte)ack}, which no specification defines");
            if (wellFormed && !state.IsLive(token) && request[0] is ClassQuery or ClassAttach or ClassDetach or ClassGrant or ClassEventVector)
            {
                FuzzFailure.Check(ack != IsmAck.Ok, $"class {request[0]} with a token no live region has was accepted");
            }

            state.Apply(device, request, ack, reply);
            state.CheckInvariants();
        }

        state.CheckUnmappedSlots();
    }

    /// <summary>A command: class, command, up to four fields; sometimes cut short or padded; the token it names.</summary>
    private static (byte[] Request, ulong Token, bool WellFormed) Command(FuzzInput choices, DomainState state, ulong chunkSize)
    {
        byte cls = choices.Choose(10) switch
        {
            < 7 and var c => (byte)(c == 6 ? ClassAlloc : c),
            7 => (byte)(6 + choices.Choose(250)),
            _ => ClassAlloc,
        };
        byte command = choices.Choose(6) == 0 ? choices.Byte() : (byte)(cls == ClassGrant ? choices.Choose(2) : 0);
        ulong token = choices.Choose(5) switch
        {
            0 => 0,
            1 => state.StaleToken(choices),
            2 => choices.UInt64(),
            _ => state.LiveToken(choices),
        };
        ulong[] fields = cls switch
        {
            ClassAlloc => [choices.Choose(4) == 0 ? choices.Edgy(chunkSize) : chunkSize * (ulong)(1 + choices.Choose(RegionChunks)) - (ulong)choices.Choose(2)],
            ClassAttach => [token, choices.Choose(4) == 0 ? choices.UInt64() : (ulong)choices.Choose(4)],
            ClassGrant => [token, choices.Choose(3) == 0 ? choices.UInt64() : (ulong)choices.Choose(32), (ulong)choices.Choose(Devices + 2)],
            ClassEventVector => [token, choices.Choose(3) == 0 ? choices.UInt64() : (ulong)choices.Choose(4)],
            _ => [token],
        };
        var request = new byte[2 + (8 * fields.Length)];
        request[0] = cls;
        request[1] = command;
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2 + (8 * i)), fields[i]);
        }

        switch (choices.Choose(8))
        {
            case 0:
                // Cut short, down to the class byte alone (the driver refuses empty buffers itself).
                return (request[..(1 + choices.Choose(request.Length - 1))], token, false);
            case 1:
                return ([.. request, .. choices.Bytes(300)], token, true);
            default:
                return (request, token, command == 0 || cls == ClassGrant);
        }
    }

    /// <summary>What the commands' replies said the domain holds, checked against the domain and the BAR2 windows.</summary>
    private sealed class DomainState(IsmBench bench, ulong chunkSize)
    {
        // Per device: token -> chunk offsets in its regions area and the access it mapped them with.
        private readonly Dictionary<ulong, (ulong[] Chunks, bool Read, bool Write)>[] _mapped = [.. Enumerable.Range(0, Devices).Select(_ => new Dictionary<ulong, (ulong[], bool, bool)>())];
        private readonly Dictionary<ulong, int> _chunksOf = [];
        private readonly List<ulong> _stale = [];

        public bool IsLive(ulong token) => _chunksOf.ContainsKey(token);

        public ulong LiveToken(FuzzInput choices) => _chunksOf.Count == 0 ? choices.UInt64() : _chunksOf.Keys.ElementAt(choices.Choose(_chunksOf.Count));

        public ulong StaleToken(FuzzInput choices) => _stale.Count == 0 ? choices.UInt64() : _stale[choices.Choose(_stale.Count)];

        public void Apply(int device, byte[] request, IsmAck ack, byte[] reply)
        {
            if (ack != IsmAck.Ok || request.Length < 2)
            {
                return;
            }

            ulong Field(int i) => BinaryPrimitives.ReadUInt64LittleEndian(request.AsSpan(2 + (8 * i)));
            switch (request[0])
            {
                case ClassAlloc:
                    {
                        ulong token = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(1));
                        ulong[] chunks = Chunks(reply);
                        ulong size = Field(0);
                        FuzzFailure.Check(token != 0 && !IsLive(token), "alloc returned token 0 or a live region's token");
                        FuzzFailure.Check((ulong)chunks.Length == (size + chunkSize - 1) / chunkSize, $"alloc of {size} bytes returned {chunks.Length} chunks");
                        _chunksOf[token] = chunks.Length;
                        _mapped[device][token] = (chunks, true, true);
                        break;
                    }

                case ClassAttach:
                    {
                        ulong token = Field(0);
                        FuzzFailure.Check(IsLive(token), "attach to a region that is not live succeeded");
                        ulong[] chunks = Chunks(reply);
                        FuzzFailure.Check(chunks.Length == _chunksOf[token], "attach mapped a different number of chunks than the region has");
                        _mapped[device][token] = (chunks, (Field(1) & (ulong)IsmPermissions.Read) != 0, (Field(1) & (ulong)IsmPermissions.Write) != 0);
                        break;
                    }

                case ClassDetach:
                    {
                        ulong token = Field(0);
                        FuzzFailure.Check(_mapped[device].Remove(token), "detach of a region the device did not have succeeded");
                        if (!Array.Exists(_mapped, m => m.ContainsKey(token)))
                        {
                            _chunksOf.Remove(token);
                            _stale.Add(token);
                        }

                        break;
                    }

                default:
                    break;
            }
        }

        public void CheckInvariants()
        {
            var domain = bench.Domain.Domain;
            FuzzFailure.Check(domain.RegionCount == _chunksOf.Count, $"the domain has {domain.RegionCount} regions, its devices refer to {_chunksOf.Count}");
            int mapped = _chunksOf.Values.Sum();
            FuzzFailure.Check(domain.FreeChunks + mapped == domain.ChunkCount, $"free {domain.FreeChunks} + mapped {mapped} chunks is not the {domain.ChunkCount} the domain has");

            // A marker per region through a writer's slots, read back through every referrer's slots.
            foreach (ulong token in _chunksOf.Keys)
            {
                int writer = Array.FindIndex(_mapped, m => m.TryGetValue(token, out var r) && r.Write);
                if (writer < 0)
                {
                    continue;
                }

                ulong[] chunks = _mapped[writer][token].Chunks;
                for (int c = 0; c < chunks.Length; c++)
                {
                    bench.Devices[writer].Regions.Write64(chunks[c], token ^ (ulong)c);
                }
            }

            foreach (ulong token in _chunksOf.Keys)
            {
                if (!Array.Exists(_mapped, m => m.TryGetValue(token, out var r) && r.Write))
                {
                    continue;
                }

                for (int d = 0; d < Devices; d++)
                {
                    if (!_mapped[d].TryGetValue(token, out var region) || !region.Read)
                    {
                        continue;
                    }

                    for (int c = 0; c < region.Chunks.Length; c++)
                    {
                        ulong seen = bench.Devices[d].Regions.Read64(region.Chunks[c]);
                        FuzzFailure.Check(seen == (token ^ (ulong)c), $"chunk {c} of a region reads another region's marker at device {d}");
                    }
                }
            }
        }

        /// <summary>Every slot no tracked region maps reads all-ones: no mapping was left behind.</summary>
        public void CheckUnmappedSlots()
        {
            for (int d = 0; d < Devices; d++)
            {
                var used = _mapped[d].Values.SelectMany(r => r.Chunks).ToHashSet();
                IsmDevice device = bench.Devices[d];
                for (ulong offset = 0; offset < device.Regions.Length; offset += chunkSize)
                {
                    if (!used.Contains(offset))
                    {
                        FuzzFailure.Check(device.Regions.Read64(offset) == ulong.MaxValue, $"slot at 0x{offset:x} of device {d} is mapped though no region the device holds uses it");
                    }
                }
            }
        }

        private static ulong[] Chunks(byte[] reply)
        {
            ulong count = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(9));
            FuzzFailure.Check(count <= (ulong)(reply.Length - 17) / 8, $"an OK reply lists {count} chunks but the buffer holds {(reply.Length - 17) / 8}");
            return [.. Enumerable.Range(0, (int)count).Select(i => BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(17 + (8 * i))))];
        }
    }
}
