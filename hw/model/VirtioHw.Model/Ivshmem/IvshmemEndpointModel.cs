using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// An ivshmem function as QEMU presents it: the ivshmem registers in BAR0 (IntrMask, IntrStatus
/// that reading clears, IVPosition, Doorbell), MSI-X in BAR1, the shared memory in BAR2. A
/// doorbell write (its peer bytes) becomes a DOORBELL event for firmware, which routes it. When
/// firmware triggers a vector while MSI-X is off, IntrStatus becomes 1, as in QEMU.
/// </summary>
public sealed class IvshmemEndpointModel : PciEndpointModel
{
    private readonly IvshmemModel _registers = new();

    /// <param name="description">A validated ivshmem description.</param>
    /// <param name="upstream">Where DMA and MSI-X messages go; not owned.</param>
    /// <param name="ivPosition">This peer's id; null for the description's <c>iv_position</c>.</param>
    /// <param name="backing">The shared memory, shared with the other peers, or null for its own.</param>
    public IvshmemEndpointModel(EndpointDescription description, IRootPort upstream, uint? ivPosition = null, SharedMemoryBacking? backing = null)
        : base(description, upstream, backing)
    {
        IvshmemDescription ivshmem = description.Ivshmem
            ?? throw new ArgumentException($"{description.Name} is not an ivshmem endpoint", nameof(description));
        IvPosition = ivPosition ?? ivshmem.IvPosition;
        _registers.SetIvPosition(IvPosition);
        _registers.DoorbellPeerModified += (_, _) => Events.Push(
            FwCsr.FwEventKind.Doorbell,
            ((uint)_registers.DoorbellPeer << Ivshmem.Doorbell.Peer.Shift) | _registers.DoorbellVector);
        MapBar(ivshmem.Registers.Bar, ivshmem.Registers.Offset, ivshmem.Registers.Length, new RegisterBlockTarget(_registers));
        foreach (SharedMemoryRegion region in description.SharedMemory)
        {
            MapBar(region.Bar, region.Offset, region.Length, CreateSharedMemoryWindow(region));
        }
    }

    /// <summary>This peer's id, as IVPosition reads it.</summary>
    public uint IvPosition { get; }

    private protected override bool IntxLevel => (_registers.IntrStatus & _registers.IntrMask) != 0;

    private protected override void OnMsixTrigger(int vector)
    {
        if (Msix?.Enabled == true)
        {
            Msix.Trigger(vector);
        }
        else
        {
            _registers.IntrStatus = 1;
        }
    }
}
