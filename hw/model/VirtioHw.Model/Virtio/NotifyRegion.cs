namespace VirtioHw.Model;

/// <summary>
/// The virtio-pci notification region: a write at queue q's notify address (q times
/// notify_off_multiplier) pushes QUEUE_NOTIFY for q. With a multiplier of 0 every queue shares
/// one address and the written value names the queue. Reads return 0.
/// </summary>
internal sealed class NotifyRegion(VirtioCore core, uint multiplier) : IMemoryTarget
{
    public ulong Read(ulong offset, int width) => 0;

    public void Write(ulong offset, int width, ulong value)
    {
        int queue = multiplier == 0 ? (ushort)value : (int)Math.Min(offset / multiplier, int.MaxValue);

        // The event carries the queue index in bits 15:0 and, for a 32-bit write, the rest of the
        // notification data (VIRTIO_F_NOTIFICATION_DATA) above it.
        uint data = (ushort)queue | (width >= sizeof(uint) ? (uint)value & 0xFFFF_0000u : 0);
        core.Notify(queue, data);
    }
}
