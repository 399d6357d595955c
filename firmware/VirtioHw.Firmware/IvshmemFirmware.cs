namespace VirtioHw.Firmware;

/// <summary>
/// Firmware for an ivshmem endpoint that has no peers: it programs nothing and drops the
/// doorbells it is told about, as an ivshmem device does for an absent peer. Peer routing
/// comes with the ivshmem personality.
/// </summary>
public sealed class IvshmemFirmware : DeviceFirmware
{
    /// <param name="hal">The CSR port of the endpoint; not owned.</param>
    public IvshmemFirmware(IDeviceHal hal)
        : base(hal)
    {
    }

    protected override void OnBoot()
    {
    }
}
