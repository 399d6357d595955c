using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// The ISM notify area (shmid 2): one notify-address of notify_size bytes per region. A write
/// anywhere in notify-address n pushes ISM_KICK with data n; reads return 0.
/// </summary>
internal sealed class IsmNotifyArea(SharedMemoryRegion region, EventFifo events) : IMemoryTarget
{
    private readonly int _slotShift = (int)ulong.Log2(region.GranuleSize);

    public ulong Read(ulong offset, int width) => 0;

    public void Write(ulong offset, int width, ulong value) =>
        events.Push(FwCsr.FwEventKind.IsmKick, (uint)(offset >> _slotShift));
}
