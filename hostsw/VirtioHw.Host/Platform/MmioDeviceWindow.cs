namespace VirtioHw.Host.Platforms;

/// <summary>
/// Where a memory-mapped device's registers are, as a device tree describes it: a base address and
/// a length. <see cref="Platform.VirtioMmioDevices"/> lists the virtio-mmio ones.
/// </summary>
/// <param name="BaseAddress">Bus address of the first register.</param>
/// <param name="Length">Bytes of register space.</param>
public sealed record MmioDeviceWindow(ulong BaseAddress, ulong Length)
{
    public override string ToString() => $"0x{BaseAddress:x}+0x{Length:x}";
}
