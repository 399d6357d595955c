namespace VirtioHw.Host.Virtio;

/// <summary>
/// What a look at a virtio device's registers shows, taken without driving it (no reset, no
/// status change, no MSI-X): for listings such as <c>virtiohw lspci</c>. Read by
/// <see cref="VirtioPciTransport.Inspect"/> and <see cref="VirtioMmioTransport.Inspect"/>.
/// </summary>
/// <param name="Location">Where the device is.</param>
/// <param name="DeviceType">The virtio device type.</param>
/// <param name="Status">The device status as found.</param>
/// <param name="DeviceFeatures">The device's feature bits 0-63.</param>
/// <param name="QueueMaxSizes">The maximum size of each queue, by index.</param>
/// <param name="ConfigGeneration">The configuration generation as found.</param>
/// <param name="SharedMemory">The valid shared memory regions, by shmid.</param>
/// <param name="Diagnostics">What was wrong or could not be read, one sentence each.</param>
public sealed record VirtioDeviceInfo(
    string Location,
    int DeviceType,
    VirtioStatus Status,
    ulong DeviceFeatures,
    IReadOnlyList<int> QueueMaxSizes,
    uint ConfigGeneration,
    IReadOnlyList<VirtioSharedMemoryRegion> SharedMemory,
    IReadOnlyList<string> Diagnostics);
