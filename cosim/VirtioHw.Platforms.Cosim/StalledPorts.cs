namespace VirtioHw.Platforms.Cosim;

/// <summary>Which ports of an RTL instance <see cref="CosimEndpoint.Stall"/> stops.</summary>
[Flags]
public enum StalledPorts
{
    None = 0,

    /// <summary>The ports the host reaches: <c>cfg_</c>, <c>bar0_</c>-<c>bar2_</c>, or <c>mmio_</c> and <c>shm_</c> (a hung link or interconnect).</summary>
    Host = 1,

    /// <summary>The firmware CSR port <c>fw_</c> (the device's own control plane hangs).</summary>
    Firmware = 2,

    All = Host | Firmware,
}
