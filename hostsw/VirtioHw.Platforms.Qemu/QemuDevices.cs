using System.Globalization;

namespace VirtioHw.Platforms.Qemu;

/// <summary>
/// QEMU command-line arguments for the devices the kit exercises, for
/// <see cref="QemuPlatformSettings.DeviceArguments"/>. Virtio devices are modern-only
/// (<c>disable-legacy=on</c>): on q35's root bus QEMU would otherwise make them transitional,
/// with the legacy device id 0x1000 + n.
/// </summary>
public static class QemuDevices
{
    /// <summary>A virtio entropy device (1af4:1044).</summary>
    public static IReadOnlyList<string> VirtioRng() => ["-device", "virtio-rng-pci,disable-legacy=on"];

    /// <summary>A virtio block device (1af4:1042) backed by the raw image at <paramref name="imagePath"/>.</summary>
    /// <param name="imagePath">A raw disk image; QEMU opens it read-write.</param>
    /// <param name="id">The drive's id, unique among the machine's drives.</param>
    public static IReadOnlyList<string> VirtioBlock(string imagePath, string id = "blk0")
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        return
        [
            "-drive", $"if=none,id={id},format=raw,file={Escape(imagePath)}",
            "-device", $"virtio-blk-pci,drive={id},disable-legacy=on",
        ];
    }

    /// <summary>
    /// An <c>ivshmem-plain</c> device (1af4:1110, no interrupts) whose BAR2 is the file at
    /// <paramref name="backingFile"/>, shared with every other process that maps it.
    /// </summary>
    /// <param name="backingFile">The file; QEMU creates it when absent.</param>
    /// <param name="size">Bytes, a power of two.</param>
    /// <param name="id">Prefix of the memory backend's id, unique in the machine.</param>
    public static IReadOnlyList<string> IvshmemPlain(string backingFile, long size, string id = "ivshmem0")
    {
        ArgumentException.ThrowIfNullOrEmpty(backingFile);
        if (size <= 0 || !long.IsPow2(size))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "ivshmem memory is a power of two in size");
        }

        return
        [
            "-object", string.Create(CultureInfo.InvariantCulture, $"memory-backend-file,id={id}-mem,size={size},mem-path={Escape(backingFile)},share=on"),
            "-device", $"ivshmem-plain,memdev={id}-mem",
        ];
    }

    /// <summary>
    /// An <c>ivshmem-doorbell</c> device that joins the ivshmem server at <paramref name="socketPath"/>
    /// with <paramref name="vectors"/> MSI-X vectors. The server must be running when QEMU starts.
    /// </summary>
    public static IReadOnlyList<string> IvshmemDoorbell(string socketPath, int vectors, string id = "ivshmem0")
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(vectors, 1);
        return
        [
            "-chardev", $"socket,id={id}-chr,path={Escape(socketPath)}",
            "-device", string.Create(CultureInfo.InvariantCulture, $"ivshmem-doorbell,chardev={id}-chr,vectors={vectors}"),
        ];
    }

    // QEMU's option syntax separates properties with commas; a comma inside a value is doubled.
    private static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
