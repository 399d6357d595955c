using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Virtio;

/// <summary>How <see cref="VirtioTransport.SetupQueue"/> sizes a queue. Immutable.</summary>
public sealed class VirtioQueueOptions
{
    private readonly int _maxSize = 256;
    private readonly int _stagingBytes = 64 * 1024;
    private readonly int _indirectThreshold = 4;

    /// <summary>Defaults: at most 256 descriptors, 64 KiB of staging memory.</summary>
    public static VirtioQueueOptions Default { get; } = new();

    /// <summary>
    /// The largest size the driver wants: a power of two up to
    /// <see cref="SplitVirtqueueOptions.MaxSize"/>. The queue gets the smaller of this and the
    /// device's maximum, rounded down to a power of two.
    /// </summary>
    public int MaxSize
    {
        get => _maxSize;
        init
        {
            if (value is < 1 or > SplitVirtqueueOptions.MaxSize || !int.IsPow2(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"a queue size is a power of two from 1 to {SplitVirtqueueOptions.MaxSize}");
            }

            _maxSize = value;
        }
    }

    /// <inheritdoc cref="SplitVirtqueueOptions.StagingBytes"/>
    public int StagingBytes
    {
        get => _stagingBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 16);
            _stagingBytes = value;
        }
    }

    /// <inheritdoc cref="SplitVirtqueueOptions.IndirectThreshold"/>
    public int IndirectThreshold
    {
        get => _indirectThreshold;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _indirectThreshold = value;
        }
    }
}

/// <summary>
/// A virtqueue set up on a device by its transport: the driver-side <see cref="SplitVirtqueue"/>,
/// where its notifications go and which MSI-X entry (if any) signals it.
/// </summary>
/// <remarks>
/// The transport owns its queues: it disposes them when the device is reset or the transport is
/// disposed, once the device has stopped using the rings.
/// </remarks>
public sealed class VirtioQueue
{
    internal VirtioQueue(VirtioTransport transport, ushort index, int deviceMaxSize, SplitVirtqueue virtqueue,
        ulong notifyAddress, ushort msixEntry, MsiVector? vector)
    {
        Transport = transport;
        Index = index;
        DeviceMaxSize = deviceMaxSize;
        Virtqueue = virtqueue;
        NotifyAddress = notifyAddress;
        MsixEntry = msixEntry;
        Vector = vector;
    }

    public VirtioTransport Transport { get; }

    /// <summary>The queue's index on the device.</summary>
    public ushort Index { get; }

    /// <summary>Number of descriptors the queue was set up with.</summary>
    public int Size => Virtqueue.Size;

    /// <summary>The largest size the device offered for this queue.</summary>
    public int DeviceMaxSize { get; }

    /// <summary>The rings, in DMA memory of the transport's platform.</summary>
    public SplitVirtqueue Virtqueue { get; }

    /// <summary>Where a notification for this queue is written.</summary>
    public ulong NotifyAddress { get; }

    /// <summary>The MSI-X table entry that signals this queue, or <see cref="VirtioTransport.NoVector"/>.</summary>
    public ushort MsixEntry { get; }

    /// <summary>The message that entry sends, or null without MSI-X. Owned by the transport.</summary>
    public MsiVector? Vector { get; }

    /// <inheritdoc cref="SplitVirtqueue.SubmitAsync"/>
    public ValueTask<UsedBuffer> SubmitAsync(
        ReadOnlySpan<ReadOnlyMemory<byte>> outBuffers,
        ReadOnlySpan<Memory<byte>> inBuffers,
        CancellationToken cancellationToken = default) =>
        Virtqueue.SubmitAsync(outBuffers, inBuffers, cancellationToken);

    public override string ToString() => $"{Transport.Location} queue {Index}";
}
