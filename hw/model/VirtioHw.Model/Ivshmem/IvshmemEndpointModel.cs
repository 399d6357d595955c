using VirtioHw.Firmware;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// An ivshmem function: the ivshmem registers in BAR0 (IntrMask, IntrStatus that reading clears,
/// IVPosition, Doorbell), MSI-X in BAR1, the shared memory in BAR2. A doorbell write (its peer
/// bytes) becomes a DOORBELL event for firmware, which routes it. What firmware's msix_trigger
/// then does depends on the interrupt mode and on <see cref="Compat"/> (<see cref="IvshmemSignals"/>):
/// by the seed specification a join is vector 0 with MSI-X and IntrStatus 0xffffffff without, a
/// doorbell raises vectors 1 and up with MSI-X and ORs 1 into IntrStatus without; as QEMU 7.2 there
/// is no join notification and a doorbell to a vector the peer has writes IntrStatus = 1 without MSI-X.
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
        Compat = ivshmem.Compat;
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

    /// <summary>The behaviour the description names: the seed specification, or QEMU 7.2's.</summary>
    public IvshmemCompat Compat { get; }

    private protected override bool IntxLevel => (_registers.IntrStatus & _registers.IntrMask) != 0;

    private protected override void OnMsixTrigger(int vector)
    {
        bool msix = Msix?.Enabled == true;
        int tableSize = Description.Msix?.Vectors ?? 0;
        if (Compat == IvshmemCompat.Qemu)
        {
            // QEMU 7.2 tells a guest nothing of joins and drops a vector the peer does not have.
            if (vector == IvshmemSignals.JoinTrigger || vector >= tableSize)
            {
                return;
            }

            if (msix)
            {
                Msix!.Trigger(vector);
            }
            else
            {
                _registers.IntrStatus = (uint)Ivshmem.IvshmemIntrStatus.Doorbell;
            }

            return;
        }

        if (vector == IvshmemSignals.JoinTrigger)
        {
            if (msix)
            {
                Msix!.Trigger((int)Ivshmem.IvshmemVector.PeerJoined);
            }
            else
            {
                _registers.IntrStatus = (uint)Ivshmem.IvshmemIntrStatus.PeerJoined;
            }
        }
        else if (msix)
        {
            // Doorbells raise vectors 1 and up; vector 0 is the join's, and an absent vector is dropped.
            if (vector != (int)Ivshmem.IvshmemVector.PeerJoined && vector < tableSize)
            {
                Msix!.Trigger(vector);
            }
        }
        else
        {
            // With pin interrupts any doorbell interrupts; OR keeps a join that was not read yet.
            _registers.IntrStatus |= (uint)Ivshmem.IvshmemIntrStatus.Doorbell;
        }
    }
}
