using System.Buffers.Binary;
using VirtioHw.Registers;
using VirtioHw.Wire;

namespace VirtioHw.Firmware.Ism;

/// <summary>
/// The virtio-ism device firmware: it reports the domain's cdid, its own devid and the chunk and
/// notify sizes in the device configuration, serves the controlq (alloc, query, attach, detach,
/// grant, event vector) by DMA, programs the chunk table for the regions it maps, and sends the
/// domain's events (update, attach, detach, buffer free) on the eventq or on a bound MSI-X vector.
/// </summary>
/// <remarks>
/// The domain (<see cref="IIsmDomain"/>, in this process or behind a domain server) holds the
/// regions; the firmware holds what is its own: chunk slots, which region each maps, bound
/// vectors. Controlq commands and kicks run on the firmware's own task; domain events arrive on
/// any thread and take only the eventq lock, which is never held while calling the domain. An
/// event can overtake the reply of the alloc or attach that makes its region known here; it waits
/// until the command has mapped the region.
/// Without VIRTIO_ISM_F_DEV_MEM an alloc takes the driver's buffer (page-aligned, the region size
/// a whole number of chunks), clears it by DMA and maps its chunks in order with chunk slots that
/// reach system memory; an attach records the attacher's buffer, unused, and maps whatever memory
/// the region is in. The allocator's driver gets BUFFER_FREE when nobody refers to the region any
/// more, never while a slot of this device still maps the buffer.
/// </remarks>
public sealed class IsmFirmware : VirtioFirmware, IIsmDomainMember
{
    private const int MaxCommandBytes = 64;

    // Events waiting for the command in flight to map their region. More than this during one
    // command fails the device loudly (DEVICE_NEEDS_RESET), as an overflowing backlog does.
    private const int EarlyEventLimit = 256;

    private readonly IIsmDomain _domain;
    private readonly IsmFirmwareSettings _ismSettings;
    private readonly List<DeviceBuffer> _chain = [];
    private readonly Lock _eventLock = new();
    private readonly Queue<byte[]> _pendingEvents = new();
    private byte[] _packed = [];
    private readonly List<DeviceBuffer> _eventChain = [];
    private readonly Dictionary<uint, ulong> _tokenBySlot = [];
    private readonly Dictionary<ulong, Mapping> _mapped = [];
    private readonly List<IsmDomainEvent> _early = [];

    // Buffers of regions this device allocated in driver memory, by token, until their BUFFER_FREE.
    private readonly Dictionary<ulong, ulong> _driverBuffers = [];
    private bool[] _slotUsed = [];

    // Kept with _slotUsed so that a command costs the same whatever the window's size and the number
    // of live regions: how many slots are free, and no slot below _lowestFreeSlot is free.
    private int _freeSlotCount;
    private uint _lowestFreeSlot;
    private DeviceVirtqueue? _control;
    private DeviceVirtqueue? _events;
    private ushort _eventVector = NoVector;

    // Set when an event could not be kept: the driver has been told (DEVICE_NEEDS_RESET) and gets
    // no more events until it resets the device.
    private bool _eventsLost;

    /// <param name="hal">The CSR port of the endpoint; not owned.</param>
    /// <param name="settings">Queue sizes and the notify-address size.</param>
    /// <param name="domain">The communication domain the device joins; it gets its devid there.</param>
    public IsmFirmware(IDeviceHal hal, IsmFirmwareSettings settings, IIsmDomain domain)
        : base(hal, new VirtioFirmwareSettings
        {
            DeviceFeatures = ((settings?.DeviceFeatures ?? 0) & ~(1UL << IsmWire.FeatureDevMem)) | (settings?.DeviceMemory != false ? 1UL << IsmWire.FeatureDevMem : 0),
            QueueMaxSizes = settings?.QueueMaxSizes ?? throw new ArgumentNullException(nameof(settings)),
        })
    {
        ArgumentNullException.ThrowIfNull(domain);
        _ismSettings = settings;
        _domain = domain;
        DevId = domain.Join(this);
    }

    /// <summary>This device's id in the domain: non-zero, unique there, unchanged by resets.</summary>
    public ulong DevId { get; }

    public IIsmDomain Domain => _domain;

    /// <summary>
    /// Events that could not be kept (the backlog for the eventq, or the events waiting for the
    /// command in flight, was full) or came after that until the driver reset the device. None is
    /// lost silently: the first sets DEVICE_NEEDS_RESET with a configuration change.
    /// </summary>
    public long DroppedEvents { get; private set; }

    /// <summary>The struct virtio_ism_config of a device: cdid (the UUID as a 128-bit number, low half first), devid, chunk_size, notify_size.</summary>
    public static byte[] BuildConfig(Guid cdid, ulong devid, ulong chunkSize, ulong notifySize)
    {
        Span<byte> uuid = stackalloc byte[16];
        cdid.TryWriteBytes(uuid, bigEndian: true, out _);
        var image = new byte[IsmConfig.Size];
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.CdidLo.Offset), BinaryPrimitives.ReadUInt64BigEndian(uuid[8..]));
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.CdidHi.Offset), BinaryPrimitives.ReadUInt64BigEndian(uuid[..8]));
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.Devid.Offset), devid);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.ChunkSize.Offset), chunkSize);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.NotifySize.Offset), notifySize);
        return image;
    }

    /// <summary>An event of the domain for this device: queued for the eventq, or the bound vector for an UPDATE.</summary>
    public void OnDomainEvent(IsmDomainEvent domainEvent)
    {
        lock (_eventLock)
        {
            if (domainEvent.Type == IsmWire.EventBufferFree)
            {
                // Every slot that mapped the buffer is unmapped by now (referrers unmap before they detach).
                if (_driverBuffers.Remove(domainEvent.Token, out ulong buffer))
                {
                    Queue(IsmWire.BufferFreeEvent(buffer));
                }

                return;
            }

            if (!_mapped.TryGetValue(domainEvent.Token, out Mapping? mapping))
            {
                if (_early.Count < EarlyEventLimit)
                {
                    _early.Add(domainEvent);
                }
                else
                {
                    LoseEvent();
                }

                return;
            }

            Deliver(domainEvent, mapping);
        }
    }

    /// <summary>The domain is gone and the regions with it: DEVICE_NEEDS_RESET tells the driver (with a configuration change).</summary>
    public void OnDomainLost() => Csr.SetNeedsReset();

    protected override void OnBoot()
    {
        base.OnBoot();
        byte[] config = BuildConfig(_domain.Cdid, DevId, _domain.ChunkSize, _ismSettings.NotifySize);
        for (int offset = 0; offset < config.Length; offset += sizeof(uint))
        {
            Csr.WriteDeviceConfig((ushort)offset, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(offset)));
        }

        _slotUsed = new bool[Csr.ChunkSlots];
        _freeSlotCount = _slotUsed.Length;
        _lowestFreeSlot = 0;
        for (uint slot = 0; slot < _slotUsed.Length; slot++)
        {
            Csr.CommitChunk(slot, 0, ChunkAccess.None);
        }
    }

    protected override void OnQueueReady(ushort queue, QueueSetup setup)
    {
        if (queue == IsmWire.ControlQueue)
        {
            _control = new DeviceVirtqueue(Hal, setup);
        }
        else if (queue == IsmWire.EventQueue)
        {
            lock (_eventLock)
            {
                _events = new DeviceVirtqueue(Hal, setup);
                _eventVector = setup.MsixVector;
                FlushEvents();
            }
        }
    }

    protected override void OnQueueReset(ushort queue)
    {
        if (queue == IsmWire.ControlQueue)
        {
            _control = null;
        }
        else if (queue == IsmWire.EventQueue)
        {
            lock (_eventLock)
            {
                _events = null;
            }
        }

        base.OnQueueReset(queue);
    }

    /// <summary>The driver reset the device: its regions are detached (peers hear of it) and its slots unmapped.</summary>
    protected override void OnDeviceReset()
    {
        _control = null;
        lock (_eventLock)
        {
            _events = null;
            _pendingEvents.Clear();
            _early.Clear();
            _eventsLost = false;
        }

        foreach (ulong token in _tokenBySlot.Values.ToArray())
        {
            UnmapSystemMemory(token);
            try
            {
                _domain.Detach(DevId, token);
            }
            catch (IsmDomainUnavailableException)
            {
                // The domain is gone and the region with it; the slots are freed all the same.
            }

            Unmap(token);
        }
    }

    protected override void OnQueueNotify(ushort queue, uint data)
    {
        if (queue == IsmWire.ControlQueue)
        {
            ServeControlQueue();
        }
        else if (queue == IsmWire.EventQueue)
        {
            lock (_eventLock)
            {
                FlushEvents();
            }
        }
    }

    /// <summary>A kick of a region's notify-address: the domain sends an update event to every other referrer.</summary>
    protected override void OnIsmKick(uint slot)
    {
        if (_tokenBySlot.TryGetValue(slot, out ulong token))
        {
            _domain.Kick(DevId, token);
        }
    }

    /// <summary>Turns a domain event into this device's view of it. Caller holds the eventq lock.</summary>
    private void Deliver(IsmDomainEvent domainEvent, Mapping mapping)
    {
        ulong offset = mapping.Slots[0] * _domain.ChunkSize;
        if (domainEvent.Type == IsmWire.EventUpdate)
        {
            if (mapping.EventVector != NoVector)
            {
                Csr.TriggerMsix(mapping.EventVector);
                return;
            }

            Queue(IsmWire.UpdateEvent(offset, domainEvent.DevId));
        }
        else if (domainEvent.Type is IsmWire.EventAttach or IsmWire.EventDetach)
        {
            Queue(IsmWire.AttachDetachEvent(domainEvent.Type, offset, domainEvent.DevId, domainEvent.Peers));
        }
    }

    /// <summary>Queues an event for this device's driver. Caller holds the eventq lock.</summary>
    private void Queue(byte[] ev)
    {
        if (_eventsLost || _pendingEvents.Count >= _ismSettings.PendingEventLimit)
        {
            LoseEvent();
            return;
        }

        _pendingEvents.Enqueue(ev);
        FlushEvents();
    }

    /// <summary>
    /// An event cannot be kept. The device must generate every event, so rather than drop one
    /// unseen it fails the way virtio provides: DEVICE_NEEDS_RESET and a configuration change, once;
    /// the driver resets the device (its regions are detached, peers hear of it). Caller holds the eventq lock.
    /// </summary>
    private void LoseEvent()
    {
        DroppedEvents++;
        if (!_eventsLost)
        {
            _eventsLost = true;
            Csr.SetNeedsReset();
        }
    }

    /// <summary>
    /// Writes pending events into posted eventq buffers, as many whole events to a buffer as it
    /// holds ("a buffer received from eventq can contain multiple event structures"), in order.
    /// Caller holds the eventq lock.
    /// </summary>
    private void FlushEvents()
    {
        if (_events is not { } queue)
        {
            return;
        }

        bool interrupt = false;
        while (_pendingEvents.Count > 0 && queue.TryTake(out ushort head, _eventChain))
        {
            long room = DeviceVirtqueue.WritableLength(_eventChain);
            int length = 0;
            while (_pendingEvents.TryPeek(out byte[]? ev) && length + ev.Length <= room)
            {
                if (_packed.Length < length + ev.Length)
                {
                    Array.Resize(ref _packed, Math.Max(2 * _packed.Length, length + ev.Length));
                }

                ev.CopyTo(_packed, length);
                length += ev.Length;
                _pendingEvents.Dequeue();
            }

            // A buffer too small for the next event is returned empty; the event waits for the next buffer.
            interrupt |= queue.Complete(head, length == 0 ? 0 : (uint)queue.Scatter(_eventChain, _packed.AsSpan(0, length)));
        }

        if (interrupt)
        {
            Csr.SetQueueInterrupt();
            if (_eventVector != NoVector)
            {
                Csr.TriggerMsix(_eventVector);
            }
        }
    }

    private void ServeControlQueue()
    {
        if (_control is not { } queue)
        {
            return;
        }

        bool interrupt = false;
        Span<byte> command = stackalloc byte[MaxCommandBytes];
        while (queue.TryTake(out ushort head, _chain))
        {
            uint written = 0;
            long capacity = DeviceVirtqueue.WritableLength(_chain);
            if (_chain.Count > 0 && capacity > 0)
            {
                int length = queue.Gather(_chain, command);
                byte[] reply = Execute(command[..length], capacity);
                written = (uint)queue.Scatter(_chain, reply);
            }

            interrupt |= queue.Complete(head, written);

            // Commands run one at a time and map their region before they complete: events still
            // waiting for a mapping now are for regions this device no longer refers to.
            lock (_eventLock)
            {
                _early.Clear();
            }
        }

        if (interrupt)
        {
            NotifyUsed(IsmWire.ControlQueue);
        }
    }

    /// <summary>Runs one command; the reply is the ack byte and the command's reply data.</summary>
    private byte[] Execute(ReadOnlySpan<byte> command, long capacity)
    {
        if (command.Length < IsmWire.CommandHeaderSize)
        {
            return [(byte)IsmAck.Error];
        }

        ReadOnlySpan<byte> data = command[IsmWire.CommandHeaderSize..];
        try
        {
            return (command[0], command[1]) switch
            {
                (IsmWire.ClassAlloc, IsmWire.AllocRegion) when data.Length >= 8 => Allocate(data, capacity),
                (IsmWire.ClassQuery, IsmWire.QueryInfo) when data.Length >= 8 => Query(Le64(data, 0)),
                (IsmWire.ClassAttach, IsmWire.AttachRegion) when data.Length >= 16 => Attach(data, capacity),
                (IsmWire.ClassDetach, IsmWire.DetachRegion) when data.Length >= 8 => Detach(Le64(data, 0)),
                (IsmWire.ClassGrant, IsmWire.GrantSetDefault) when data.Length >= 16 => [(byte)_domain.Grant(DevId, Le64(data, 0), (IsmPermissions)Le64(data, 1), null)],
                (IsmWire.ClassGrant, IsmWire.GrantSetForDevice) when data.Length >= 24 => [(byte)_domain.Grant(DevId, Le64(data, 0), (IsmPermissions)Le64(data, 1), Le64(data, 2))],
                (IsmWire.ClassEventVector, IsmWire.EventVectorSet) when data.Length >= 16 => BindVector(Le64(data, 0), Le64(data, 1)),
                _ => [(byte)IsmAck.Error],
            };
        }
        catch (IsmDomainUnavailableException)
        {
            // The domain is out of reach (its server went away): the command fails, the device carries on.
            return [(byte)IsmAck.Error];
        }
        finally
        {
            lock (_eventLock)
            {
                _early.Clear();
            }
        }
    }

    private bool DeviceMemory => (NegotiatedFeatures & (1UL << IsmWire.FeatureDevMem)) != 0;

    /// <summary>struct virtio_ism_ctrl_alloc: size, and the driver's buffer without DEV_MEM.</summary>
    private byte[] Allocate(ReadOnlySpan<byte> data, long capacity)
    {
        ulong size = Le64(data, 0);
        if (DeviceMemory)
        {
            if (size == 0)
            {
                return [(byte)IsmAck.Error];
            }

            IsmMapResult result = _domain.Allocate(DevId, size, Limits(capacity));
            return MapReply(result, result.Token, ChunkAccess.ReadWrite);
        }

        // The buffer is the region: a slot maps a whole chunk, so a shorter last chunk would expose
        // memory past the buffer's end; and the chunk table keeps system addresses as page numbers.
        if (data.Length < 16 || size == 0 || size % _domain.ChunkSize != 0 || !ValidBuffer(Le64(data, 1), size))
        {
            return [(byte)IsmAck.Error];
        }

        ulong buffer = Le64(data, 1);
        IsmChunkLimits limits = Limits(capacity);
        ulong count = size / _domain.ChunkSize;
        if (count > (ulong)Math.Max(0, limits.ReplyChunks))
        {
            // Nothing is cleared or allocated until the reply can list the chunks.
            return MapReply(new IsmMapResult(IsmAck.TooBig, ChunkCount: count), 0, ChunkAccess.None);
        }

        if (count > (ulong)limits.FreeSlots)
        {
            return [(byte)IsmAck.NoSpace];
        }

        IsmMapResult mapped = _domain.AllocateInDriverMemory(DevId, size, buffer, limits);
        if (mapped.Ack != IsmAck.Ok)
        {
            return MapReply(mapped, 0, ChunkAccess.None);
        }

        // The region's memory is cleared before it is handed out (nobody else knows its token yet);
        // a buffer DMA cannot reach is no region, and it goes again, telling nobody.
        if (!ClearSystemMemory(buffer, size))
        {
            _domain.Detach(DevId, mapped.Token);
            return [(byte)IsmAck.Error];
        }

        lock (_eventLock)
        {
            _driverBuffers[mapped.Token] = buffer;
        }

        return MapReply(mapped, mapped.Token, ChunkAccess.ReadWrite);
    }

    /// <summary>A driver's buffer of <paramref name="size"/> bytes: given, page-aligned, and wholly below 2^48 (what a chunk slot can address).</summary>
    private static bool ValidBuffer(ulong buffer, ulong size) =>
        buffer != 0 && buffer % IsmWire.BufferAlignment == 0 && size <= IsmWire.SystemAddressLimit && buffer <= IsmWire.SystemAddressLimit - size;

    private bool ClearSystemMemory(ulong address, ulong length)
    {
        var zeros = new byte[(int)Math.Min(length, 64 * 1024)];
        for (ulong done = 0; done < length; done += (ulong)zeros.Length)
        {
            int step = (int)Math.Min((ulong)zeros.Length, length - done);
            if (!Hal.DmaWrite(address + done, zeros.AsSpan(0, step)))
            {
                return false;
            }
        }

        return true;
    }

    private byte[] Query(ulong token)
    {
        IsmQueryResult result = _domain.Query(DevId, token);
        if (result.Ack != IsmAck.Ok)
        {
            return [(byte)result.Ack];
        }

        var reply = new byte[1 + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(reply.AsSpan(1), result.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(reply.AsSpan(9), (ulong)result.Permissions);
        return reply;
    }

    /// <summary>
    /// struct virtio_ism_ctrl_attach: token, rw_perm, and without DEV_MEM the attacher's buffer,
    /// which is recorded and not used (the specification asks for it only to bound what attaching
    /// costs a driver); the slots map the memory the region is in, wherever its allocator put it.
    /// </summary>
    private byte[] Attach(ReadOnlySpan<byte> data, long capacity)
    {
        ulong token = Le64(data, 0);
        var access = (IsmPermissions)Le64(data, 1);
        ulong buffer = 0;
        if (!DeviceMemory)
        {
            if (data.Length < 24)
            {
                return [(byte)IsmAck.Error];
            }

            buffer = Le64(data, 2);
            IsmQueryResult region = _domain.Query(DevId, token);
            if (region.Ack != IsmAck.Ok)
            {
                return [(byte)region.Ack];
            }

            if (!ValidBuffer(buffer, region.Size))
            {
                return [(byte)IsmAck.Error];
            }
        }

        IsmMapResult result = _domain.Attach(DevId, token, access, Limits(capacity));
        ChunkAccess chunkAccess = ChunkAccess.Valid
            | ((access & IsmPermissions.Read) != 0 ? ChunkAccess.Read : 0)
            | ((access & IsmPermissions.Write) != 0 ? ChunkAccess.Write : 0);
        return MapReply(result, result.Size, chunkAccess, buffer);
    }

    private byte[] Detach(ulong token)
    {
        // Slots onto a driver's buffer go first: the detach may free it (BUFFER_FREE to its driver).
        bool unmapped = UnmapSystemMemory(token);
        IsmAck ack = _domain.Detach(DevId, token);
        if (ack == IsmAck.Ok && !unmapped)
        {
            Unmap(token);
        }

        return [(byte)ack];
    }

    /// <summary>Unmaps the region first when its slots reach a driver's buffer; whether it did.</summary>
    private bool UnmapSystemMemory(ulong token)
    {
        lock (_eventLock)
        {
            if (!_mapped.TryGetValue(token, out Mapping? mapping) || !mapping.SystemMemory)
            {
                return false;
            }
        }

        Unmap(token);
        return true;
    }

    private byte[] BindVector(ulong token, ulong vector)
    {
        lock (_eventLock)
        {
            if (!_mapped.TryGetValue(token, out Mapping? mapping))
            {
                return [(byte)IsmAck.NoEntry];
            }

            if (vector != NoVector && vector >= (ulong)Csr.MsixVectorCount)
            {
                return [(byte)IsmAck.Error];
            }

            mapping.EventVector = (ushort)vector;
            return [(byte)IsmAck.Ok];
        }
    }

    /// <summary>The chunks a reply of <paramref name="capacity"/> bytes can list, and the free slots.</summary>
    private IsmChunkLimits Limits(long capacity) =>
        new((capacity - 1 - IsmWire.ChunkReplyHeaderSize) / 8, _freeSlotCount);

    /// <summary>
    /// The reply to an alloc or attach (<paramref name="first"/> its first word, token or size); on
    /// OK the region is mapped with <paramref name="access"/> into the lowest free slots first, and
    /// the buffer an attach without DEV_MEM passed is kept with the mapping (0 for none).
    /// </summary>
    private byte[] MapReply(IsmMapResult result, ulong first, ChunkAccess access, ulong buffer = 0)
    {
        if (result.Ack == IsmAck.TooBig)
        {
            var tooBig = new byte[1 + IsmWire.ChunkReplyHeaderSize];
            tooBig[0] = (byte)IsmAck.TooBig;
            BinaryPrimitives.WriteUInt64LittleEndian(tooBig.AsSpan(9), result.ChunkCount);
            return tooBig;
        }

        if (result.Ack != IsmAck.Ok || result.Chunks is not { } chunks)
        {
            return [(byte)result.Ack];
        }

        uint[] slots = FreeSlots(chunks.Count)
            ?? throw new InvalidOperationException("the domain granted more chunks than the device had free slots");
        Map(result.Token, chunks, slots, result.SystemMemory ? access | ChunkAccess.System : access, buffer);
        return ChunkReply(first, slots);
    }

    /// <summary>OK with the first word (token or size), num and each chunk's offset in the regions area.</summary>
    private byte[] ChunkReply(ulong first, uint[] slots)
    {
        var reply = new byte[1 + IsmWire.ChunkReplyHeaderSize + (8 * slots.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(reply.AsSpan(1), first);
        BinaryPrimitives.WriteUInt64LittleEndian(reply.AsSpan(9), (ulong)slots.Length);
        for (int i = 0; i < slots.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(reply.AsSpan(17 + (8 * i)), slots[i] * _domain.ChunkSize);
        }

        return reply;
    }

    /// <summary>The lowest <paramref name="count"/> free chunk slots, or null when there are too few.</summary>
    private uint[]? FreeSlots(int count)
    {
        var slots = new uint[count];
        int found = 0;
        for (uint slot = _lowestFreeSlot; slot < _slotUsed.Length && found < count; slot++)
        {
            if (!_slotUsed[slot])
            {
                slots[found++] = slot;
            }
        }

        _lowestFreeSlot = found == 0 ? (uint)_slotUsed.Length : slots[0];

        return found == count ? slots : null;
    }

    /// <summary>Maps the region's chunks, in order, into <paramref name="slots"/>, then hands it the events that came early.</summary>
    private void Map(ulong token, IReadOnlyList<ulong> chunks, uint[] slots, ChunkAccess access, ulong buffer)
    {
        for (int i = 0; i < slots.Length; i++)
        {
            _slotUsed[slots[i]] = true;
            _freeSlotCount--;
            Csr.CommitChunk(slots[i], chunks[i], access);
        }

        _tokenBySlot[slots[0]] = token;
        lock (_eventLock)
        {
            var mapping = new Mapping(slots) { SystemMemory = (access & ChunkAccess.System) != 0, AttachBuffer = buffer };
            _mapped[token] = mapping;
            foreach (IsmDomainEvent early in _early.Where(e => e.Token == token).ToArray())
            {
                Deliver(early, mapping);
            }

            _early.RemoveAll(e => e.Token == token);
        }
    }

    /// <summary>Unmaps a region this device no longer refers to.</summary>
    private void Unmap(ulong token)
    {
        Mapping? mapping;
        lock (_eventLock)
        {
            if (!_mapped.Remove(token, out mapping))
            {
                return;
            }
        }

        foreach (uint slot in mapping.Slots)
        {
            Csr.CommitChunk(slot, 0, ChunkAccess.None);
            _slotUsed[slot] = false;
            _freeSlotCount++;
            _lowestFreeSlot = Math.Min(_lowestFreeSlot, slot);
        }

        _tokenBySlot.Remove(mapping.Slots[0]);
    }

    private static ulong Le64(ReadOnlySpan<byte> data, int field) => BinaryPrimitives.ReadUInt64LittleEndian(data[(8 * field)..]);

    /// <summary>How this device maps one region: its chunk slots in order, and the vector its update events go to.</summary>
    private sealed class Mapping(uint[] slots)
    {
        public uint[] Slots { get; } = slots;

        /// <summary>MSI-X vector bound by EVENT_VECTOR, or <see cref="VirtioFirmware.NoVector"/> for the eventq.</summary>
        public ushort EventVector { get; set; } = NoVector;

        /// <summary>The slots reach system memory (a driver's buffer) rather than domain memory.</summary>
        public bool SystemMemory { get; init; }

        /// <summary>The buffer the driver passed with an attach without DEV_MEM (recorded, not used); 0 for none.</summary>
        public ulong AttachBuffer { get; init; }
    }
}
