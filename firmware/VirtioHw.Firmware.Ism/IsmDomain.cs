using System.Security.Cryptography;

namespace VirtioHw.Firmware.Ism;

/// <summary>
/// A virtio-ism communication domain: its cdid, the devids of its members, the memory every
/// member's chunk window maps, and the region table (token, chunks, referrers, permissions).
/// Members are <see cref="IsmFirmware"/> instances on tasks of their own; every change to the
/// table happens under <see cref="Sync"/>.
/// </summary>
public sealed class IsmDomain
{
    private readonly bool[] _chunkUsed;
    private ulong _lastDevId;

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

    /// <summary>The communication domain id every member reports.</summary>
    public Guid Cdid { get; }

    public ulong ChunkSize { get; }

    /// <summary>How many chunks of memory the domain has.</summary>
    public int ChunkCount => _chunkUsed.Length;

    public IIsmDomainMemory Memory { get; }

    /// <summary>Regions alive now.</summary>
    public int RegionCount
    {
        get
        {
            lock (Sync)
            {
                return Regions.Count;
            }
        }
    }

    /// <summary>Chunks of memory no region holds.</summary>
    public int FreeChunks
    {
        get
        {
            lock (Sync)
            {
                return _chunkUsed.Count(used => !used);
            }
        }
    }

    internal Lock Sync { get; } = new();

    internal Dictionary<ulong, IsmRegionState> Regions { get; } = [];

    /// <summary>A devid for a new member: unique in the domain, never 0, kept for the member's life.</summary>
    internal ulong Join()
    {
        lock (Sync)
        {
            return ++_lastDevId;
        }
    }

    /// <summary>A token no live region has: 64 random bits from a cryptographic generator, never 0. Caller holds <see cref="Sync"/>.</summary>
    internal ulong NewToken()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        while (true)
        {
            RandomNumberGenerator.Fill(bytes);
            ulong token = BitConverter.ToUInt64(bytes);
            if (token != 0 && !Regions.ContainsKey(token))
            {
                return token;
            }
        }
    }

    /// <summary>Takes <paramref name="count"/> free chunks, lowest first, and clears them; null when too few are free. Caller holds <see cref="Sync"/>.</summary>
    internal ulong[]? TakeChunks(int count)
    {
        var chunks = new ulong[count];
        int found = 0;
        for (int i = 0; i < _chunkUsed.Length && found < count; i++)
        {
            if (!_chunkUsed[i])
            {
                chunks[found++] = (ulong)i * ChunkSize;
            }
        }

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

    /// <summary>Returns a region's chunks. Caller holds <see cref="Sync"/>.</summary>
    internal void ReleaseChunks(ulong[] chunks)
    {
        foreach (ulong address in chunks)
        {
            _chunkUsed[address / ChunkSize] = false;
        }
    }
}

/// <summary>One region of the domain: its chunks, who refers to it, and who may do what with it.</summary>
internal sealed class IsmRegionState(ulong token, ulong size, ulong[] chunks)
{
    public ulong Token { get; } = token;

    public ulong Size { get; } = size;

    /// <summary>Addresses of the chunks in domain memory, in region order.</summary>
    public ulong[] Chunks { get; } = chunks;

    public IsmPermissions DefaultPermissions { get; set; } = IsmPermissions.Default;

    /// <summary>Dedicated permissions per devid; they replace the defaults for that device.</summary>
    public Dictionary<ulong, IsmPermissions> Dedicated { get; } = [];

    /// <summary>The members that have the region mapped, by devid.</summary>
    public Dictionary<ulong, IsmReferral> Referrers { get; } = [];

    public IsmPermissions PermissionsOf(ulong devid) =>
        Dedicated.TryGetValue(devid, out IsmPermissions dedicated) ? dedicated : DefaultPermissions;
}

/// <summary>How one member has a region mapped: its chunk slots in order, and the vector its update events go to.</summary>
internal sealed class IsmReferral(IsmFirmware device, uint[] slots)
{
    public IsmFirmware Device { get; } = device;

    public uint[] Slots { get; } = slots;

    /// <summary>MSI-X vector bound by EVENT_VECTOR, or <see cref="VirtioFirmware.NoVector"/> for the eventq.</summary>
    public ushort EventVector { get; set; } = VirtioFirmware.NoVector;
}
