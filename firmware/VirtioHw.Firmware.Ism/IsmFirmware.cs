using System.Buffers.Binary;
using VirtioHw.Registers;

namespace VirtioHw.Firmware.Ism;

/// <summary>
/// The virtio-ism device firmware: it reports the domain's cdid, its own devid and the chunk and
/// notify sizes in the device configuration, serves the controlq (alloc, query, attach, detach,
/// grant, event vector) by DMA, programs the chunk table for the regions it maps, and sends the
/// domain's events (update, attach, detach) on the eventq or on a bound MSI-X vector.
/// </summary>
/// <remarks>
/// Controlq commands and kicks run on the firmware's own task. Peers post events from theirs, so
/// the eventq writer is the one piece of state with a lock of its own; the lock order is the
/// domain's <see cref="IsmDomain.Sync"/>, then an eventq lock. The regions need
/// VIRTIO_ISM_F_DEV_MEM: without it alloc and attach are answered with VIRTIO_ISM_ERR.
/// </remarks>
public sealed class IsmFirmware : VirtioFirmware
{
    private const int MaxCommandBytes = 64;

    private readonly IsmDomain _domain;
    private readonly IsmFirmwareSettings _ismSettings;
    private readonly List<DeviceBuffer> _chain = [];
    private readonly Lock _eventLock = new();
    private readonly Queue<byte[]> _pendingEvents = new();
    private readonly List<DeviceBuffer> _eventChain = [];
    private readonly Dictionary<uint, ulong> _tokenBySlot = [];
    private bool[] _slotUsed = [];
    private DeviceVirtqueue? _control;
    private DeviceVirtqueue? _events;
    private ushort _eventVector = NoVector;

    /// <param name="hal">The CSR port of the endpoint; not owned.</param>
    /// <param name="settings">Queue sizes and the notify-address size.</param>
    /// <param name="domain">The communication domain the device joins; it gets its devid there.</param>
    public IsmFirmware(IDeviceHal hal, IsmFirmwareSettings settings, IsmDomain domain)
        : base(hal, new VirtioFirmwareSettings
        {
            DeviceFeatures = (settings?.DeviceFeatures ?? 0) | (1UL << IsmWire.FeatureDevMem),
            QueueMaxSizes = settings?.QueueMaxSizes ?? throw new ArgumentNullException(nameof(settings)),
        })
    {
        ArgumentNullException.ThrowIfNull(domain);
        _ismSettings = settings;
        _domain = domain;
        DevId = domain.Join();
    }

    /// <summary>This device's id in the domain: non-zero, unique there, unchanged by resets.</summary>
    public ulong DevId { get; }

    public IsmDomain Domain => _domain;

    /// <summary>Events dropped because the driver had posted no eventq buffer and the backlog was full.</summary>
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

    protected override void OnBoot()
    {
        base.OnBoot();
        byte[] config = BuildConfig(_domain.Cdid, DevId, _domain.ChunkSize, _ismSettings.NotifySize);
        for (int offset = 0; offset < config.Length; offset += sizeof(uint))
        {
            Csr.WriteDeviceConfig((ushort)offset, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(offset)));
        }

        _slotUsed = new bool[Csr.ChunkSlots];
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
        }

        foreach (ulong token in _tokenBySlot.Values.ToArray())
        {
            lock (_domain.Sync)
            {
                if (_domain.Regions.TryGetValue(token, out IsmRegionState? region))
                {
                    Detach(region);
                }
            }
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

    /// <summary>A kick of a region's notify-address: an update event for every other referrer.</summary>
    protected override void OnIsmKick(uint slot)
    {
        if (!_tokenBySlot.TryGetValue(slot, out ulong token))
        {
            return;
        }

        lock (_domain.Sync)
        {
            if (!_domain.Regions.TryGetValue(token, out IsmRegionState? region))
            {
                return;
            }

            foreach ((ulong devid, IsmReferral referral) in region.Referrers)
            {
                if (devid == DevId)
                {
                    continue;
                }

                if (referral.EventVector != NoVector)
                {
                    referral.Device.Csr.TriggerMsix(referral.EventVector);
                }
                else
                {
                    referral.Device.PostEvent(UpdateEvent(referral.Device.OffsetOf(referral), DevId));
                }
            }
        }
    }

    /// <summary>Queues an event for this device's driver; called by peers under the domain lock.</summary>
    internal void PostEvent(byte[] ev)
    {
        lock (_eventLock)
        {
            if (_pendingEvents.Count >= _ismSettings.PendingEventLimit)
            {
                _pendingEvents.Dequeue();
                DroppedEvents++;
            }

            _pendingEvents.Enqueue(ev);
            FlushEvents();
        }
    }

    /// <summary>Where a referral's first chunk is in this device's regions area.</summary>
    internal ulong OffsetOf(IsmReferral referral) => referral.Slots[0] * _domain.ChunkSize;

    private static byte[] UpdateEvent(ulong offset, ulong devid)
    {
        var ev = new byte[IsmWire.UpdateEventSize];
        BinaryPrimitives.WriteUInt64LittleEndian(ev, IsmWire.EventUpdate);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(8), offset);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(16), devid);
        return ev;
    }

    private static byte[] AttachDetachEvent(ulong type, ulong offset, ulong devid, ulong peers)
    {
        var ev = new byte[IsmWire.AttachDetachEventSize];
        BinaryPrimitives.WriteUInt64LittleEndian(ev, type);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(8), offset);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(16), devid);
        BinaryPrimitives.WriteUInt64LittleEndian(ev.AsSpan(24), peers);
        return ev;
    }

    /// <summary>Writes pending events into posted eventq buffers, one event per buffer. Caller holds the eventq lock.</summary>
    private void FlushEvents()
    {
        if (_events is not { } queue)
        {
            return;
        }

        bool interrupt = false;
        while (_pendingEvents.Count > 0 && queue.TryTake(out ushort head, _eventChain))
        {
            byte[] ev = _pendingEvents.Peek();
            if (DeviceVirtqueue.WritableLength(_eventChain) < ev.Length)
            {
                // A buffer too small for the event is returned empty; the event waits for the next.
                interrupt |= queue.Complete(head, 0);
                continue;
            }

            _pendingEvents.Dequeue();
            interrupt |= queue.Complete(head, (uint)queue.Scatter(_eventChain, ev));
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
        lock (_domain.Sync)
        {
            return (command[0], command[1]) switch
            {
                (IsmWire.ClassAlloc, IsmWire.AllocRegion) when data.Length >= 8 => Allocate(Le64(data, 0), capacity),
                (IsmWire.ClassQuery, IsmWire.QueryInfo) when data.Length >= 8 => Query(Le64(data, 0)),
                (IsmWire.ClassAttach, IsmWire.AttachRegion) when data.Length >= 16 => Attach(Le64(data, 0), (IsmPermissions)Le64(data, 1), capacity),
                (IsmWire.ClassDetach, IsmWire.DetachRegion) when data.Length >= 8 => Detach(Le64(data, 0)),
                (IsmWire.ClassGrant, IsmWire.GrantSetDefault) when data.Length >= 16 => Grant(Le64(data, 0), (IsmPermissions)Le64(data, 1), null),
                (IsmWire.ClassGrant, IsmWire.GrantSetForDevice) when data.Length >= 24 => Grant(Le64(data, 0), (IsmPermissions)Le64(data, 1), Le64(data, 2)),
                (IsmWire.ClassEventVector, IsmWire.EventVectorSet) when data.Length >= 16 => BindVector(Le64(data, 0), Le64(data, 1)),
                _ => [(byte)IsmAck.Error],
            };
        }
    }

    private bool DeviceMemory => (NegotiatedFeatures & (1UL << IsmWire.FeatureDevMem)) != 0;

    private byte[] Allocate(ulong size, long capacity)
    {
        if (!DeviceMemory || size == 0)
        {
            return [(byte)IsmAck.Error];
        }

        if (size > (ulong)_domain.ChunkCount * _domain.ChunkSize)
        {
            return [(byte)IsmAck.NoMemory];
        }

        int count = (int)((size + _domain.ChunkSize - 1) / _domain.ChunkSize);
        if (TooBig(count, capacity) is { } tooBig)
        {
            return tooBig;
        }

        uint[]? slots = FreeSlots(count);
        if (slots is null)
        {
            return [(byte)IsmAck.NoSpace];
        }

        ulong[]? chunks = _domain.TakeChunks(count);
        if (chunks is null)
        {
            return [(byte)IsmAck.NoMemory];
        }

        var region = new IsmRegionState(_domain.NewToken(), size, chunks);
        region.Dedicated[DevId] = IsmPermissions.Owner;
        _domain.Regions.Add(region.Token, region);
        Map(region, slots, ChunkAccess.ReadWrite);
        return ChunkReply(region.Token, slots);
    }

    private byte[] Query(ulong token)
    {
        if (!_domain.Regions.TryGetValue(token, out IsmRegionState? region))
        {
            return [(byte)IsmAck.NoEntry];
        }

        var reply = new byte[1 + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(reply.AsSpan(1), region.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(reply.AsSpan(9), (ulong)region.PermissionsOf(DevId));
        return reply;
    }

    private byte[] Attach(ulong token, IsmPermissions access, long capacity)
    {
        if (!_domain.Regions.TryGetValue(token, out IsmRegionState? region))
        {
            return [(byte)IsmAck.NoEntry];
        }

        IsmPermissions granted = region.PermissionsOf(DevId);
        if (!DeviceMemory || region.Referrers.ContainsKey(DevId) || (access & ~(IsmPermissions.Read | IsmPermissions.Write)) != 0)
        {
            return [(byte)IsmAck.Error];
        }

        if ((granted & IsmPermissions.Attach) == 0)
        {
            return [(byte)IsmAck.AttachDenied];
        }

        if ((access & IsmPermissions.Read) != 0 && (granted & IsmPermissions.Read) == 0)
        {
            return [(byte)IsmAck.ReadDenied];
        }

        if ((access & IsmPermissions.Write) != 0 && (granted & IsmPermissions.Write) == 0)
        {
            return [(byte)IsmAck.WriteDenied];
        }

        if (TooBig(region.Chunks.Length, capacity) is { } tooBig)
        {
            return tooBig;
        }

        uint[]? slots = FreeSlots(region.Chunks.Length);
        if (slots is null)
        {
            return [(byte)IsmAck.NoSpace];
        }

        ChunkAccess chunkAccess = ChunkAccess.Valid
            | ((access & IsmPermissions.Read) != 0 ? ChunkAccess.Read : 0)
            | ((access & IsmPermissions.Write) != 0 ? ChunkAccess.Write : 0);
        Map(region, slots, chunkAccess);
        TellPeers(region, IsmWire.EventAttach);
        return ChunkReply(region.Size, slots);
    }

    private byte[] Detach(ulong token)
    {
        if (!_domain.Regions.TryGetValue(token, out IsmRegionState? region) || !region.Referrers.ContainsKey(DevId))
        {
            return [(byte)IsmAck.NoEntry];
        }

        Detach(region);
        return [(byte)IsmAck.Ok];
    }

    /// <summary>Unmaps the region here, tells the remaining referrers, and frees it when none is left. Caller holds the domain lock.</summary>
    private void Detach(IsmRegionState region)
    {
        IsmReferral mine = region.Referrers[DevId];
        foreach (uint slot in mine.Slots)
        {
            Csr.CommitChunk(slot, 0, ChunkAccess.None);
            _slotUsed[slot] = false;
        }

        _tokenBySlot.Remove(mine.Slots[0]);
        region.Referrers.Remove(DevId);
        TellPeers(region, IsmWire.EventDetach);
        if (region.Referrers.Count == 0)
        {
            _domain.Regions.Remove(region.Token);
            _domain.ReleaseChunks(region.Chunks);
        }
    }

    private byte[] Grant(ulong token, IsmPermissions permissions, ulong? peer)
    {
        if (!_domain.Regions.TryGetValue(token, out IsmRegionState? region) || !region.Referrers.ContainsKey(DevId))
        {
            return [(byte)IsmAck.NoEntry];
        }

        const IsmPermissions known = IsmPermissions.Owner | IsmPermissions.CleanDefault;
        bool valid = (region.PermissionsOf(DevId) & IsmPermissions.Manage) != 0
            && (permissions & ~known) == 0
            && (peer is not null || (permissions & IsmPermissions.CleanDefault) == 0)
            && peer != 0;
        if (!valid)
        {
            return [(byte)IsmAck.Error];
        }

        if (peer is { } devid)
        {
            if ((permissions & IsmPermissions.CleanDefault) != 0)
            {
                region.DefaultPermissions = IsmPermissions.None;
            }

            region.Dedicated[devid] = permissions & ~IsmPermissions.CleanDefault;
        }
        else
        {
            region.DefaultPermissions = permissions;
        }

        return [(byte)IsmAck.Ok];
    }

    private byte[] BindVector(ulong token, ulong vector)
    {
        if (!_domain.Regions.TryGetValue(token, out IsmRegionState? region) || !region.Referrers.TryGetValue(DevId, out IsmReferral? mine))
        {
            return [(byte)IsmAck.NoEntry];
        }

        if (vector != NoVector && vector >= (ulong)Csr.MsixVectorCount)
        {
            return [(byte)IsmAck.Error];
        }

        mine.EventVector = (ushort)vector;
        return [(byte)IsmAck.Ok];
    }

    /// <summary>E2BIG with the num to ask for, when the reply buffer cannot hold <paramref name="count"/> chunks; else null.</summary>
    private static byte[]? TooBig(int count, long capacity)
    {
        if (capacity >= 1 + IsmWire.ChunkReplyHeaderSize + (8L * count))
        {
            return null;
        }

        var reply = new byte[1 + IsmWire.ChunkReplyHeaderSize];
        reply[0] = (byte)IsmAck.TooBig;
        BinaryPrimitives.WriteUInt64LittleEndian(reply.AsSpan(9), (ulong)count);
        return reply;
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
        for (uint slot = 0; slot < _slotUsed.Length && found < count; slot++)
        {
            if (!_slotUsed[slot])
            {
                slots[found++] = slot;
            }
        }

        return found == count ? slots : null;
    }

    /// <summary>Maps the region's chunks, in order, into <paramref name="slots"/> and records this device as a referrer.</summary>
    private void Map(IsmRegionState region, uint[] slots, ChunkAccess access)
    {
        for (int i = 0; i < slots.Length; i++)
        {
            _slotUsed[slots[i]] = true;
            Csr.CommitChunk(slots[i], region.Chunks[i], access);
        }

        _tokenBySlot[slots[0]] = region.Token;
        region.Referrers[DevId] = new IsmReferral(this, slots);
    }

    /// <summary>An attach or detach event to every referrer but this device; peers counts the referrers other than the receiver.</summary>
    private void TellPeers(IsmRegionState region, ulong type)
    {
        if (region.Referrers.Count == 0)
        {
            return;
        }

        ulong peers = (ulong)region.Referrers.Count - 1;
        foreach ((ulong devid, IsmReferral referral) in region.Referrers)
        {
            if (devid != DevId)
            {
                referral.Device.PostEvent(AttachDetachEvent(type, referral.Device.OffsetOf(referral), DevId, peers));
            }
        }
    }

    private static ulong Le64(ReadOnlySpan<byte> data, int field) => BinaryPrimitives.ReadUInt64LittleEndian(data[(8 * field)..]);
}
