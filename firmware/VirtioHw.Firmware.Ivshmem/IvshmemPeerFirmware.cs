namespace VirtioHw.Firmware.Ivshmem;

/// <summary>
/// The firmware of an ivshmem peer: it joins its <see cref="IvshmemPeerGroup"/> at boot under its
/// IVPosition (the other peers are told of the join) and hands every doorbell the hardware reports to the
/// group, which interrupts the named peer.
/// </summary>
public sealed class IvshmemPeerFirmware : DeviceFirmware
{
    private readonly IvshmemPeerGroup _group;

    /// <param name="hal">The CSR port of the endpoint; not owned.</param>
    /// <param name="group">The peers sharing the memory object.</param>
    /// <param name="position">This peer's IVPosition, as the hardware reports it to the driver.</param>
    public IvshmemPeerFirmware(IDeviceHal hal, IvshmemPeerGroup group, ushort position)
        : base(hal)
    {
        ArgumentNullException.ThrowIfNull(group);
        _group = group;
        Position = position;
    }

    public ushort Position { get; }

    protected override void OnBoot() => _group.Join(Position, this);

    protected override void OnDoorbell(ushort peer, ushort vector) => _group.Route(peer, vector);
}
