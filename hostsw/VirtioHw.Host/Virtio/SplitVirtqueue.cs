using System.Diagnostics;
using VirtioHw.Host.Platforms;
using static VirtioHw.Wire.SplitRing;

namespace VirtioHw.Host.Virtio;

/// <summary>
/// The driver side of a virtio 1.x split virtqueue: descriptor table, available ring and used
/// ring in DMA memory of a <see cref="Platform"/>, with the buffers of each submission staged in
/// DMA memory the queue owns.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="SubmitAsync"/> copies the device-readable buffers into staging memory, makes the
/// chain available and notifies the device through the transport's <see cref="IQueueNotifier"/>
/// when the device asks for it. <see cref="ProcessUsed"/>, called from an interrupt loop or a
/// polling loop, takes the chains the device returned, copies what it wrote back into the
/// caller's buffers and completes the submissions in used-ring order.
/// </para>
/// <para>
/// All members are thread-safe. The device may run concurrently on another thread (a model), on
/// another processor or in hardware; the memory barriers below order the shared ring accesses.
/// </para>
/// </remarks>
public sealed class SplitVirtqueue : IDisposable
{
    // The ring layout is SplitRing's (VirtioHw.Wire).

    // The specification asks 4-byte alignment of the used ring; a cache line keeps the
    // device-written used ring off the line holding the driver-written available ring.
    private const int UsedRingAlignment = 64;

    // Half the 16-bit index space: a used_event this far ahead of the last used index is one the
    // device cannot reach with at most 32768 chains outstanding, so it sends no interrupt.
    private const ushort FarAhead = 0x8000;

    private readonly IQueueNotifier _notifier;
    private readonly DmaRegion _ring;
    private readonly DmaRegion _staging;
    private readonly StagingAllocator _allocator;
    private readonly Lock _sync = new();
    private readonly int _availableOffset;
    private readonly int _usedOffset;

    // Free list, threaded through the descriptors as the device will see them: _next[d] is the
    // descriptor after d, both in the free list and in a chain taken from it.
    // Invariant: _freeCount descriptors are reachable from _freeHead.
    private readonly ushort[] _next;

    // By head descriptor: the outstanding submission and how many table descriptors it holds.
    private readonly VirtqueueRequest?[] _inFlight;
    private readonly ushort[] _chainDescriptors;

    private readonly LinkedList<VirtqueueRequest> _waiting = new();
    private readonly Stack<VirtqueueRequest> _pool = new();

    // Requests ProcessUsed completed and signals after its lock; kept between calls (null while in use).
    private List<VirtqueueRequest>? _completedScratch = [];

    private ushort _freeHead;
    private int _freeCount;
    private int _inFlightCount;
    private ushort _availableIndex;
    private ushort _publishedIndex;
    private ushort _lastUsedIndex;
    private bool _usedNotifications = true;
    private bool _disposed;

    /// <summary>
    /// Allocates the rings and the staging memory from <paramref name="platform"/>. The queue owns
    /// that memory and frees it on <see cref="Dispose"/>; it does not own the platform or the notifier.
    /// </summary>
    public SplitVirtqueue(Platform platform, SplitVirtqueueOptions options, IQueueNotifier notifier)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(notifier);
        Options = options;
        _notifier = notifier;

        int size = options.Size;
        _availableOffset = DescriptorSize * size;
        int availableEnd = _availableOffset + DriverAreaSize(size);
        _usedOffset = (availableEnd + UsedRingAlignment - 1) & ~(UsedRingAlignment - 1);
        int usedEnd = _usedOffset + DeviceAreaSize(size);

        _ring = platform.AllocateDma(usedEnd);
        try
        {
            _staging = platform.AllocateDma(options.StagingBytes);
        }
        catch
        {
            _ring.Dispose();
            throw;
        }

        _allocator = new StagingAllocator(_staging.Length);
        _next = new ushort[size];
        _inFlight = new VirtqueueRequest?[size];
        _chainDescriptors = new ushort[size];
        InitializeLocked();
    }

    public SplitVirtqueueOptions Options { get; }

    /// <summary>The queue's index on its device.</summary>
    public ushort Index => Options.QueueIndex;

    /// <summary>Number of descriptors.</summary>
    public int Size => Options.Size;

    /// <summary>Bus address of the descriptor table, for the transport to program.</summary>
    public ulong DescriptorTableAddress => _ring.BusAddress;

    /// <summary>Bus address of the available ring (the driver area).</summary>
    public ulong DriverAreaAddress => _ring.BusAddress + (ulong)_availableOffset;

    /// <summary>Bus address of the used ring (the device area).</summary>
    public ulong DeviceAreaAddress => _ring.BusAddress + (ulong)_usedOffset;

    /// <summary>The available index as last published to the device.</summary>
    public ushort AvailableIndex
    {
        get
        {
            lock (_sync)
            {
                return _publishedIndex;
            }
        }
    }

    /// <summary>Descriptors in the table not used by any outstanding chain.</summary>
    public int FreeDescriptors
    {
        get
        {
            lock (_sync)
            {
                return _freeCount;
            }
        }
    }

    /// <summary>Submissions made available and not yet returned by the device.</summary>
    public int InFlight
    {
        get
        {
            lock (_sync)
            {
                return _inFlightCount;
            }
        }
    }

    /// <summary>Submissions waiting for descriptors or staging memory.</summary>
    public int Waiting
    {
        get
        {
            lock (_sync)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>
    /// Whether a submission the device returned completes its caller on the thread that runs
    /// <see cref="ProcessUsed"/> (the queue's interrupt handling), once the queue's lock is released,
    /// instead of on the thread pool: no thread hand-off between the interrupt and the caller, for a
    /// caller that never blocks there (a driver's event loop; the queue's next completions wait for it).
    /// </summary>
    public bool InlineCompletions { get; set; }

    /// <summary>
    /// Hands buffers to the device as one descriptor chain: first the device-readable
    /// <paramref name="outBuffers"/>, copied now, then the device-writable
    /// <paramref name="inBuffers"/>, into which the device's bytes are copied on completion.
    /// </summary>
    /// <returns>
    /// Completes when <see cref="ProcessUsed"/> sees the device return the chain. While the ring or
    /// the staging memory is full the submission waits its turn rather than failing.
    /// </returns>
    /// <remarks>
    /// Cancelling a submission the device already holds completes the caller at once; the
    /// device's bytes are then dropped, never copied into <paramref name="inBuffers"/>.
    /// Outstanding submissions fail with <see cref="VirtqueueResetException"/> on <see cref="Reset"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// No buffers, an empty buffer, more buffers than the queue size, or more bytes than the
    /// staging memory holds.
    /// </exception>
    public ValueTask<UsedBuffer> SubmitAsync(
        ReadOnlySpan<ReadOnlyMemory<byte>> outBuffers,
        ReadOnlySpan<Memory<byte>> inBuffers,
        CancellationToken cancellationToken = default)
    {
        int count = outBuffers.Length + inBuffers.Length;
        if (count == 0)
        {
            ThrowHelper.ThrowNoBuffers();
        }

        if (count > Size)
        {
            ThrowHelper.ThrowChainTooLong(count, Size);
        }

        long outBytes = 0;
        for (int i = 0; i < outBuffers.Length; i++)
        {
            if (outBuffers[i].IsEmpty)
            {
                ThrowHelper.ThrowEmptyBuffer("out", i);
            }

            outBytes += outBuffers[i].Length;
        }

        long inBytes = 0;
        for (int i = 0; i < inBuffers.Length; i++)
        {
            if (inBuffers[i].IsEmpty)
            {
                ThrowHelper.ThrowEmptyBuffer("in", i);
            }

            inBytes += inBuffers[i].Length;
        }

        long tableBytes = Options.IndirectDescriptors && count > 1 ? (long)DescriptorSize * count : 0;
        long needed = StagingAllocator.RoundUp(outBytes + inBytes + tableBytes);
        if (needed > _allocator.Capacity)
        {
            ThrowHelper.ThrowTooLargeForStaging(needed, _allocator.Capacity);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<UsedBuffer>(cancellationToken);
        }

        VirtqueueRequest request;
        short version;
        bool notify = false;
        lock (_sync)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowDisposed();
            }

            request = _pool.Count > 0 ? _pool.Pop() : new VirtqueueRequest(this);
            request.Start(outBuffers.Length, inBuffers, (int)outBytes, (int)inBytes);
            version = request.Version;

            // Registered before the request is queued anywhere: a token cancelled in between
            // completes it here, and the request then goes nowhere.
            request.WatchCancellation(cancellationToken);
            if (request.Completed)
            {
                ReleaseHolderLocked(request);
            }
            else if (_waiting.Count == 0 && TryStageLocked(request, outBuffers))
            {
                notify = PublishLocked();
            }
            else
            {
                request.KeepOutBuffers(outBuffers);
                request.State = RequestState.Waiting;
                _waiting.AddLast(request.WaitNode);
            }
        }

        if (notify)
        {
            _notifier.Notify(this);
        }

        return new ValueTask<UsedBuffer>(request, version);
    }

    /// <summary>
    /// Takes every chain the device has returned, copies the device's bytes back and completes the
    /// submissions in used-ring order; then stages waiting submissions into the freed room. With
    /// used-buffer notifications enabled it re-arms them and looks once more, so a chain returned
    /// meanwhile is not left waiting for an interrupt that will not come.
    /// </summary>
    /// <returns>How many chains were taken.</returns>
    /// <exception cref="InvalidOperationException">The device broke the ring protocol.</exception>
    public int ProcessUsed()
    {
        int processed = 0;
        bool notify;

        // With inline completions, callers are signalled after the lock and go on on this thread
        // without holding it. A list of its own when this thread is already signalling.
        List<VirtqueueRequest> completed = Interlocked.Exchange(ref _completedScratch, null) ?? [];
        lock (_sync)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowDisposed();
            }

            while (true)
            {
                ushort usedIndex = _ring.ReadUInt16(_usedOffset + IndexOffset);

                // Barrier: the entries below must be read after the index that covers them, or a
                // stale entry could be taken for one the device has just written.
                Interlocked.MemoryBarrier();
                if ((ushort)(usedIndex - _lastUsedIndex) > _inFlightCount)
                {
                    ThrowHelper.ThrowUsedIndexAhead(Index, usedIndex, _lastUsedIndex, _inFlightCount);
                }

                while (_lastUsedIndex != usedIndex)
                {
                    CompleteLocked(_lastUsedIndex & (Size - 1), completed);
                    _lastUsedIndex++;
                    processed++;
                }

                if (!Options.EventIndex)
                {
                    break;
                }

                // used_event moves with the last used index, whether it asks for the next
                // interrupt or keeps interrupts away.
                WriteUsedNotificationHintLocked();
                if (!_usedNotifications)
                {
                    break;
                }

                // Barrier: the new used_event must reach the device before the index is read again.
                // Otherwise a chain returned in between, by a device that still saw the old
                // used_event and so sent no interrupt, would be missed here as well.
                Interlocked.MemoryBarrier();
                if (_ring.ReadUInt16(_usedOffset + IndexOffset) == _lastUsedIndex)
                {
                    break;
                }
            }

            notify = StageWaitingLocked() && PublishLocked();
        }

        if (notify)
        {
            _notifier.Notify(this);
        }

        try
        {
            foreach (VirtqueueRequest request in completed)
            {
                request.Signal();
            }
        }
        finally
        {
            completed.Clear();
            _completedScratch = completed;
        }

        return processed;
    }

    /// <summary>
    /// Asks the device not to interrupt for returned chains, for a driver that polls
    /// <see cref="ProcessUsed"/>. A hint: the device may still interrupt.
    /// </summary>
    public void DisableUsedNotifications()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowDisposed();
            }

            _usedNotifications = false;
            WriteUsedNotificationHintLocked();
        }
    }

    /// <summary>Asks the device to interrupt again when it returns a chain.</summary>
    /// <returns>
    /// True when chains came back while notifications were off: call <see cref="ProcessUsed"/>
    /// rather than wait, since no interrupt will announce them.
    /// </returns>
    public bool EnableUsedNotifications()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowDisposed();
            }

            _usedNotifications = true;
            WriteUsedNotificationHintLocked();

            // Barrier: the request for interrupts must be visible before the index is checked, the
            // same race as in ProcessUsed.
            Interlocked.MemoryBarrier();
            return _ring.ReadUInt16(_usedOffset + IndexOffset) != _lastUsedIndex;
        }
    }

    /// <summary>
    /// The driver's half of a queue reset, called once the transport has reset the queue on the
    /// device (so the device no longer touches the rings): every outstanding submission fails
    /// with <see cref="VirtqueueResetException"/>, and the rings start over empty at the same
    /// addresses, ready to be enabled again.
    /// </summary>
    public void Reset()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowDisposed();
            }

            FailOutstandingLocked(disposing: false);
            InitializeLocked();
        }
    }

    /// <summary>
    /// Fails outstanding submissions with <see cref="ObjectDisposedException"/> and frees the DMA
    /// memory. The device must no longer use the queue.
    /// </summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            FailOutstandingLocked(disposing: true);
            _pool.Clear();
        }

        _ring.Dispose();
        _staging.Dispose();
    }

    /// <summary>Called by a request whose cancellation token fired.</summary>
    internal void Cancel(VirtqueueRequest request, CancellationToken token)
    {
        bool notify = false;
        lock (_sync)
        {
            if (request.Completed)
            {
                return;
            }

            request.SetException(new OperationCanceledException(token));
            if (request.State == RequestState.Waiting)
            {
                _waiting.Remove(request.WaitNode);
                request.ForgetOutBuffers();
                request.State = RequestState.Idle;
                ReleaseHolderLocked(request);

                // It may have been what held the others back.
                notify = !_disposed && StageWaitingLocked() && PublishLocked();
            }

            // In flight, the device still owns its descriptors; ProcessUsed frees them.
        }

        if (notify)
        {
            _notifier.Notify(this);
        }
    }

    /// <summary>Called by a request whose caller has taken the result.</summary>
    internal void ReleaseHolder(VirtqueueRequest request)
    {
        if (request.Release())
        {
            lock (_sync)
            {
                RecycleLocked(request);
            }
        }
    }

    private void ReleaseHolderLocked(VirtqueueRequest request)
    {
        if (request.Release())
        {
            RecycleLocked(request);
        }
    }

    private void RecycleLocked(VirtqueueRequest request)
    {
        if (request.Recyclable && !_disposed && _pool.Count < Size)
        {
            request.Recycle();
            _pool.Push(request);
        }
    }

    /// <summary>Empty rings, all descriptors and staging memory free, indices at zero.</summary>
    private void InitializeLocked()
    {
        _ring.Clear(0, _ring.Length);
        for (int d = 0; d < Size; d++)
        {
            _next[d] = (ushort)(d + 1);
        }

        _freeHead = 0;
        _freeCount = Size;
        _inFlightCount = 0;
        _availableIndex = 0;
        _publishedIndex = 0;
        _lastUsedIndex = 0;
        _allocator.Reset();
        WriteUsedNotificationHintLocked();
    }

    /// <summary>
    /// Writes the request's buffers and descriptors and adds its head to the available ring, not
    /// yet published; false, changing nothing, when descriptors or staging memory are short.
    /// </summary>
    private bool TryStageLocked(VirtqueueRequest request, ReadOnlySpan<ReadOnlyMemory<byte>> outBuffers)
    {
        int count = request.OutCount + request.InCount;
        bool indirect = Options.IndirectDescriptors && count > 1
            && (count > Options.IndirectThreshold || count > _freeCount);
        int descriptors = indirect ? 1 : count;
        int tableBytes = indirect ? DescriptorSize * count : 0;
        int stagingLength = tableBytes + request.OutBytes + request.InBytes;
        if (_freeCount < descriptors || !_allocator.TryAllocate(stagingLength, out int block))
        {
            return false;
        }

        // Staging range: [indirect table][out bytes, one buffer after another][in bytes, likewise].
        int position = block + tableBytes;
        request.InOffset = block + tableBytes + request.OutBytes;
        ushort head = _freeHead;
        ushort descriptor = head;
        for (int i = 0; i < count; i++)
        {
            bool writable = i >= request.OutCount;
            int length;
            if (writable)
            {
                length = request.InBuffers[i - request.OutCount].Length;
            }
            else
            {
                ReadOnlySpan<byte> source = outBuffers[i].Span;
                _staging.Write(position, source);
                length = source.Length;
            }

            bool last = i == count - 1;
            ushort flags = (ushort)((writable ? DescriptorWrite : 0) | (last ? 0 : DescriptorNext));
            ulong address = _staging.BusAddress + (ulong)position;
            if (indirect)
            {
                WriteDescriptor(_staging, block + (DescriptorSize * i), address, length, flags, last ? (ushort)0 : (ushort)(i + 1));
            }
            else
            {
                ushort next = _next[descriptor];
                WriteDescriptor(_ring, DescriptorSize * descriptor, address, length, flags, last ? (ushort)0 : next);
                if (!last)
                {
                    descriptor = next;
                }
            }

            position += length;
        }

        if (indirect)
        {
            WriteDescriptor(_ring, DescriptorSize * head, _staging.BusAddress + (ulong)block, tableBytes, DescriptorIndirect, 0);
        }

        // descriptor is now the chain's last one (the head itself for an indirect table).
        _freeHead = _next[descriptor];
        _freeCount -= descriptors;
        _chainDescriptors[head] = (ushort)descriptors;
        Debug.Assert(_inFlight[head] is null, "a free descriptor headed an outstanding chain");
        _inFlight[head] = request;
        _inFlightCount++;
        request.State = RequestState.InFlight;
        request.StagingOffset = block;
        request.StagingLength = stagingLength;

        _ring.WriteUInt16(_availableOffset + AvailableEntryOffset(_availableIndex & (Size - 1)), head);
        _availableIndex++;
        return true;
    }

    /// <summary>Stages waiting submissions in order while they fit; true if any was staged.</summary>
    private bool StageWaitingLocked()
    {
        bool staged = false;
        while (_waiting.First is { } node && TryStageLocked(node.Value, node.Value.OutBuffers.AsSpan(0, node.Value.OutCount)))
        {
            _waiting.RemoveFirst();
            node.Value.ForgetOutBuffers();
            staged = true;
        }

        return staged;
    }

    /// <summary>
    /// Publishes the staged ring entries by moving the available index; true when the device
    /// asked to be notified of them (VIRTQ_USED_F_NO_NOTIFY clear, or with EVENT_IDX the new
    /// entries reach avail_event).
    /// </summary>
    private bool PublishLocked()
    {
        ushort old = _publishedIndex;
        ushort current = _availableIndex;
        if (old == current)
        {
            return false;
        }

        // Barrier: descriptors, staged bytes and ring entries must be visible to the device before
        // the index that hands them over.
        Interlocked.MemoryBarrier();
        _ring.WriteUInt16(_availableOffset + IndexOffset, current);
        _publishedIndex = current;

        // Barrier: the index store must come before the load of the device's suppression hint.
        // Were the load done first, a device going idle in between would be seen as not wanting a
        // notification and would sleep on a ring that has work.
        Interlocked.MemoryBarrier();
        if (Options.EventIndex)
        {
            ushort availEvent = _ring.ReadUInt16(_usedOffset + AvailableEventOffset(Size));
            return NeedsEvent(availEvent, current, old);
        }

        return (_ring.ReadUInt16(_usedOffset + FlagsOffset) & UsedNoNotify) == 0;
    }

    /// <summary>Takes the used-ring entry in <paramref name="slot"/> and completes its submission.</summary>
    private void CompleteLocked(int slot, List<VirtqueueRequest> completed)
    {
        int entry = _usedOffset + UsedEntryOffset(slot);
        uint id = _ring.ReadUInt32(entry);
        uint written = _ring.ReadUInt32(entry + sizeof(uint));
        if (id >= (uint)Size || _inFlight[id] is not { } request)
        {
            ThrowHelper.ThrowUnknownUsedId(Index, id);
            return;
        }

        ushort head = (ushort)id;
        _inFlight[head] = null;
        _inFlightCount--;
        FreeChainLocked(head);

        if (!request.Completed)
        {
            int length = (int)Math.Min(written, (uint)request.InBytes);
            CopyBackLocked(request, length);
            if (InlineCompletions)
            {
                request.Complete(new UsedBuffer(length));
                completed.Add(request);
            }
            else
            {
                request.SetResult(new UsedBuffer(length));
            }
        }

        _allocator.Free(request.StagingOffset, request.StagingLength);
        request.State = RequestState.Idle;
        ReleaseHolderLocked(request);
    }

    private void CopyBackLocked(VirtqueueRequest request, int length)
    {
        int position = request.InOffset;
        for (int i = 0; i < request.InCount && length > 0; i++)
        {
            Memory<byte> target = request.InBuffers[i];
            int part = Math.Min(length, target.Length);
            _staging.Read(position, target.Span[..part]);
            position += target.Length;
            length -= part;
        }
    }

    private void FreeChainLocked(ushort head)
    {
        ushort last = head;
        for (int i = 1; i < _chainDescriptors[head]; i++)
        {
            last = _next[last];
        }

        _next[last] = _freeHead;
        _freeHead = head;
        _freeCount += _chainDescriptors[head];
        Debug.Assert(_freeCount <= Size);
    }

    private void FailOutstandingLocked(bool disposing)
    {
        for (int head = 0; head < Size; head++)
        {
            if (_inFlight[head] is { } request)
            {
                _inFlight[head] = null;
                Fail(request);
            }
        }

        while (_waiting.First is { } node)
        {
            _waiting.RemoveFirst();
            node.Value.ForgetOutBuffers();
            Fail(node.Value);
        }

        void Fail(VirtqueueRequest request)
        {
            if (!request.Completed)
            {
                request.SetException(disposing
                    ? new ObjectDisposedException(nameof(SplitVirtqueue), $"virtqueue {Index} was disposed before the device returned this submission")
                    : new VirtqueueResetException(Index));
            }

            request.State = RequestState.Idle;
            ReleaseHolderLocked(request);
        }
    }

    /// <summary>
    /// used_event with EVENT_IDX (the last used index to be interrupted for the next chain, or
    /// <see cref="FarAhead"/> of it to keep interrupts away), else VIRTQ_AVAIL_F_NO_INTERRUPT.
    /// </summary>
    private void WriteUsedNotificationHintLocked()
    {
        if (Options.EventIndex)
        {
            ushort usedEvent = _usedNotifications ? _lastUsedIndex : (ushort)(_lastUsedIndex + FarAhead);
            _ring.WriteUInt16(_availableOffset + UsedEventOffset(Size), usedEvent);
        }
        else
        {
            _ring.WriteUInt16(_availableOffset + FlagsOffset, _usedNotifications ? (ushort)0 : AvailableNoInterrupt);
        }
    }

    private static void WriteDescriptor(DmaRegion region, int offset, ulong address, int length, ushort flags, ushort next)
    {
        region.WriteUInt64(offset + DescriptorAddressOffset, address);
        region.WriteUInt32(offset + DescriptorLengthOffset, (uint)length);
        region.WriteUInt16(offset + DescriptorFlagsOffset, flags);
        region.WriteUInt16(offset + DescriptorNextOffset, next);
    }

    /// <summary>
    /// The specification's vring_need_event: true when the entries from <paramref name="old"/> up
    /// to <paramref name="current"/> include the one at <paramref name="eventIndex"/>, in 16-bit
    /// wrapping arithmetic.
    /// </summary>
    private static bool NeedsEvent(ushort eventIndex, ushort current, ushort old) =>
        (ushort)(current - eventIndex - 1) < (ushort)(current - old);
}
