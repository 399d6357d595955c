using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;
using VirtioHw.Wire;

namespace VirtioHw.Drivers.Ism;

/// <summary>
/// The driver of a virtio-ism device: negotiates VIRTIO_ISM_F_DEV_MEM (or, by its settings, leaves
/// it off and provides the region memory itself), sets up controlq and eventq, reads the
/// configuration (cdid, devid, chunk and notify sizes), finds the regions and notify areas, and
/// offers every controlq command as an async call. A refused command throws the
/// <see cref="IsmException"/> subclass of its ack; events arrive through <see cref="ReadEventsAsync"/>.
/// </summary>
/// <remarks>
/// Without DEV_MEM, alloc passes a buffer of platform DMA memory of the region's size (page-aligned;
/// the device wants the size a whole number of chunks) that stays allocated until the device's
/// BUFFER_FREE event names it, which the driver hands on as an event after freeing it; attach
/// passes a buffer of the region's size (queried first) that is freed after the detach. A buffer
/// still waiting for its BUFFER_FREE when the device is disposed stays with the platform, which
/// releases it when it is disposed itself: another device may map it still.
/// </remarks>
public sealed class IsmDevice : IAsyncDisposable
{
    private const int InitialChunkRoom = 16;

    /// <summary>The vector that sends a region's updates back to the eventq.</summary>
    private const ushort NoVector = 0xffff;

    private readonly VirtioTransport _transport;
    private readonly VirtioQueue _control;
    private readonly VirtioQueue _events;
    private readonly CancellationTokenSource _stop = new();
    // A waiting reader goes on on the thread that received the event, without another thread hand-off.
    private readonly Channel<IsmEvent> _received = Channel.CreateUnbounded<IsmEvent>(new UnboundedChannelOptions { SingleReader = false, AllowSynchronousContinuations = true });
    private readonly List<Task> _workers = [];
    private readonly SemaphoreSlim _commandLock = new(1, 1);
    private readonly HashSet<ushort> _updateEntries = [];

    // Driver memory without DEV_MEM: allocated regions' buffers by bus address until their BUFFER_FREE,
    // attached regions' buffers by token until their detach. Both under their own lock.
    private readonly Dictionary<ulong, DmaRegion> _allocBuffers = [];
    private readonly Dictionary<ulong, DmaRegion> _attachBuffers = [];

    private readonly IsmDeviceSettings _settings;
    private long _eventBuffersUsed;

    private IsmDevice(VirtioTransport transport, VirtioQueue control, VirtioQueue events, IsmDeviceSettings settings)
    {
        _transport = transport;
        _control = control;
        _events = events;
        _settings = settings;
        DeviceMemory = settings.DeviceMemory;
        Span<byte> cdid = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(cdid, transport.ReadDeviceConfig64((int)IsmConfig.CdidHi.Offset));
        BinaryPrimitives.WriteUInt64BigEndian(cdid[8..], transport.ReadDeviceConfig64((int)IsmConfig.CdidLo.Offset));
        Cdid = new Guid(cdid, bigEndian: true);
        DevId = transport.ReadDeviceConfig64((int)IsmConfig.Devid.Offset);
        ChunkSize = transport.ReadDeviceConfig64((int)IsmConfig.ChunkSize.Offset);
        NotifySize = transport.ReadDeviceConfig64((int)IsmConfig.NotifySize.Offset);
        Regions = transport.GetSharedMemoryRegion(IsmWire.ShmIdRegions);
        Notify = transport.GetSharedMemoryRegion(IsmWire.ShmIdNotify);
    }

    public VirtioTransport Transport => _transport;

    /// <summary>The communication domain id.</summary>
    public Guid Cdid { get; }

    /// <summary>This device's id in its domain.</summary>
    public ulong DevId { get; }

    public ulong ChunkSize { get; }

    public ulong NotifySize { get; }

    /// <summary>Whether VIRTIO_ISM_F_DEV_MEM was negotiated: regions in device memory rather than in buffers of this driver.</summary>
    public bool DeviceMemory { get; }

    /// <summary>The device memory regions are mapped into (shmid 1).</summary>
    public VirtioSharedMemoryRegion Regions { get; }

    /// <summary>The notify-addresses (shmid 2).</summary>
    public VirtioSharedMemoryRegion Notify { get; }

    /// <summary>Brings up the device behind <paramref name="transport"/> with VIRTIO_ISM_F_DEV_MEM; see <see cref="OpenAsync(VirtioTransport, IsmDeviceSettings, CancellationToken)"/>.</summary>
    /// <exception cref="VirtioException">The device is not virtio-ism, or does not provide the region memory itself.</exception>
    public static Task<IsmDevice> OpenAsync(VirtioTransport transport, CancellationToken cancellationToken = default) =>
        OpenAsync(transport, new IsmDeviceSettings(), cancellationToken);

    /// <summary>
    /// Brings up the device behind <paramref name="transport"/>: features (VIRTIO_ISM_F_DEV_MEM
    /// required, or left off, as <paramref name="settings"/> say), both queues, interrupts,
    /// DRIVER_OK, eventq buffers. The device owns the transport from then on and disposes it.
    /// </summary>
    /// <exception cref="VirtioException">The device is not virtio-ism, or does not provide the region memory itself when the settings ask for it.</exception>
    public static async Task<IsmDevice> OpenAsync(VirtioTransport transport, IsmDeviceSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.EventBuffers);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.EventBufferSize, IsmWire.MaxEventSize);
        if (transport.DeviceType != IsmWire.DeviceId)
        {
            throw new VirtioException($"{transport.Location} is virtio device {transport.DeviceType}, not virtio-ism ({IsmWire.DeviceId})");
        }

        ulong wanted = settings.DeviceMemory ? 1UL << IsmWire.FeatureDevMem : 0;
        ulong features = await transport.InitializeAsync(wanted, cancellationToken).ConfigureAwait(false);
        if ((features & wanted) != wanted)
        {
            transport.Fail();
            throw new VirtioException($"{transport.Location}: the device does not offer VIRTIO_ISM_F_DEV_MEM, which this driver needs");
        }

        VirtioQueue control = transport.SetupQueue(0);
        VirtioQueue events = transport.SetupQueue(1);

        // The event loop never blocks: a returned eventq buffer goes on to the waiters on the interrupt's thread.
        events.Virtqueue.InlineCompletions = true;
        var device = new IsmDevice(transport, control, events, settings);
        transport.DeviceNeedsReset += (_, _) => device.OnNeedsReset();
        device._workers.Add(transport.RunInterruptsAsync(device._stop.Token));
        transport.DriverOk();
        device._workers.Add(device.ReceiveEventsAsync(device._stop.Token));

        return device;
    }

    /// <summary>
    /// Allocates a region of at least <paramref name="size"/> bytes (VIRTIO_ISM_CTRL_ALLOC_REGION);
    /// this device has it mapped. Without DEV_MEM the region is a buffer of <paramref name="size"/>
    /// bytes of platform DMA memory, kept until the device's BUFFER_FREE event.
    /// </summary>
    public async Task<IsmRegion> AllocateAsync(ulong size, CancellationToken cancellationToken = default)
    {
        if (DeviceMemory)
        {
            var request = new byte[2 + 8];
            request[0] = IsmWire.ClassAlloc;
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2), size);
            (ulong token, ulong[] chunks) = await ChunkCommandAsync(request, "alloc", cancellationToken).ConfigureAwait(false);
            return new IsmRegion(this, token, size, chunks);
        }

        DmaRegion buffer = AllocateBuffer(size);
        try
        {
            var request = new byte[2 + 16];
            request[0] = IsmWire.ClassAlloc;
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2), size);
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(10), buffer.BusAddress);
            (ulong token, ulong[] chunks) = await ChunkCommandAsync(request, "alloc", cancellationToken).ConfigureAwait(false);
            lock (_allocBuffers)
            {
                _allocBuffers.Add(buffer.BusAddress, buffer);
            }

            return new IsmRegion(this, token, size, chunks);
        }
        catch
        {
            // Refused: the device did not take the buffer.
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Buffers of allocated regions that wait for their BUFFER_FREE event (without DEV_MEM).</summary>
    public int PendingBuffers
    {
        get
        {
            lock (_allocBuffers)
            {
                return _allocBuffers.Count;
            }
        }
    }

    /// <summary>Size of the region and this device's permissions on it (VIRTIO_ISM_CTRL_QUERY_INFO).</summary>
    public async Task<(ulong Size, IsmPermissions Permissions)> QueryAsync(ulong token, CancellationToken cancellationToken = default)
    {
        var request = new byte[2 + 8];
        request[0] = IsmWire.ClassQuery;
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2), token);
        byte[] reply = await CommandAsync(request, 1 + 16, "query", cancellationToken).ConfigureAwait(false);
        return (BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(1)), (IsmPermissions)BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(9)));
    }

    /// <summary>
    /// Maps the region of <paramref name="token"/> with <paramref name="access"/> (read, write or
    /// both) (VIRTIO_ISM_CTRL_ATTACH_REGION). Without DEV_MEM the region's size is queried first and
    /// a buffer of that size passed along, as the specification asks; it is freed after the detach.
    /// </summary>
    public async Task<IsmRegion> AttachAsync(ulong token, IsmPermissions access = IsmPermissions.Read | IsmPermissions.Write, CancellationToken cancellationToken = default)
    {
        DmaRegion? buffer = DeviceMemory ? null : AllocateBuffer((await QueryAsync(token, cancellationToken).ConfigureAwait(false)).Size);
        try
        {
            var request = new byte[2 + (buffer is null ? 16 : 24)];
            request[0] = IsmWire.ClassAttach;
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2), token);
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(10), (ulong)access);
            if (buffer is not null)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(18), buffer.BusAddress);
            }

            (ulong size, ulong[] chunks) = await ChunkCommandAsync(request, "attach", cancellationToken).ConfigureAwait(false);
            if (buffer is not null)
            {
                lock (_attachBuffers)
                {
                    _attachBuffers.Add(token, buffer);
                }
            }

            return new IsmRegion(this, token, size, chunks);
        }
        catch
        {
            buffer?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Drops this device's reference to the region (VIRTIO_ISM_CTRL_DETACH_REGION); the last one
    /// frees it. The buffer an attach without DEV_MEM passed is freed now; an allocated region's
    /// buffer waits for BUFFER_FREE.
    /// </summary>
    public async Task DetachAsync(ulong token, CancellationToken cancellationToken = default)
    {
        await SimpleCommandAsync(IsmWire.ClassDetach, 0, "detach", cancellationToken, token).ConfigureAwait(false);
        DmaRegion? buffer;
        lock (_attachBuffers)
        {
            _attachBuffers.Remove(token, out buffer);
        }

        buffer?.Dispose();
    }

    /// <summary>Sets the permissions every device without dedicated ones has (VIRTIO_ISM_CTRL_GRANT_SET_DEFAULT).</summary>
    public Task GrantDefaultAsync(ulong token, IsmPermissions permissions, CancellationToken cancellationToken = default) =>
        SimpleCommandAsync(IsmWire.ClassGrant, IsmWire.GrantSetDefault, "grant", cancellationToken, token, (ulong)permissions);

    /// <summary>Sets the dedicated permissions of device <paramref name="peerDevId"/> (VIRTIO_ISM_CTRL_GRANT_SET_FOR_DEVICE).</summary>
    public Task GrantAsync(ulong token, ulong peerDevId, IsmPermissions permissions, CancellationToken cancellationToken = default) =>
        SimpleCommandAsync(IsmWire.ClassGrant, IsmWire.GrantSetForDevice, "grant", cancellationToken, token, (ulong)permissions, peerDevId);

    /// <summary>Sends the region's update events to MSI-X vector <paramref name="vector"/> instead of the eventq (VIRTIO_ISM_CTRL_EVENT_VECTOR_SET).</summary>
    public Task SetEventVectorAsync(ulong token, ushort vector, CancellationToken cancellationToken = default) =>
        SimpleCommandAsync(IsmWire.ClassEventVector, 0, "event vector", cancellationToken, token, vector);

    /// <summary>
    /// Sends the UPDATE events of region <paramref name="token"/> to an MSI-X entry of their own
    /// (VIRTIO_ISM_CTRL_EVENT_VECTOR_SET): a free entry of the table (neither the configuration's,
    /// entry 0, nor a queue's, nor another region's) is pointed at a new platform vector, then the
    /// device is told. Await the interrupts on the returned object; dispose it to unbind.
    /// </summary>
    /// <exception cref="InvalidOperationException">The transport has no MSI-X, or every entry is taken.</exception>
    /// <exception cref="IsmException">The device refused (ENOENT: this device has no such region attached).</exception>
    public async Task<IsmUpdateVector> BindUpdateVectorAsync(ulong token, CancellationToken cancellationToken = default)
    {
        if (_transport is not VirtioPciTransport { Msix: { } msix } pci)
        {
            throw new InvalidOperationException($"{_transport.Location} has no MSI-X table to bind a region's updates to");
        }

        ushort entry;
        lock (_updateEntries)
        {
            entry = ushort.MaxValue;
            for (int candidate = msix.TableSize - 1; candidate > 0; candidate--)
            {
                if (candidate != _control.MsixEntry && candidate != _events.MsixEntry && !_updateEntries.Contains((ushort)candidate))
                {
                    entry = (ushort)candidate;
                    break;
                }
            }

            if (entry == ushort.MaxValue || !_updateEntries.Add(entry))
            {
                throw new InvalidOperationException($"{_transport.Location}: every MSI-X entry is taken");
            }
        }

        MsiVector vector = pci.Platform.AllocateMsiVector();
        try
        {
            msix.Connect(entry, vector);
            await SetEventVectorAsync(token, entry, cancellationToken).ConfigureAwait(false);
            return new IsmUpdateVector(this, token, entry, vector);
        }
        catch
        {
            msix.Mask(entry);
            vector.Dispose();
            lock (_updateEntries)
            {
                _updateEntries.Remove(entry);
            }

            throw;
        }
    }

    /// <summary>
    /// Sends one raw command: <paramref name="request"/> is class, command and data; the device
    /// writes the ack and its reply into <paramref name="replyLength"/> bytes. Returns the ack and
    /// the reply buffer, without judging the ack.
    /// </summary>
    public async Task<(IsmAck Ack, byte[] Reply)> SendAsync(ReadOnlyMemory<byte> request, int replyLength, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replyLength, 1);
        var reply = new byte[replyLength];
        await _commandLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            UsedBuffer used;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                deadline.CancelAfter(_settings.CommandTimeout);
                try
                {
                    used = await _control.SubmitAsync([request], [reply], deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new IsmException(IsmAck.Error,
                        $"{_transport.Location}: the device did not answer the command within {_settings.CommandTimeout.TotalSeconds:0.#} s");
                }
            }

            if (used.Length < 1)
            {
                throw new IsmException(IsmAck.Error, $"{_transport.Location}: the device returned a command without an ack");
            }
        }
        finally
        {
            _commandLock.Release();
        }

        return ((IsmAck)reply[0], reply);
    }

    /// <summary>Events as the device sends them, until <paramref name="cancellationToken"/> fires or the device is disposed.</summary>
    public async IAsyncEnumerable<IsmEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await _received.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_received.Reader.TryRead(out IsmEvent ev))
            {
                yield return ev;
            }
        }
    }

    /// <summary>An event already received, without waiting; false when none is waiting.</summary>
    public bool TryReadEvent(out IsmEvent ev) => _received.Reader.TryRead(out ev);

    /// <summary>Eventq buffers the device has returned so far (each may hold several events).</summary>
    public long EventBuffersUsed => Interlocked.Read(ref _eventBuffersUsed);

    /// <summary>The next event that matches <paramref name="match"/>; events before it are consumed.</summary>
    /// <remarks>
    /// An awaiter that was waiting goes on on the thread that received the event, until its next
    /// await; the device's next events wait for it meanwhile, so it should not block there.
    /// </remarks>
    public async Task<IsmEvent> WaitForEventAsync(Func<IsmEvent, bool> match, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(match);
        await foreach (IsmEvent ev in ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (match(ev))
            {
                return ev;
            }
        }

        throw new OperationCanceledException(cancellationToken);
    }

    /// <summary>Stops the event and interrupt loops, then resets the device and releases the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        foreach (Task worker in _workers)
        {
            await worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _received.Writer.TryComplete();
        _stop.Dispose();
        _commandLock.Dispose();

        // The reset detached this device from every region, so no slot of it maps an attach buffer.
        lock (_attachBuffers)
        {
            foreach (DmaRegion buffer in _attachBuffers.Values)
            {
                buffer.Dispose();
            }

            _attachBuffers.Clear();
        }
    }

    /// <summary>A page-aligned buffer of platform DMA memory for a region of <paramref name="size"/> bytes.</summary>
    private DmaRegion AllocateBuffer(ulong size)
    {
        if (size == 0 || size > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"{_transport.Location}: a region in driver memory needs 1 to {int.MaxValue} bytes");
        }

        return _transport.Platform.AllocateDma((int)size, (int)IsmWire.BufferAlignment);
    }

    /// <summary>The device is done with an allocated region's buffer: it is freed, then the event is handed on.</summary>
    private void OnBufferFree(ulong busAddress)
    {
        DmaRegion? buffer;
        lock (_allocBuffers)
        {
            _allocBuffers.Remove(busAddress, out buffer);
        }

        buffer?.Dispose();
        _received.Writer.TryWrite(new IsmEvent(IsmEventType.BufferFree, 0, 0, 0, busAddress));
    }

    /// <summary>Gives a bound region's updates back to the eventq (unless it is detached already) and frees the entry.</summary>
    internal async Task ReleaseUpdateVectorAsync(IsmUpdateVector bound)
    {
        try
        {
            // Once the device is closed its table is gone with it; only the bookkeeping is left.
            if (!_stop.IsCancellationRequested)
            {
                await SetEventVectorAsync(bound.Token, NoVector).ConfigureAwait(false);
                ((VirtioPciTransport)_transport).Msix!.Mask(bound.Entry);
            }
        }
        catch (IsmNoEntryException)
        {
            // The region was detached: nothing is bound any more.
            ((VirtioPciTransport)_transport).Msix!.Mask(bound.Entry);
        }
        finally
        {
            lock (_updateEntries)
            {
                _updateEntries.Remove(bound.Entry);
            }
        }
    }

    /// <summary>The device set DEVICE_NEEDS_RESET: event readers end with the error, and so does any command it refuses from now on.</summary>
    private void OnNeedsReset() => _received.Writer.TryComplete(NeedsResetError());

    private IsmDeviceNeedsResetException NeedsResetError() =>
        new($"{_transport.Location} reports DEVICE_NEEDS_RESET: its domain is gone or it lost events, and its regions with it; reopen the device");

    internal void Kick(ulong firstChunkOffset) =>
        Notify.Write32(firstChunkOffset / ChunkSize * NotifySize, 1);

    private async Task<byte[]> CommandAsync(byte[] request, int replyLength, string name, CancellationToken cancellationToken)
    {
        (IsmAck ack, byte[] reply) = await SendAsync(request, replyLength, cancellationToken).ConfigureAwait(false);
        return ack == IsmAck.Ok ? reply : throw Refused(ack, name);
    }

    /// <summary>The exception for a refused command: a device that needs a reset says so rather than its ack.</summary>
    private IsmException Refused(IsmAck ack, string name) =>
        ack == IsmAck.Error && _transport.NeedsReset ? NeedsResetError() : IsmException.FromAck(ack, name);

    private async Task SimpleCommandAsync(byte cls, byte command, string name, CancellationToken cancellationToken, params ulong[] fields)
    {
        var request = new byte[2 + (8 * fields.Length)];
        request[0] = cls;
        request[1] = command;
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2 + (8 * i)), fields[i]);
        }

        await CommandAsync(request, 1, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A command whose reply is a word, num and the chunk offsets; on E2BIG it asks again with room for the num the device gave.</summary>
    private async Task<(ulong First, ulong[] Chunks)> ChunkCommandAsync(byte[] request, string name, CancellationToken cancellationToken)
    {
        ulong room = InitialChunkRoom;
        while (true)
        {
            (IsmAck ack, byte[] reply) = await SendAsync(request, 1 + IsmWire.ChunkReplyHeaderSize + (int)(8 * room), cancellationToken).ConfigureAwait(false);
            ulong num = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(9));
            if (ack == IsmAck.TooBig && num > room)
            {
                room = num;
                continue;
            }

            if (ack != IsmAck.Ok)
            {
                throw Refused(ack, name);
            }

            var chunks = new ulong[num];
            for (int i = 0; i < chunks.Length; i++)
            {
                chunks[i] = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(1 + IsmWire.ChunkReplyHeaderSize + (8 * i)));
            }

            return (BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(1)), chunks);
        }
    }

    /// <summary>
    /// Keeps <see cref="IsmDeviceSettings.EventBuffers"/> eventq buffers posted and turns what comes
    /// back into events, every event a buffer holds, in the order the device used the buffers: the
    /// device fills them in the order they were made available, so they are awaited oldest first
    /// and each is posted again at the tail.
    /// </summary>
    private async Task ReceiveEventsAsync(CancellationToken cancellationToken)
    {
        var posted = new Queue<(byte[] Buffer, Task<UsedBuffer> Used)>();
        for (int i = 0; i < _settings.EventBuffers; i++)
        {
            var buffer = new byte[_settings.EventBufferSize];
            posted.Enqueue((buffer, _events.SubmitAsync([], [buffer], cancellationToken).AsTask()));
        }

        var decoded = new List<IsmEvent>();
        while (!cancellationToken.IsCancellationRequested && posted.Count > 0)
        {
            (byte[] buffer, Task<UsedBuffer> pending) = posted.Dequeue();
            UsedBuffer used;
            try
            {
                used = await pending.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            decoded.Clear();
            IsmEvent.Parse(buffer.AsSpan(0, (int)Math.Min(used.Length, (uint)buffer.Length)), decoded);
            Interlocked.Increment(ref _eventBuffersUsed);
            foreach (IsmEvent ev in decoded)
            {
                if (ev.Type == IsmEventType.BufferFree)
                {
                    OnBufferFree(ev.Buffer);
                }
                else
                {
                    _received.Writer.TryWrite(ev);
                }
            }

            posted.Enqueue((buffer, _events.SubmitAsync([], [buffer], cancellationToken).AsTask()));
        }
    }
}
