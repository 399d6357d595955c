using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Platforms.Qemu;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// A real QEMU 7.2 (q35, TCG, no guest) with devices nobody on this team wrote: virtio-rng-pci
/// at 00:04.0, virtio-blk-pci at 00:05.0 (a 1 MiB raw image) and ivshmem-plain at 00:06.0
/// (1 MiB). The expectations are QEMU's own description of these devices, as its monitor reports
/// them (<c>info pci</c>, <c>info qtree</c>, <c>info virtio-status</c>, <c>info
/// virtio-queue-status</c>) and as hw/virtio/virtio-pci.c lays out a modern device: the virtio
/// structures in a 16 KiB 64-bit prefetchable BAR 4 (common, ISR, device, notify at 4 KiB steps,
/// the device structure even for virtio-rng, which has no configuration; notify_off_multiplier 4) and the MSI-X table and PBA in BAR 1. Device features are QEMU's host
/// features without the legacy-only bits (ANY_LAYOUT, NOTIFY_ON_EMPTY, bit 30). QEMU's queues run
/// QEMU's device logic, so there are no echo round trips here; the Qemu test project drives
/// virtio-rng and virtio-blk end to end.
/// </summary>
internal sealed class QemuPlatformUnderTest : PlatformUnderTest
{
    private const ushort QemuSubsystemVendor = 0x1af4;
    private const ushort QemuSubsystem = 0x1100;
    private const long ImageBytes = 1 << 20;

    private static readonly Lazy<string> Scratch = new(CreateScratch);

    /// <summary>The functions q35 brings on its own (host bridge, LPC, AHCI, SMBus): there, but not under test.</summary>
    public override IReadOnlyList<PciAddress> PlatformFunctions { get; } =
        [new PciAddress(0, 0, 0), new PciAddress(0, 0x1f, 0), new PciAddress(0, 0x1f, 2), new PciAddress(0, 0x1f, 3)];

    public override IReadOnlyList<ExpectedEndpoint> Endpoints { get; } =
    [
        ModernVirtio("virtio-rng", new PciAddress(0, 4, 0), deviceType: 4, baseClass: 0x00, subClass: 0xff,
            features: VirtioFeatures.Bit(VirtioFeatures.IndirectDescriptors) | VirtioFeatures.Bit(VirtioFeatures.EventIndex) | VirtioFeatures.Bit(VirtioFeatures.RingReset),
            queueSizes: [8]),
        ModernVirtio("virtio-blk", new PciAddress(0, 5, 0), deviceType: 2, baseClass: 0x01, subClass: 0x00,
            features: BlockFeatures, queueSizes: [256]),
        new ExpectedEndpoint("ivshmem-plain", new PciAddress(0, 6, 0), null, null,
            VirtioPciIds.VendorId, VirtioPciIds.IvshmemDeviceId, 1, 0x05, 0x00, 0, QemuSubsystemVendor, QemuSubsystem,
            [new ExpectedBar(0, 0x100, PciBarKind.Memory32, false), new ExpectedBar(2, ImageBytes, PciBarKind.Memory64, true)],
            null, null, []),
    ];

    // virtio-blk's host features in QEMU 7.2 with a raw file and default properties: SEG_MAX (2),
    // GEOMETRY (4), BLK_SIZE (6), FLUSH (9), TOPOLOGY (10), CONFIG_WCE (11), DISCARD (13),
    // WRITE_ZEROES (14), plus the transport's INDIRECT_DESC, EVENT_IDX and RING_RESET.
    private static ulong BlockFeatures =>
        VirtioFeatures.Bit(2) | VirtioFeatures.Bit(4) | VirtioFeatures.Bit(6) | VirtioFeatures.Bit(9) | VirtioFeatures.Bit(10)
        | VirtioFeatures.Bit(11) | VirtioFeatures.Bit(13) | VirtioFeatures.Bit(14)
        | VirtioFeatures.Bit(VirtioFeatures.IndirectDescriptors) | VirtioFeatures.Bit(VirtioFeatures.EventIndex) | VirtioFeatures.Bit(VirtioFeatures.RingReset);

    public override string? AcceptsAnyFeatureSet =>
        "QEMU 7.2 masks driver feature bits it did not offer and accepts FEATURES_OK without VIRTIO_F_VERSION_1 (virtio_set_features_nocheck); the specification lets a device do so";

    /// <summary>Ignores the test, saying why, when QEMU is not installed.</summary>
    private static void RequireAvailable()
    {
        if (!QemuPlatform.IsInstalled())
        {
            Assert.Ignore($"{QemuPlatformSettings.DefaultExecutable} is not installed (apt-get install qemu-system-x86); Platform.Qemu drives a real QEMU");
        }
    }

    public override Platform Create(bool echoQueues)
    {
        RequireAvailable();
        string image = Path.Combine(Scratch.Value, "blk.img");
        string shm = Path.Combine(Scratch.Value, "ivshmem.bin");
        var settings = new QemuPlatformSettings
        {
            DeviceArguments =
            [
                "-device", "virtio-rng-pci,disable-legacy=on,addr=04.0",
                "-drive", $"if=none,id=blk0,format=raw,file={image}",
                "-device", "virtio-blk-pci,drive=blk0,disable-legacy=on,addr=05.0",
                "-object", $"memory-backend-file,id=shm0,size={ImageBytes},mem-path={shm},share=on",
                "-device", "ivshmem-plain,memdev=shm0,addr=06.0",
            ],
        };
        return QemuPlatform.StartAsync(settings).GetAwaiter().GetResult();
    }

    private static ExpectedEndpoint ModernVirtio(
        string name, PciAddress address, int deviceType, byte baseClass, byte subClass, ulong features, int[] queueSizes)
    {
        const int VirtioBar = 4;
        return new ExpectedEndpoint(
            name, address, null, null,
            VirtioPciIds.VendorId, (ushort)(VirtioPciIds.ModernDeviceIdBase + deviceType), 1, baseClass, subClass, 0,
            QemuSubsystemVendor, QemuSubsystem,
            [new ExpectedBar(1, 0x1000, PciBarKind.Memory32, false), new ExpectedBar(VirtioBar, 0x4000, PciBarKind.Memory64, true)],
            new ExpectedVirtio(
                deviceType, features | VirtioFeatures.Bit(VirtioFeatures.Version1),
                new ExpectedStructure(VirtioBar, 0x0000, 0x1000),
                new ExpectedStructure(VirtioBar, 0x1000, 0x1000),
                new ExpectedStructure(VirtioBar, 0x3000, 0x1000),
                NotifyOffMultiplier: 4,
                new ExpectedStructure(VirtioBar, 0x2000, 0x1000),
                PciCfgAccess: true,
                queueSizes),
            new ExpectedMsix(Vectors: 2, TableBar: 1, TableOffset: 0, PbaBar: 1, PbaOffset: 0x800),
            []);
    }

    private static string CreateScratch()
    {
        string directory = Directory.CreateTempSubdirectory("virtiohw-conformance-qemu-").FullName;
        using (FileStream image = File.Create(Path.Combine(directory, "blk.img")))
        {
            image.SetLength(ImageBytes);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveScratch(directory);
        return directory;
    }

    // Every QEMU is stopped by its test's teardown; a file still held is left to the temp cleaner.
    private static void RemoveScratch(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
