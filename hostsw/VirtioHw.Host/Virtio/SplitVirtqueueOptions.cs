namespace VirtioHw.Host.Virtio;

/// <summary>
/// How a <see cref="SplitVirtqueue"/> is laid out and what the driver and device negotiated for
/// it. Immutable once built.
/// </summary>
public sealed class SplitVirtqueueOptions
{
    /// <summary>The largest queue size a split virtqueue may have.</summary>
    public const int MaxSize = 32768;

    /// <summary>VIRTIO_F_INDIRECT_DESC: the driver may hand over indirect descriptor tables.</summary>
    public const int IndirectDescriptorsFeatureBit = 28;

    /// <summary>VIRTIO_F_EVENT_IDX: notifications are suppressed with used_event and avail_event.</summary>
    public const int EventIndexFeatureBit = 29;

    private readonly int _indirectThreshold = 4;
    private readonly int _stagingBytes = 64 * 1024;

    /// <param name="size">Number of descriptors: a power of two from 1 to <see cref="MaxSize"/>.</param>
    public SplitVirtqueueOptions(int size)
    {
        if (size is < 1 or > MaxSize || !int.IsPow2(size))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size,
                $"a split virtqueue's size is a power of two from 1 to {MaxSize}");
        }

        Size = size;
    }

    /// <summary>Number of descriptors, and of entries in each ring.</summary>
    public int Size { get; }

    /// <summary>The queue's index on its device, for the transport and for messages.</summary>
    public ushort QueueIndex { get; init; }

    /// <summary>VIRTIO_F_EVENT_IDX was negotiated.</summary>
    public bool EventIndex { get; init; }

    /// <summary>VIRTIO_F_INDIRECT_DESC was negotiated.</summary>
    public bool IndirectDescriptors { get; init; }

    /// <summary>
    /// With indirect descriptors, a chain of more buffers than this goes into an indirect table
    /// (one ring descriptor instead of many). Shorter chains use one only when the ring is short
    /// of free descriptors. At least 1; default 4.
    /// </summary>
    public int IndirectThreshold
    {
        get => _indirectThreshold;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _indirectThreshold = value;
        }
    }

    /// <summary>
    /// Bytes of DMA memory the queue owns for staging buffers and indirect tables. A submission
    /// larger than this is refused; one that does not fit now waits. At least 16; default 64 KiB.
    /// </summary>
    public int StagingBytes
    {
        get => _stagingBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 16);
            _stagingBytes = value;
        }
    }

    /// <summary>Options for a queue of <paramref name="size"/> under the negotiated feature bits.</summary>
    public static SplitVirtqueueOptions FromFeatures(int size, ulong negotiatedFeatures, ushort queueIndex = 0) =>
        new(size)
        {
            QueueIndex = queueIndex,
            EventIndex = (negotiatedFeatures & (1UL << EventIndexFeatureBit)) != 0,
            IndirectDescriptors = (negotiatedFeatures & (1UL << IndirectDescriptorsFeatureBit)) != 0,
        };
}
