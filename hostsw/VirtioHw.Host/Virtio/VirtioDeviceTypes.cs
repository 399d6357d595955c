namespace VirtioHw.Host.Virtio;

/// <summary>Virtio device type numbers ("Device Types") and their names, for listings and messages.</summary>
public static class VirtioDeviceTypes
{
    /// <summary>virtio-dmabuf as the seed specification numbers it (36 is virtio-can in the ratified specification).</summary>
    public const int Dmabuf = 36;

    /// <summary>virtio-ism, internal shared memory.</summary>
    public const int Ism = 44;

    /// <summary>virtio-gpu (its host-visible memory is a shared memory region).</summary>
    public const int Gpu = 16;

    /// <summary>virtio-fs (its DAX window is a shared memory region).</summary>
    public const int FileSystem = 26;

    /// <summary>
    /// What a shared memory region of a device type is for (virtio-ism: shmid 1 the regions, 2 the
    /// notify area), or null when the type does not say.
    /// </summary>
    public static string? SharedMemoryName(int type, byte shmid) => (type, shmid) switch
    {
        (Ism, 1) => "regions",
        (Ism, 2) => "notify",
        _ => null,
    };

    /// <summary>
    /// Whether a device type is known to have shared memory regions (virtio-gpu's host-visible
    /// memory, virtio-fs's DAX window, virtio-ism's regions and notify area). A driver not expecting
    /// shared memory must not use virtio-mmio's SHMSel/SHMLen/SHMBase, so a listing reads them only
    /// for these types unless asked to.
    /// </summary>
    public static bool UsesSharedMemory(int type) => type is Gpu or FileSystem or Ism;

    /// <summary>A short name for a device type, such as <c>ISM</c>; the number when unknown.</summary>
    public static string Name(int type) => type switch
    {
        1 => "network",
        2 => "block",
        3 => "console",
        4 => "entropy",
        5 => "memory balloon",
        8 => "SCSI",
        9 => "9P transport",
        Gpu => "GPU",
        18 => "input",
        19 => "socket",
        20 => "crypto",
        FileSystem => "file system",
        27 => "PMEM",
        Dmabuf => "dmabuf",
        Ism => "ISM",
        _ => $"type {type}",
    };
}
