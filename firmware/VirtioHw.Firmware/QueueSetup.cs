namespace VirtioHw.Firmware;

/// <summary>A virtqueue as the driver set it up when it enabled it, read from the q_* CSRs.</summary>
/// <param name="Size">Number of descriptors the driver chose.</param>
/// <param name="MsixVector">Vector for used-buffer notifications, or <see cref="VirtioFirmware.NoVector"/>.</param>
/// <param name="DescriptorArea">Bus address of the descriptor table.</param>
/// <param name="DriverArea">Bus address of the driver (available) ring.</param>
/// <param name="DeviceArea">Bus address of the device (used) ring.</param>
public sealed record QueueSetup(ushort Size, ushort MsixVector, ulong DescriptorArea, ulong DriverArea, ulong DeviceArea);

/// <summary>The driver-side state of the selected queue (<c>q_state</c>).</summary>
public readonly record struct QueueState(ushort Size, bool Enabled, bool ResetPending);
