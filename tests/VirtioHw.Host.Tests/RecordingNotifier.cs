using VirtioHw.Host.Virtio;

namespace VirtioHw.Host.Tests;

/// <summary>Counts the driver's notifications and optionally passes them on to a device.</summary>
internal sealed class RecordingNotifier : IQueueNotifier
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public Action? OnNotify { get; set; }

    public void Notify(SplitVirtqueue queue)
    {
        Interlocked.Increment(ref _count);
        OnNotify?.Invoke();
    }
}
