namespace VirtioHw.Host.Virtio;

/// <summary>
/// How a queue tells its device that new buffers are available: supplied by the transport
/// (a write to the virtio-pci notify address, or to QueueNotify on virtio-mmio).
/// </summary>
public interface IQueueNotifier
{
    /// <summary>
    /// Called after <paramref name="queue"/> has published buffers and decided the device wants
    /// to hear about them. Called outside the queue's lock, so it may block on MMIO.
    /// </summary>
    void Notify(SplitVirtqueue queue);
}
