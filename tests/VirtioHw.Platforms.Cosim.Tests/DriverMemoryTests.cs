using VirtioHw.Drivers.Ism;
using IsmFirmware = VirtioHw.Firmware.Ism.IsmFirmware;
using IsmFirmwareSettings = VirtioHw.Firmware.Ism.IsmFirmwareSettings;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Platforms.Cosim.Tests;

/// <summary>
/// virtio-ism without VIRTIO_ISM_F_DEV_MEM on the RTL: the chunk slots over the allocator's buffer
/// send their accesses out as system-memory requests (<c>mem_sys_o</c>), which reach the platform's
/// DMA memory, so both devices' windows see the driver's buffer.
/// </summary>
[CancelAfter(120_000)]
public sealed class DriverMemoryTests
{
    [Test]
    public async Task RoundTrip_WithoutDevMem_BothWindowsReachTheAllocatorsBuffer_AndTheLastDetachFreesIt(CancellationToken cancellationToken)
    {
        using var domain = new CosimIsmDomain(2);
        IsmFirmwareSettings firmware = domain.FirmwareSettings with { DeviceMemory = false };
        await using CosimPlatform platform = Rtl.Build(() => new CosimPlatform(domain.PlatformSettings() with
        {
            Firmware = endpoint => new IsmFirmware(endpoint.Hal, firmware, domain.Domain),
        }));
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        var settings = new IsmDeviceSettings { DeviceMemory = false };
        await using IsmDevice a = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(domain.Addresses[0])), settings, cancellationToken);
        await using IsmDevice b = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(domain.Addresses[1])), settings, cancellationToken);

        IsmRegion atA = await a.AllocateAsync(a.ChunkSize, cancellationToken);
        IsmRegion atB = await b.AttachAsync(atA.Token, IsmPermissions.Read | IsmPermissions.Write, cancellationToken);
        byte[] fromA = [.. Enumerable.Range(0, 256).Select(i => (byte)(i * 13 + 1))];
        byte[] fromB = "written by B into A's buffer"u8.ToArray();
        atA.Write(64, fromA);
        atB.Write(1024, fromB);
        var atBFromA = new byte[fromA.Length];
        var atAFromB = new byte[fromB.Length];
        atB.Read(64, atBFromA);
        atA.Read(1024, atAFromB);

        await a.DetachAsync(atA.Token, cancellationToken);
        await b.DetachAsync(atA.Token, cancellationToken);
        IsmEvent freed = await a.WaitForEventAsync(e => e.Type == IsmEventType.BufferFree, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(atBFromA, Is.EqualTo(fromA), "B's window reads what A wrote");
            Assert.That(atAFromB, Is.EqualTo(fromB), "A's window reads what B wrote");
            Assert.That(freed.Buffer, Is.Not.Zero);
            Assert.That(a.PendingBuffers, Is.Zero);
        }
    }
}
