using System.Diagnostics.CodeAnalysis;

namespace VirtioHw.Host.Virtio;

/// <summary>Throw sites of the virtqueue, out of line so the submission path stays short.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowNoBuffers() =>
        throw new ArgumentException("a submission needs at least one buffer");

    [DoesNotReturn]
    public static void ThrowChainTooLong(int count, int size) =>
        throw new ArgumentException(
            $"a submission of {count} buffers is longer than the queue size {size}, which bounds every descriptor chain");

    [DoesNotReturn]
    public static void ThrowEmptyBuffer(string direction, int index) =>
        throw new ArgumentException($"{direction} buffer {index} is empty; every buffer needs at least one byte");

    [DoesNotReturn]
    public static void ThrowTooLargeForStaging(long needed, int capacity) =>
        throw new ArgumentException(
            $"a submission needing {needed} bytes of staging memory can never fit in the queue's {capacity} bytes (SplitVirtqueueOptions.StagingBytes)");

    [DoesNotReturn]
    public static void ThrowUnknownUsedId(ushort queue, uint id) =>
        throw new InvalidOperationException(
            $"the device returned descriptor {id} on virtqueue {queue}, which heads no outstanding chain");

    [DoesNotReturn]
    public static void ThrowUsedIndexAhead(ushort queue, ushort usedIndex, ushort lastUsed, int inFlight) =>
        throw new InvalidOperationException(
            $"the device moved the used index of virtqueue {queue} to {usedIndex}, more than the {inFlight} outstanding chains past {lastUsed}");

    [DoesNotReturn]
    public static void ThrowDisposed() => throw new ObjectDisposedException(nameof(SplitVirtqueue));
}
