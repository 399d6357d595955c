using System.Security.Cryptography;
using VirtioHw.Wire;

namespace VirtioHw.Firmware.Ism;

/// <summary>
/// A virtio-ism communication domain held in this process: its cdid, the devids of its members,
/// the memory every member's chunk window maps, and the region table (token, chunks, referrers,
/// permissions). Every change happens under one lock; events reach the members while it is held,
/// so each member sees them in the order the domain made them.
/// </summary>
public sealed class IsmDomain : IIsmDomain
{
    private readonly Lock _sync = new();
    private readonly bool[] _chunkUsed;
    private readonly Dictionary<ulong, RegionState> _regions = [];
    private readonly Dictionary<ulong, IIsmDomainMember> _members = [];
    private ulong _lastDevId;

    // No chunk below it is free: allocation need not walk the chunks live regions hold.
    private int _lowestFreeChunk;

    /// <param name="memory">The memory regions are carved from, a whole number of chunks; not owned.</param>
    /// <param name="chunkSize">Size of one chunk, a power of two; every member's chunk slots have this size.</param>
    /// <param name="cdid">The domain id, a version-4 UUID; null for a new random one.</param>
    /// <exception cref="ArgumentException">The chunk size is not a power of two, the memory holds no chunk, or the cdid is not a version-4 UUID.</exception>
    public IsmDomain(IIsmDomainMemory memory, ulong chunkSize, Guid? cdid = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (!ulong.IsPow2(chunkSize))
        {
            throw new ArgumentException($"chunk size {chunkSize} is not a power of two", nameof(chunkSize));
        }

        if (memory.Length < chunkSize)
        {
            throw new ArgumentException($"the domain memory ({memory.Length} bytes) holds no {chunkSize}-byte chunk", nameof(memory));
        }

        Guid id = cdid ?? Guid.NewGuid();
        if (id.Version != 4)
        {
            throw new ArgumentException($"cdid {id} is not a version-4 UUID", nameof(cdid));
        }

        Memory = memory;
        ChunkSize = chunkSize;
        Cdid = id;
        _chunkUsed = new bool[memory.Length / chunkSize];
    }

    public Guid Cdid { get; }

    public ulong ChunkSize { get; }

    public int ChunkCount => _chunkUsed.Length;

    public IIsmDomainMemory Memory { get; }

    /// <summary>Regions alive now.</summary>
    public int RegionCount
    {
        get
        {
            lock (_sync)
            {
                return _regions.Count;
            }
        }
    }

    /// <summary>Chunks of memory no region holds.</summary>
    public int FreeChunks
    {
        get
        {
            lock (_sync)
            {
                return _chunkUsed.Count(used => !used);
            }
        }
    }

    /// <summary>Members joined now.</summary>
    public int MemberCount
    {
        get
        {
            lock (_sync)
            {
                return _members.Count;
            }
        }
    }

    public ulong Join(IIsmDomainMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (_sync)
        {
            ulong devid = ++_lastDevId;
            _members.Add(devid, member);
            return devid;
        }
    }

    public void Leave(ulong devid)
    {
        lock (_sync)
        {
            foreach (RegionState region in _regions.Values.Where(r => r.Referrers.Contains(devid)).ToArray())
            {
                DetachLocked(region, devid);
            }

            _members.Remove(devid);
        }
    }

    public IsmMapResult Allocate(ulong devid, ulong size, IsmChunkLimits limits)
    {
        lock (_sync)
        {
            if (size == 0 || !_members.ContainsKey(devid))
            {
                return IsmMapResult.Failed(IsmAck.Error);
            }

            if (size > (ulong)ChunkCount * ChunkSize)
            {
                return IsmMapResult.Failed(IsmAck.NoMemory);
            }

            int count = (int)((size + ChunkSize - 1) / ChunkSize);
            if (count > limits.ReplyChunks)
            {
                return new IsmMapResult(IsmAck.TooBig, ChunkCount: (ulong)count);
            }

            if (count > limits.FreeSlots)
            {
                return IsmMapResult.Failed(IsmAck.NoSpace);
            }

            ulong[]? chunks = TakeChunks(count);
            if (chunks is null)
            {
                return IsmMapResult.Failed(IsmAck.NoMemory);
            }

            var region = new RegionState(NewToken(), size, chunks);
            region.Dedicated[devid] = IsmPermissions.Owner;
            region.Referrers.Add(devid);
            _regions.Add(region.Token, region);
            return new IsmMapResult(IsmAck.Ok, region.Token, size, chunks, (ulong)count);
        }
    }

    /// <summary>
    /// A region in the allocator's buffer: every member of this domain runs on one platform and
    /// shares its system memory, so every member can map it. The chunk pool is not touched.
    /// </summary>
    public IsmMapResult AllocateInDriverMemory(ulong devid, ulong size, ulong buffer, IsmChunkLimits limits)
    {
        lock (_sync)
        {
            if (size == 0 || !_members.ContainsKey(devid) || buffer > ulong.MaxValue - size)
            {
                return IsmMapResult.Failed(IsmAck.Error);
            }

            ulong needed = (size + ChunkSize - 1) / ChunkSize;
            if (needed > (ulong)Math.Max(0, limits.ReplyChunks))
            {
                return new IsmMapResult(IsmAck.TooBig, ChunkCount: needed);
            }

            int count = (int)needed;
            if (count > limits.FreeSlots)
            {
                return IsmMapResult.Failed(IsmAck.NoSpace);
            }

            var chunks = new ulong[count];
            for (int i = 0; i < count; i++)
            {
                chunks[i] = buffer + ((ulong)i * ChunkSize);
            }

            var region = new RegionState(NewToken(), size, chunks) { Allocator = devid, SystemMemory = true };
            region.Dedicated[devid] = IsmPermissions.Owner;
            region.Referrers.Add(devid);
            _regions.Add(region.Token, region);
            return new IsmMapResult(IsmAck.Ok, region.Token, size, chunks, (ulong)count, SystemMemory: true);
        }
    }

    public IsmQueryResult Query(ulong devid, ulong token)
    {
        lock (_sync)
        {
            return _regions.TryGetValue(token, out RegionState? region)
                ? new IsmQueryResult(IsmAck.Ok, region.Size, region.PermissionsOf(devid))
                : new IsmQueryResult(IsmAck.NoEntry, 0, IsmPermissions.None);
        }
    }

    public IsmMapResult Attach(ulong devid, ulong token, IsmPermissions access, IsmChunkLimits limits)
    {
        lock (_sync)
        {
            if (!_regions.TryGetValue(token, out RegionState? region))
            {
                return IsmMapResult.Failed(IsmAck.NoEntry);
            }

            if (!_members.ContainsKey(devid) || region.Referrers.Contains(devid) || (access & ~(IsmPermissions.Read | IsmPermissions.Write)) != 0)
            {
                return IsmMapResult.Failed(IsmAck.Error);
            }

            IsmPermissions granted = region.PermissionsOf(devid);
            if ((granted & IsmPermissions.Attach) == 0)
            {
                return IsmMapResult.Failed(IsmAck.AttachDenied);
            }

            if ((access & IsmPermissions.Read) != 0 && (granted & IsmPermissions.Read) == 0)
            {
                return IsmMapResult.Failed(IsmAck.ReadDenied);
            }

            if ((access & IsmPermissions.Write) != 0 && (granted & IsmPermissions.Write) == 0)
            {
                return IsmMapResult.Failed(IsmAck.WriteDenied);
            }

            int count = region.Chunks.Length;
            if (count > limits.ReplyChunks)
            {
                return new IsmMapResult(IsmAck.TooBig, ChunkCount: (ulong)count);
            }

            if (count > limits.FreeSlots)
            {
                return IsmMapResult.Failed(IsmAck.NoSpace);
            }

            region.Referrers.Add(devid);
            TellPeers(region, IsmWire.EventAttach, devid);
            return new IsmMapResult(IsmAck.Ok, token, region.Size, region.Chunks, (ulong)count, region.SystemMemory);
        }
    }

    public IsmAck Detach(ulong devid, ulong token)
    {
        lock (_sync)
        {
            if (!_regions.TryGetValue(token, out RegionState? region) || !region.Referrers.Contains(devid))
            {
                return IsmAck.NoEntry;
            }

            DetachLocked(region, devid);
            return IsmAck.Ok;
        }
    }

    public IsmAck Grant(ulong devid, ulong token, IsmPermissions permissions, ulong? peer)
    {
        lock (_sync)
        {
            if (!_regions.TryGetValue(token, out RegionState? region) || !region.Referrers.Contains(devid))
            {
                return IsmAck.NoEntry;
            }

            const IsmPermissions known = IsmPermissions.Owner | IsmPermissions.CleanDefault;
            bool valid = (region.PermissionsOf(devid) & IsmPermissions.Manage) != 0
                && (permissions & ~known) == 0
                && (peer is not null || (permissions & IsmPermissions.CleanDefault) == 0)
                && peer != 0;
            if (!valid)
            {
                return IsmAck.Error;
            }

            if (peer is { } target)
            {
                if ((permissions & IsmPermissions.CleanDefault) != 0)
                {
                    region.DefaultPermissions = IsmPermissions.None;
                }

                region.Dedicated[target] = permissions & ~IsmPermissions.CleanDefault;
            }
            else
            {
                region.DefaultPermissions = permissions;
            }

            return IsmAck.Ok;
        }
    }

    public void Kick(ulong devid, ulong token)
    {
        lock (_sync)
        {
            if (!_regions.TryGetValue(token, out RegionState? region) || !region.Referrers.Contains(devid))
            {
                return;
            }

            foreach (ulong referrer in region.Referrers)
            {
                if (referrer != devid)
                {
                    _members[referrer].OnDomainEvent(new IsmDomainEvent(IsmWire.EventUpdate, token, devid, 0));
                }
            }
        }
    }

    /// <summary>
    /// Drops the referral, tells the remaining referrers, and frees the region when none is left:
    /// chunks of domain memory are cleared and return to the pool; a driver's buffer is the
    /// allocator's again, which it learns from a BUFFER_FREE event. Caller holds the lock.
    /// </summary>
    private void DetachLocked(RegionState region, ulong devid)
    {
        region.Referrers.Remove(devid);
        TellPeers(region, IsmWire.EventDetach, devid);
        if (region.Referrers.Count == 0)
        {
            _regions.Remove(region.Token);
            if (region.SystemMemory)
            {
                // An allocator that has left the domain has no driver to tell.
                if (_members.TryGetValue(region.Allocator, out IIsmDomainMember? allocator))
                {
                    allocator.OnDomainEvent(new IsmDomainEvent(IsmWire.EventBufferFree, region.Token, devid, 0));
                }

                return;
            }

            foreach (ulong address in region.Chunks)
            {
                // Cleared now as well as on the next allocation: a freed region leaves nothing behind.
                Memory.Clear(address, ChunkSize);
                _chunkUsed[address / ChunkSize] = false;
                _lowestFreeChunk = Math.Min(_lowestFreeChunk, (int)(address / ChunkSize));
            }
        }
    }

    /// <summary>An ATTACH or DETACH event to every referrer but <paramref name="devid"/>; peers counts the referrers other than the receiver.</summary>
    private void TellPeers(RegionState region, ulong type, ulong devid)
    {
        // Computed after the change: for the receiver, every other referrer (an attacher counts, a detacher no longer does).
        ulong peers = (ulong)region.Referrers.Count - 1;
        foreach (ulong referrer in region.Referrers)
        {
            if (referrer != devid)
            {
                _members[referrer].OnDomainEvent(new IsmDomainEvent(type, region.Token, devid, peers));
            }
        }
    }

    /// <summary>A token no live region has: 64 random bits from a cryptographic generator, never 0. Caller holds the lock.</summary>
    private ulong NewToken()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        while (true)
        {
            RandomNumberGenerator.Fill(bytes);
            ulong token = BitConverter.ToUInt64(bytes);
            if (token != 0 && !_regions.ContainsKey(token))
            {
                return token;
            }
        }
    }

    /// <summary>Takes <paramref name="count"/> free chunks, lowest first, and clears them; null when too few are free. Caller holds the lock.</summary>
    private ulong[]? TakeChunks(int count)
    {
        var chunks = new ulong[count];
        int found = 0;
        for (int i = _lowestFreeChunk; i < _chunkUsed.Length && found < count; i++)
        {
            if (!_chunkUsed[i])
            {
                chunks[found++] = (ulong)i * ChunkSize;
            }
        }

        _lowestFreeChunk = found == 0 ? _chunkUsed.Length : (int)(chunks[0] / ChunkSize);

        if (found < count)
        {
            return null;
        }

        foreach (ulong address in chunks)
        {
            _chunkUsed[address / ChunkSize] = true;
            Memory.Clear(address, ChunkSize);
        }

        return chunks;
    }

    /// <summary>One region: its chunks, who refers to it, and who may do what with it.</summary>
    private sealed class RegionState(ulong token, ulong size, ulong[] chunks)
    {
        public ulong Token { get; } = token;

        public ulong Size { get; } = size;

        /// <summary>Addresses of the chunks in domain memory (bus addresses in system memory when <see cref="SystemMemory"/>), in region order.</summary>
        public ulong[] Chunks { get; } = chunks;

        /// <summary>The region lives in its allocator's buffer, not in domain memory.</summary>
        public bool SystemMemory { get; init; }

        /// <summary>The devid that allocated the region.</summary>
        public ulong Allocator { get; init; }

        public IsmPermissions DefaultPermissions { get; set; } = IsmPermissions.Default;

        /// <summary>Dedicated permissions per devid; they replace the defaults for that device.</summary>
        public Dictionary<ulong, IsmPermissions> Dedicated { get; } = [];

        /// <summary>The devids that have the region mapped.</summary>
        public HashSet<ulong> Referrers { get; } = [];

        public IsmPermissions PermissionsOf(ulong devid) =>
            Dedicated.TryGetValue(devid, out IsmPermissions dedicated) ? dedicated : DefaultPermissions;
    }
}
