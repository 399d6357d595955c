using System.Buffers.Binary;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Platforms.Qemu;

namespace VirtioHw.Qemu.Tests;

/// <summary>
/// QEMU's own virtio devices driven by the kit's PCI enumeration, virtio-pci transport and split
/// virtqueues: requests and completions go through guest RAM, MSI-X through the platform's mailbox.
/// </summary>
[CancelAfter(TestSupport.TimeoutMilliseconds)]
public sealed class QemuVirtioTests
{
    // virtio-blk request (virtio 1.x, 5.2.6): le32 type, le32 reserved, le64 sector; data; u8 status.
    private const uint BlockRead = 0;
    private const uint BlockWrite = 1;
    private const byte BlockStatusOk = 0;
    private const int SectorSize = 512;

    private TempDirectory _temp = null!;

    [SetUp]
    public void CreateDirectory() => _temp = new TempDirectory();

    [TearDown]
    public void RemoveDirectory() => _temp.Dispose();

    [Test]
    public async Task VirtioRng_GivesEntropy_ThroughTheKitsTransport(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct, QemuDevices.VirtioRng());
        PciFunction function = PciBus.Scan(platform).Single(0x1af4, 0x1044);
        await using VirtioPciTransport rng = VirtioPciTransport.Open(function);
        await rng.InitializeAsync(0, ct);
        VirtioQueue requests = rng.SetupQueue(0);
        Task interrupts = rng.RunInterruptsAsync(ct);
        rng.DriverOk();

        byte[] first = new byte[64];
        byte[] second = new byte[64];
        UsedBuffer one = await requests.SubmitAsync([], [first], ct);
        UsedBuffer two = await requests.SubmitAsync([], [second], ct);

        Assert.Multiple(() =>
        {
            Assert.That(rng.DeviceType, Is.EqualTo(4), "entropy device");
            Assert.That(one.Length, Is.EqualTo(64));
            Assert.That(two.Length, Is.EqualTo(64));
            Assert.That(first, Is.Not.EqualTo(second), "two draws of 512 random bits differ");
            Assert.That(requests.Vector, Is.Not.Null, "completions arrive by MSI-X");
            Assert.That(requests.Vector!.DeliveredCount, Is.GreaterThan(0));
            Assert.That(interrupts.IsFaulted, Is.False);
        });
    }

    [Test]
    public async Task VirtioBlk_ReadsAndWritesSectorsOfTheImage_ThroughTheKitsTransport(CancellationToken ct)
    {
        string imagePath = _temp.File("disk.img");
        byte[] image = new byte[64 * SectorSize];
        new Random(42).NextBytes(image);
        await File.WriteAllBytesAsync(imagePath, image, ct);
        byte[] fresh = new byte[SectorSize];
        new Random(43).NextBytes(fresh);

        await using (QemuPlatform platform = await Qemu.StartAsync(ct, QemuDevices.VirtioBlock(imagePath)))
        {
            PciFunction function = PciBus.Scan(platform).Single(0x1af4, 0x1042);
            await using VirtioPciTransport disk = VirtioPciTransport.Open(function);
            await disk.InitializeAsync(0, ct);
            VirtioQueue queue = disk.SetupQueue(0);
            _ = disk.RunInterruptsAsync(ct);
            disk.DriverOk();

            byte[] sectors = new byte[3 * SectorSize];
            byte status = await RequestAsync(queue, BlockRead, 10, read: sectors, ct: ct);
            byte writeStatus = await RequestAsync(queue, BlockWrite, 20, write: fresh, ct: ct);

            Assert.Multiple(() =>
            {
                Assert.That(disk.DeviceType, Is.EqualTo(2), "block device");
                Assert.That(disk.ReadDeviceConfig64(0), Is.EqualTo((ulong)(image.Length / SectorSize)), "capacity in sectors");
                Assert.That(status, Is.EqualTo(BlockStatusOk));
                Assert.That(sectors, Is.EqualTo(image.AsSpan(10 * SectorSize, 3 * SectorSize).ToArray()), "sectors 10-12 as in the image file");
                Assert.That(writeStatus, Is.EqualTo(BlockStatusOk));
            });
        }

        byte[] onDisk = await File.ReadAllBytesAsync(imagePath, ct);
        Assert.That(onDisk.AsSpan(20 * SectorSize, SectorSize).ToArray(), Is.EqualTo(fresh), "the written sector is in the image file");
    }

    // One request: header out, then data out (write) or data in (read), then the status byte in.
    private static async Task<byte> RequestAsync(VirtioQueue queue, uint type, ulong sector, byte[]? read = null, byte[]? write = null, CancellationToken ct = default)
    {
        byte[] header = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header, type);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), sector);
        byte[] status = [0xff];
        if (write is not null)
        {
            await queue.SubmitAsync([header, write], [status], ct);
        }
        else
        {
            await queue.SubmitAsync([header], [read!, status], ct);
        }

        return status[0];
    }
}
