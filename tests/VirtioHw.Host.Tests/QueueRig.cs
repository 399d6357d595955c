using VirtioHw.Host.Virtio;

namespace VirtioHw.Host.Tests;

/// <summary>A queue on a fake platform, wired to a reference device that reads the same rings.</summary>
internal sealed class QueueRig : IAsyncDisposable
{
    public QueueRig(SplitVirtqueueOptions options)
    {
        Queue = new SplitVirtqueue(Platform, options, Notifier);
        Device = NewDevice();
    }

    public FakePlatform Platform { get; } = new();

    public RecordingNotifier Notifier { get; } = new();

    public SplitVirtqueue Queue { get; }

    public ReferenceSplitRingDevice Device { get; private set; }

    /// <summary>A fresh device on the queue's rings, as after a queue reset.</summary>
    public ReferenceSplitRingDevice NewDevice() =>
        Device = new ReferenceSplitRingDevice(Platform, Queue.DescriptorTableAddress, Queue.DriverAreaAddress,
            Queue.DeviceAreaAddress, Queue.Size, Queue.Options.EventIndex);

    /// <summary>A reply that depends on every request byte: each one inverted.</summary>
    public static byte[] Invert(byte[] request) => [.. request.Select(b => (byte)~b)];

    public async ValueTask DisposeAsync()
    {
        Queue.Dispose();
        await Platform.DisposeAsync();
    }
}
