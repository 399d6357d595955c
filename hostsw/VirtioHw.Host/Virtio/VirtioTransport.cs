using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Host.Virtio;

/// <summary>
/// A virtio device as a driver sees it, whatever carries it: status, features, device
/// configuration, virtqueues, interrupts and shared memory regions. <see cref="VirtioPciTransport"/>
/// and <see cref="VirtioMmioTransport"/> implement the small abstract core; the initialization
/// sequence and the conveniences are written once here.
/// </summary>
/// <remarks>
/// <para>The usual sequence:</para>
/// <code>
/// await using var device = VirtioPciTransport.Open(function);
/// ulong features = await device.InitializeAsync(wantedFeatures, ct);  // reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK
/// VirtioQueue control = device.SetupQueue(0);
/// _ = device.RunInterruptsAsync(ct);
/// device.DriverOk();
/// </code>
/// <para>
/// Register accesses are not synchronized: one driver thread sets the device up; afterwards the
/// queues are thread-safe and the interrupt loop only touches them and the interrupt registers.
/// </para>
/// </remarks>
public abstract class VirtioTransport : IAsyncDisposable
{
    /// <summary>VIRTIO_MSI_NO_VECTOR: no MSI-X entry (the reset value of config_msix_vector).</summary>
    public const ushort NoVector = (ushort)VirtioCommonCfg.ConfigMsixVector.ResetValue;

    // Bits 0-23 and 50-63 belong to the device type and pass through negotiation untouched;
    // of the reserved bits 24-49 only those the transport implements are accepted.
    private const ulong DeviceTypeFeatureBits = 0xfffc_0000_00ff_ffffUL;

    // However short the reset timeout, a device gets this many looks before it is declared stuck.
    private const int MinimumPolls = 4;

    private readonly Lock _sync = new();
    private readonly List<VirtioQueue> _queues = [];
    private bool _disposed;

    /// <param name="platform">The platform the device is on; not owned.</param>
    /// <param name="options">Timeouts and retries; <see cref="VirtioTransportOptions.Default"/> when null.</param>
    protected VirtioTransport(Platform platform, VirtioTransportOptions? options)
    {
        ArgumentNullException.ThrowIfNull(platform);
        Platform = platform;
        Options = options ?? VirtioTransportOptions.Default;
    }

    /// <summary>Raised from the interrupt loop when the device signals a configuration change.</summary>
    public event EventHandler? ConfigurationChanged;

    /// <summary>
    /// Raised from the interrupt loop when a configuration change interrupt finds DEVICE_NEEDS_RESET
    /// set: the device stopped working and waits for the driver to reset it.
    /// </summary>
    public event EventHandler? DeviceNeedsReset;

    public Platform Platform { get; }

    public VirtioTransportOptions Options { get; }

    /// <summary>Where the device is, for messages: <c>00:01.0</c> or <c>virtio-mmio@0x...</c>.</summary>
    public abstract string Location { get; }

    /// <summary>The virtio device type (44 for ISM).</summary>
    public abstract int DeviceType { get; }

    /// <summary>Bytes of device-specific configuration, or -1 when the transport cannot tell.</summary>
    public abstract int DeviceConfigLength { get; }

    /// <summary>The configuration atomicity value, read from the device.</summary>
    public abstract uint ConfigGeneration { get; }

    /// <summary>The device's feature bits, as read by <see cref="InitializeAsync"/>.</summary>
    public ulong DeviceFeatures { get; private set; }

    /// <summary>The bits both sides accepted, after <see cref="InitializeAsync"/>.</summary>
    public ulong NegotiatedFeatures { get; private set; }

    /// <summary>The queues set up since the last reset.</summary>
    public IReadOnlyList<VirtioQueue> Queues
    {
        get
        {
            lock (_sync)
            {
                return [.. _queues];
            }
        }
    }

    /// <summary>
    /// The reserved feature bits (24-49) this transport implements; others are never accepted.
    /// </summary>
    protected virtual ulong TransportFeatures =>
        VirtioFeatures.Bit(VirtioFeatures.IndirectDescriptors) | VirtioFeatures.Bit(VirtioFeatures.EventIndex)
        | VirtioFeatures.Bit(VirtioFeatures.Version1) | VirtioFeatures.Bit(VirtioFeatures.AccessPlatform)
        | VirtioFeatures.Bit(VirtioFeatures.OrderPlatform) | VirtioFeatures.Bit(VirtioFeatures.RingReset);

    // ---- the abstract core: one register each ------------------------------------------------

    /// <summary>Reads the device status.</summary>
    public abstract VirtioStatus ReadStatus();

    /// <summary>Writes the device status as given (0 resets the device).</summary>
    protected abstract void WriteStatus(VirtioStatus status);

    /// <summary>Reads device feature bits 32*<paramref name="select"/> to 32*<paramref name="select"/>+31.</summary>
    protected abstract uint ReadDeviceFeatureWord(uint select);

    /// <summary>Writes driver feature bits 32*<paramref name="select"/> to 32*<paramref name="select"/>+31.</summary>
    protected abstract void WriteDriverFeatureWord(uint select, uint value);

    /// <summary>One access of 1, 2 or 4 bytes to the device configuration; bounds already checked.</summary>
    protected abstract uint ReadDeviceConfigCore(int offset, int width);

    /// <inheritdoc cref="ReadDeviceConfigCore"/>
    protected abstract void WriteDeviceConfigCore(int offset, int width, uint value);

    /// <summary>The largest size the device offers for queue <paramref name="index"/>; 0 when it has no such queue.</summary>
    protected abstract int ReadQueueMaxSize(ushort index);

    /// <summary>
    /// Creates the rings of queue <paramref name="index"/> with a notifier for this transport,
    /// connects its interrupt and enables it on the device.
    /// </summary>
    protected abstract VirtioQueue CreateQueue(ushort index, int deviceMaxSize, SplitVirtqueueOptions options);

    /// <summary>Programs an existing queue's rings and interrupt again and enables it (after a queue reset).</summary>
    protected abstract void EnableQueue(VirtioQueue queue);

    /// <summary>Asks the device to reset one queue (VIRTIO_F_RING_RESET).</summary>
    protected abstract void StartQueueReset(ushort index);

    /// <summary>True once the device reports the queue reset complete.</summary>
    protected abstract bool IsQueueResetComplete(ushort index);

    /// <summary>Lets the transport release what a queue held (its interrupt entry) when the queue goes away.</summary>
    protected virtual void OnQueueReleased(VirtioQueue queue)
    {
    }

    /// <summary>Runs after FEATURES_OK was accepted, before queues are set up (virtio-pci sets the config vector here).</summary>
    protected virtual void OnFeaturesAccepted()
    {
    }

    /// <summary>The device's shared memory regions, in shmid order; invalid ones are left out.</summary>
    public abstract IReadOnlyList<VirtioSharedMemoryRegion> GetSharedMemoryRegions();

    /// <summary>Finds the shared memory region <paramref name="id"/>; false when the device has none by that shmid.</summary>
    public abstract bool TryGetSharedMemoryRegion(byte id, [NotNullWhen(true)] out VirtioSharedMemoryRegion? region);

    /// <summary>
    /// Serves the device's interrupts until <paramref name="cancellationToken"/> fires: each used-buffer
    /// interrupt runs <see cref="SplitVirtqueue.ProcessUsed"/> on the queues it signals, each
    /// configuration interrupt raises <see cref="ConfigurationChanged"/>. Start it once the queues
    /// are set up; it ends when the token fires or the transport is disposed.
    /// </summary>
    public abstract Task RunInterruptsAsync(CancellationToken cancellationToken);

    // ---- conveniences --------------------------------------------------------------------------

    /// <summary>The shared memory region <paramref name="id"/>.</summary>
    /// <exception cref="VirtioException">The device has no such region.</exception>
    public VirtioSharedMemoryRegion GetSharedMemoryRegion(byte id) =>
        TryGetSharedMemoryRegion(id, out VirtioSharedMemoryRegion? region)
            ? region
            : throw new VirtioException($"{Location} has no shared memory region with shmid {id}");

    /// <summary>
    /// Resets the device: writes 0 to the status and waits, up to <see cref="VirtioTransportOptions.ResetTimeout"/>,
    /// until it reads 0. The queues are then released.
    /// </summary>
    /// <exception cref="VirtioException">The status did not return to 0 in time.</exception>
    public async ValueTask ResetAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WriteStatus(VirtioStatus.Reset);
        await PollAsync(() => ReadStatus() == VirtioStatus.Reset,
            () => $"{Location} did not complete its reset within {Options.ResetTimeout.TotalMilliseconds} ms (the device status still reads 0x{(byte)ReadStatus():x2})",
            cancellationToken).ConfigureAwait(false);

        // The device no longer touches the rings, so their memory can go.
        ReleaseQueues();
        DeviceFeatures = 0;
        NegotiatedFeatures = 0;
    }

    /// <summary>
    /// The first steps of device initialization: reset, ACKNOWLEDGE, DRIVER, feature negotiation,
    /// FEATURES_OK and its check. The driver then sets up queues and calls <see cref="DriverOk"/>.
    /// </summary>
    /// <param name="driverFeatures">
    /// The feature bits the driver understands. VIRTIO_F_VERSION_1 is always requested; reserved
    /// bits the transport does not implement are never accepted.
    /// </param>
    /// <param name="cancellationToken">Ends the wait for the reset.</param>
    /// <returns>The negotiated feature bits.</returns>
    /// <exception cref="VirtioException">
    /// The device does not offer VIRTIO_F_VERSION_1 or did not accept the features; the device
    /// status then has FAILED set.
    /// </exception>
    public async ValueTask<ulong> InitializeAsync(ulong driverFeatures, CancellationToken cancellationToken = default)
    {
        await ResetAsync(cancellationToken).ConfigureAwait(false);
        AddStatus(VirtioStatus.Acknowledge);
        AddStatus(VirtioStatus.Driver);

        DeviceFeatures = ReadDeviceFeatures();
        if (!VirtioFeatures.Has(DeviceFeatures, VirtioFeatures.Version1))
        {
            Fail();
            throw new VirtioException(
                $"{Location} does not offer VIRTIO_F_VERSION_1 (feature bit {VirtioFeatures.Version1}), so it is not a virtio 1.x device; it was marked FAILED");
        }

        ulong wanted = (driverFeatures | VirtioFeatures.Bit(VirtioFeatures.Version1))
            & (DeviceTypeFeatureBits | TransportFeatures);
        ulong negotiated = DeviceFeatures & wanted;
        WriteDriverFeatures(negotiated);
        AddStatus(VirtioStatus.FeaturesOk);

        VirtioStatus status = ReadStatus();
        if ((status & VirtioStatus.FeaturesOk) == 0)
        {
            Fail();
            throw new VirtioException(
                $"{Location} did not accept the features 0x{negotiated:x} ({VirtioFeatures.Describe(negotiated)}): FEATURES_OK did not stay set (status 0x{(byte)status:x2}); it was marked FAILED");
        }

        NegotiatedFeatures = negotiated;
        OnFeaturesAccepted();
        return negotiated;
    }

    /// <summary>Sets DRIVER_OK: the device is live.</summary>
    /// <exception cref="VirtioException">The device reports DEVICE_NEEDS_RESET or FAILED afterwards.</exception>
    public void DriverOk()
    {
        AddStatus(VirtioStatus.DriverOk);
        ThrowIfUnhealthy();
    }

    /// <summary>Sets FAILED: the driver gives up on the device until the next reset.</summary>
    public void Fail() => AddStatus(VirtioStatus.Failed);

    /// <summary>The device set DEVICE_NEEDS_RESET: it stopped working until reset.</summary>
    public bool NeedsReset => (ReadStatus() & VirtioStatus.DeviceNeedsReset) != 0;

    /// <summary>Throws when the device status has DEVICE_NEEDS_RESET or FAILED.</summary>
    /// <exception cref="VirtioException">With the status, in one sentence.</exception>
    public void ThrowIfUnhealthy()
    {
        VirtioStatus status = ReadStatus();
        if ((status & VirtioStatus.DeviceNeedsReset) != 0)
        {
            throw new VirtioException($"{Location} reports DEVICE_NEEDS_RESET (status 0x{(byte)status:x2}); reset it before using it again");
        }

        if ((status & VirtioStatus.Failed) != 0)
        {
            throw new VirtioException($"{Location} is marked FAILED (status 0x{(byte)status:x2}); reset it before using it again");
        }
    }

    /// <summary>Sets status bits without clearing any, as the driver must.</summary>
    public void AddStatus(VirtioStatus bits) => WriteStatus(ReadStatus() | bits);

    /// <summary>Reads all 64 device feature bits (two 32-bit windows).</summary>
    public ulong ReadDeviceFeatures() => ReadDeviceFeatureWord(0) | ((ulong)ReadDeviceFeatureWord(1) << 32);

    /// <summary>Writes all 64 driver feature bits (two 32-bit windows).</summary>
    public void WriteDriverFeatures(ulong features)
    {
        WriteDriverFeatureWord(0, (uint)features);
        WriteDriverFeatureWord(1, (uint)(features >> 32));
    }

    /// <summary>
    /// Sets up queue <paramref name="index"/>: reads its maximum size, chooses the size, allocates
    /// the rings, connects its interrupt (the device must accept the MSI-X entry) and enables it.
    /// Call between <see cref="InitializeAsync"/> and <see cref="DriverOk"/>.
    /// </summary>
    /// <exception cref="VirtioException">The device has no such queue or refused its interrupt.</exception>
    /// <exception cref="InvalidOperationException">Features are not negotiated yet, or the queue is set up already.</exception>
    public VirtioQueue SetupQueue(ushort index, VirtioQueueOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= VirtioQueueOptions.Default;
        if ((ReadStatus() & VirtioStatus.FeaturesOk) == 0)
        {
            throw new InvalidOperationException($"{Location}: queues are set up after feature negotiation (InitializeAsync)");
        }

        lock (_sync)
        {
            if (_queues.Exists(q => q.Index == index))
            {
                throw new InvalidOperationException($"{Location}: queue {index} is set up already");
            }
        }

        int deviceMax = ReadQueueMaxSize(index);
        if (deviceMax == 0)
        {
            throw new VirtioException($"{Location} has no queue {index} (its maximum size reads 0)");
        }

        // A split virtqueue's size is a power of two; take the largest one both sides allow.
        int size = (int)Math.Min((uint)options.MaxSize, uint.Min((uint)deviceMax, SplitVirtqueueOptions.MaxSize));
        size = 1 << (31 - int.LeadingZeroCount(size));
        var ringOptions = new SplitVirtqueueOptions(size)
        {
            QueueIndex = index,
            EventIndex = VirtioFeatures.Has(NegotiatedFeatures, VirtioFeatures.EventIndex),
            IndirectDescriptors = VirtioFeatures.Has(NegotiatedFeatures, VirtioFeatures.IndirectDescriptors),
            StagingBytes = options.StagingBytes,
            IndirectThreshold = options.IndirectThreshold,
        };

        VirtioQueue queue = CreateQueue(index, deviceMax, ringOptions);
        lock (_sync)
        {
            _queues.Add(queue);
        }

        return queue;
    }

    /// <summary>
    /// Resets one queue (VIRTIO_F_RING_RESET): the device drops it, outstanding submissions fail
    /// with <see cref="VirtqueueResetException"/>, and the queue is enabled again, empty, with
    /// the same rings and interrupt.
    /// </summary>
    /// <exception cref="InvalidOperationException">VIRTIO_F_RING_RESET was not negotiated.</exception>
    /// <exception cref="VirtioException">The device did not complete the reset in time.</exception>
    public async ValueTask ResetQueueAsync(VirtioQueue queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        if (!VirtioFeatures.Has(NegotiatedFeatures, VirtioFeatures.RingReset))
        {
            throw new InvalidOperationException($"{Location}: resetting a single queue needs VIRTIO_F_RING_RESET, which was not negotiated");
        }

        StartQueueReset(queue.Index);
        await PollAsync(() => IsQueueResetComplete(queue.Index),
            () => $"{Location} did not complete the reset of queue {queue.Index} within {Options.ResetTimeout.TotalMilliseconds} ms",
            cancellationToken).ConfigureAwait(false);
        queue.Virtqueue.Reset();
        EnableQueue(queue);
    }

    /// <summary>One raw access of 1, 2 or 4 bytes to the device configuration, without generation check.</summary>
    public uint ReadDeviceConfig(int offset, int width)
    {
        CheckConfigAccess(offset, width);
        return ReadDeviceConfigCore(offset, width);
    }

    /// <summary>One write of 1, 2 or 4 bytes to the device configuration.</summary>
    public void WriteDeviceConfig(int offset, int width, uint value)
    {
        CheckConfigAccess(offset, width);
        WriteDeviceConfigCore(offset, width, value);
    }

    /// <summary>
    /// Reads <c>destination.Length</c> bytes of device configuration as one consistent snapshot:
    /// config_generation is read before and after, and the read is repeated until it held still.
    /// </summary>
    /// <exception cref="VirtioException">The generation moved on every one of <see cref="VirtioTransportOptions.ConfigRetries"/> attempts.</exception>
    public void ReadDeviceConfig(int offset, Span<byte> destination)
    {
        CheckConfigRange(offset, destination.Length);
        for (int attempt = 0; attempt < Options.ConfigRetries; attempt++)
        {
            uint before = ConfigGeneration;
            int position = 0;
            while (position < destination.Length)
            {
                int at = offset + position;
                int width = (at % 4 == 0 && destination.Length - position >= 4) ? 4
                    : (at % 2 == 0 && destination.Length - position >= 2) ? 2 : 1;
                uint value = ReadDeviceConfigCore(at, width);
                for (int b = 0; b < width; b++)
                {
                    destination[position + b] = (byte)(value >> (8 * b));
                }

                position += width;
            }

            if (ConfigGeneration == before)
            {
                return;
            }
        }

        throw new VirtioException(
            $"{Location}: the device configuration changed during each of {Options.ConfigRetries} reads (config_generation kept moving)");
    }

    /// <summary>A consistent 64-bit configuration field (two 32-bit reads under one generation).</summary>
    public ulong ReadDeviceConfig64(int offset)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        ReadDeviceConfig(offset, bytes);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    public uint ReadDeviceConfig32(int offset) => ReadDeviceConfig(offset, 4);

    public ushort ReadDeviceConfig16(int offset) => (ushort)ReadDeviceConfig(offset, 2);

    public byte ReadDeviceConfig8(int offset) => (byte)ReadDeviceConfig(offset, 1);

    /// <summary>Resets the device (best effort, bounded), then releases the queues and what the transport holds.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            WriteStatus(VirtioStatus.Reset);
            await PollAsync(() => ReadStatus() == VirtioStatus.Reset, () => string.Empty, CancellationToken.None).ConfigureAwait(false);
            ReleaseQueues();
        }
        catch (VirtioException)
        {
            // The device still holds the rings; leaking their memory is safer than freeing it under it.
        }

        _disposed = true;
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the transport holds itself (MSI vectors); the default holds nothing.</summary>
    protected virtual ValueTask DisposeAsyncCore() => default;

    /// <summary>
    /// For the interrupt loops, on a configuration change interrupt: raises
    /// <see cref="DeviceNeedsReset"/> when the status says so (a device signals that state with
    /// this interrupt), then <see cref="ConfigurationChanged"/>.
    /// </summary>
    protected void OnConfigurationChanged()
    {
        if (DeviceNeedsReset is { } needsReset && (ReadStatus() & VirtioStatus.DeviceNeedsReset) != 0)
        {
            needsReset(this, EventArgs.Empty);
        }

        ConfigurationChanged?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Processes used buffers on <paramref name="queues"/>, skipping any released meanwhile.</summary>
    protected static void ProcessUsed(IEnumerable<VirtioQueue> queues)
    {
        ArgumentNullException.ThrowIfNull(queues);
        foreach (VirtioQueue queue in queues)
        {
            try
            {
                queue.Virtqueue.ProcessUsed();
            }
            catch (ObjectDisposedException)
            {
                // Released by a reset while the interrupt was on its way.
            }
        }
    }

    /// <summary>Waits for <paramref name="done"/>, polling; throws a <see cref="VirtioException"/> with <paramref name="timeoutMessage"/> when it takes too long.</summary>
    protected async ValueTask PollAsync(Func<bool> done, Func<string> timeoutMessage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(done);
        ArgumentNullException.ThrowIfNull(timeoutMessage);
        var clock = Stopwatch.StartNew();
        for (int polls = 1; !done(); polls++)
        {
            if (polls >= MinimumPolls && clock.Elapsed >= Options.ResetTimeout)
            {
                throw new VirtioException(timeoutMessage());
            }

            // A device in this process (the model) completes on its own thread: yield first, then sleep.
            if (polls < MinimumPolls)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void ReleaseQueues()
    {
        VirtioQueue[] queues;
        lock (_sync)
        {
            queues = [.. _queues];
            _queues.Clear();
        }

        foreach (VirtioQueue queue in queues)
        {
            OnQueueReleased(queue);
            queue.Virtqueue.Dispose();
        }
    }

    private void CheckConfigAccess(int offset, int width)
    {
        if (width is not (1 or 2 or 4) || offset % width != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width,
                $"a device configuration access is 1, 2 or 4 bytes at an offset aligned to its width (offset {offset})");
        }

        CheckConfigRange(offset, width);
    }

    private void CheckConfigRange(int offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int limit = DeviceConfigLength;
        if (limit >= 0 && (offset > limit || length > limit - offset))
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"{length} bytes at offset {offset} run past the {limit}-byte device configuration of {Location}");
        }
    }
}
