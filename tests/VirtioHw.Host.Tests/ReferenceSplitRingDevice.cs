using System.Buffers.Binary;

namespace VirtioHw.Host.Tests;

/// <summary>One buffer of a chain as the device sees it.</summary>
internal readonly record struct DeviceSegment(ulong Address, uint Length, bool Writable);

/// <summary>A descriptor chain the device took from the available ring.</summary>
internal sealed record DeviceChain(ushort Head, IReadOnlyList<DeviceSegment> Segments, bool Indirect)
{
    public int WritableBytes => Segments.Where(s => s.Writable).Sum(s => (int)s.Length);
}

/// <summary>
/// The device side of a split virtqueue, written from the specification on its own so that it
/// checks the driver rather than agreeing with it: it reads the available ring, walks chains and
/// indirect tables (refusing loops and malformed chains), writes the used ring and decides on
/// interrupts the way the specification says, with or without VIRTIO_F_EVENT_IDX. It reaches
/// memory only by bus address, through the platform, as hardware would.
/// </summary>
internal sealed class ReferenceSplitRingDevice
{
    private const ushort FlagNext = 1;
    private const ushort FlagWrite = 2;
    private const ushort FlagIndirect = 4;

    private readonly FakePlatform _platform;
    private readonly ulong _descriptors;
    private readonly ulong _available;
    private readonly ulong _used;
    private readonly int _size;
    private readonly bool _eventIndex;
    private int _interrupts;

    public ReferenceSplitRingDevice(FakePlatform platform, ulong descriptors, ulong available, ulong used, int size, bool eventIndex)
    {
        _platform = platform;
        _descriptors = descriptors;
        _available = available;
        _used = used;
        _size = size;
        _eventIndex = eventIndex;
    }

    /// <summary>The next available-ring position the device will read.</summary>
    public ushort NextAvailable { get; private set; }

    /// <summary>The used index the device last wrote.</summary>
    public ushort UsedIndex { get; private set; }

    public int Interrupts => Volatile.Read(ref _interrupts);

    /// <summary>Runs for every interrupt the device decides to send.</summary>
    public Action? OnInterrupt { get; set; }

    private ulong AvailableFlags => _available;

    private ulong AvailableIdx => _available + 2;

    private ulong UsedEvent => _available + 4 + (2 * (ulong)_size);

    private ulong UsedFlags => _used;

    private ulong UsedIdx => _used + 2;

    private ulong AvailEvent => _used + 4 + (8 * (ulong)_size);

    /// <summary>The available index the driver has published.</summary>
    public ushort ReadAvailableIndex() => Read16(AvailableIdx);

    /// <summary>Takes every chain the driver has made available since the last call.</summary>
    public List<DeviceChain> TakeAvailable()
    {
        ushort published = Read16(AvailableIdx);

        // Read the ring entries only after the index that publishes them.
        Interlocked.MemoryBarrier();
        if ((ushort)(published - NextAvailable) > _size)
        {
            throw new InvalidOperationException($"available index {published} is more than {_size} ahead of {NextAvailable}");
        }

        var chains = new List<DeviceChain>();
        while (NextAvailable != published)
        {
            ushort head = Read16(_available + 4 + (2 * (ulong)(NextAvailable % _size)));
            chains.Add(WalkChain(head));
            NextAvailable++;
        }

        return chains;
    }

    /// <summary>The concatenated device-readable bytes of a chain.</summary>
    public byte[] ReadOut(DeviceChain chain)
    {
        var bytes = new List<byte>();
        foreach (DeviceSegment segment in chain.Segments.Where(s => !s.Writable))
        {
            byte[] part = new byte[segment.Length];
            _platform.DeviceRead(segment.Address, part);
            bytes.AddRange(part);
        }

        return [.. bytes];
    }

    /// <summary>Scatters <paramref name="data"/> over the chain's writable buffers; returns the bytes written.</summary>
    public int WriteIn(DeviceChain chain, ReadOnlySpan<byte> data)
    {
        int written = 0;
        foreach (DeviceSegment segment in chain.Segments.Where(s => s.Writable))
        {
            int part = Math.Min(data.Length - written, (int)segment.Length);
            if (part == 0)
            {
                break;
            }

            _platform.DeviceWrite(segment.Address, data.Slice(written, part));
            written += part;
        }

        if (written < data.Length)
        {
            throw new InvalidOperationException($"chain {chain.Head} has room for {written} of {data.Length} reply bytes");
        }

        return written;
    }

    /// <summary>Returns a chain through the used ring and interrupts if the driver wants that.</summary>
    public void Complete(DeviceChain chain, uint length)
    {
        ushort old = UsedIndex;
        ulong entry = _used + 4 + (8 * (ulong)(old % _size));
        Write32(entry, chain.Head);
        Write32(entry + 4, length);

        // The entry must be visible before the index that hands it back.
        Interlocked.MemoryBarrier();
        UsedIndex = (ushort)(old + 1);
        Write16(UsedIdx, UsedIndex);

        // The index store must come before the load of the driver's suppression hint.
        Interlocked.MemoryBarrier();
        bool interrupt = _eventIndex
            ? (ushort)(UsedIndex - Read16(UsedEvent) - 1) < (ushort)(UsedIndex - old)
            : (Read16(AvailableFlags) & 1) == 0;
        if (interrupt)
        {
            Interlocked.Increment(ref _interrupts);
            OnInterrupt?.Invoke();
        }
    }

    /// <summary>
    /// Serves every available chain: the reply for each is <paramref name="handler"/> applied to its
    /// device-readable bytes. Returns how many chains were served.
    /// </summary>
    public int Serve(Func<byte[], byte[]> handler)
    {
        List<DeviceChain> chains = TakeAvailable();
        foreach (DeviceChain chain in chains)
        {
            byte[] reply = handler(ReadOut(chain));
            Complete(chain, (uint)WriteIn(chain, reply));
        }

        return chains.Count;
    }

    /// <summary>Without EVENT_IDX: sets or clears VIRTQ_USED_F_NO_NOTIFY.</summary>
    public void SetNoNotify(bool suppress) => Write16(UsedFlags, suppress ? (ushort)1 : (ushort)0);

    /// <summary>With EVENT_IDX: asks to be notified when the driver publishes the entry at <paramref name="index"/>.</summary>
    public void SetAvailEvent(ushort index) => Write16(AvailEvent, index);

    /// <summary>
    /// Going idle: asks for a notification on the next available chain, then checks once more
    /// for chains published meanwhile. True when there is work, so the device must not sleep.
    /// </summary>
    public bool ArmNotificationAndCheck()
    {
        if (_eventIndex)
        {
            SetAvailEvent(NextAvailable);
        }
        else
        {
            SetNoNotify(false);
        }

        Interlocked.MemoryBarrier();
        return Read16(AvailableIdx) != NextAvailable;
    }

    private DeviceChain WalkChain(ushort head)
    {
        if (head >= _size)
        {
            throw new InvalidOperationException($"available ring names descriptor {head} of a {_size}-entry table");
        }

        var segments = new List<DeviceSegment>();
        ulong table = _descriptors;
        int tableEntries = _size;
        bool indirect = false;
        (ulong address, uint length, ushort flags, ushort next) = ReadDescriptor(table, head);
        if ((flags & FlagIndirect) != 0)
        {
            if ((flags & FlagNext) != 0)
            {
                throw new InvalidOperationException("a descriptor has both INDIRECT and NEXT");
            }

            if (length == 0 || length % 16 != 0 || length / 16 > _size)
            {
                throw new InvalidOperationException($"indirect table of {length} bytes");
            }

            indirect = true;
            table = address;
            tableEntries = (int)(length / 16);
            (address, length, flags, next) = ReadDescriptor(table, 0);
        }

        bool sawWritable = false;
        for (int steps = 1; ; steps++)
        {
            if (steps > tableEntries)
            {
                throw new InvalidOperationException($"chain at {head} is longer than its table: a loop");
            }

            if ((flags & FlagIndirect) != 0)
            {
                throw new InvalidOperationException("INDIRECT inside a chain or an indirect table");
            }

            bool writable = (flags & FlagWrite) != 0;
            if (!writable && sawWritable)
            {
                throw new InvalidOperationException("a device-readable buffer after a device-writable one");
            }

            sawWritable |= writable;
            segments.Add(new DeviceSegment(address, length, writable));
            if ((flags & FlagNext) == 0)
            {
                break;
            }

            if (next >= tableEntries)
            {
                throw new InvalidOperationException($"next {next} is outside a {tableEntries}-entry table");
            }

            (address, length, flags, next) = ReadDescriptor(table, next);
        }

        return new DeviceChain(head, segments, indirect);
    }

    private (ulong Address, uint Length, ushort Flags, ushort Next) ReadDescriptor(ulong table, int index)
    {
        Span<byte> raw = stackalloc byte[16];
        _platform.DeviceRead(table + (16 * (ulong)index), raw);
        return (BinaryPrimitives.ReadUInt64LittleEndian(raw),
            BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(raw[12..]),
            BinaryPrimitives.ReadUInt16LittleEndian(raw[14..]));
    }

    private ushort Read16(ulong address)
    {
        Span<byte> raw = stackalloc byte[2];
        _platform.DeviceRead(address, raw);
        return BinaryPrimitives.ReadUInt16LittleEndian(raw);
    }

    private void Write16(ulong address, ushort value)
    {
        Span<byte> raw = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(raw, value);
        _platform.DeviceWrite(address, raw);
    }

    private void Write32(ulong address, uint value)
    {
        Span<byte> raw = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(raw, value);
        _platform.DeviceWrite(address, raw);
    }
}
