namespace VirtioHw.Firmware;

/// <summary>
/// Which ivshmem an endpoint is: the seed specification (ivshmem-device-spec.txt), or QEMU 7.2's
/// device, for interop with QEMU. Named in an endpoint description as <c>ivshmem.compat</c>.
/// </summary>
public enum IvshmemCompat
{
    /// <summary>
    /// The seed specification: BAR0 is 1 KiB; a join is announced at any time, as IntrStatus
    /// <c>Ivshmem.IvshmemIntrStatus.PeerJoined</c> with pin interrupts and vector 0 with MSI-X;
    /// with pin interrupts any doorbell vector interrupts; with MSI-X doorbells raise vectors 1 to
    /// the table size - 1 and vector 0 is the join's.
    /// </summary>
    Specification,

    /// <summary>
    /// QEMU 7.2 (<c>compat: qemu</c>): BAR0 is 256 bytes; no join notification; every interrupt sets
    /// IntrStatus to <c>Ivshmem.IvshmemIntrStatus.Doorbell</c>; a doorbell for a vector the
    /// peer does not have is dropped in both interrupt modes, and vector 0 is a doorbell like any.
    /// </summary>
    Qemu,
}

/// <summary>
/// What ivshmem firmware and hardware say to each other through <c>fw_csr.msix_trigger</c> (what
/// IntrStatus then holds, and the join's vector, are in hw/regs/ivshmem.rdl). The endpoint decides by its interrupt mode, which only it knows:
/// firmware writes <see cref="JoinTrigger"/> for a join and the doorbell's vector (below the
/// table size, or the table size for any vector beyond it) for a doorbell. hw/epgen writes
/// <see cref="JoinTrigger"/> into each ivshmem endpoint package, so the RTL takes it from here too.
/// </summary>
public static class IvshmemSignals
{
    /// <summary>msix_trigger value announcing that a peer joined.</summary>
    public const ushort JoinTrigger = 0xffff;

    /// <summary>The msix_trigger value firmware writes for a doorbell of <paramref name="vector"/> to a peer with <paramref name="tableSize"/> MSI-X vectors.</summary>
    /// <remarks>Every vector from the table size up behaves alike in hardware, so they are all sent as the table size, which can never be <see cref="JoinTrigger"/>.</remarks>
    public static ushort DoorbellTrigger(ushort vector, int tableSize) =>
        vector < tableSize ? vector : (ushort)tableSize;
}
