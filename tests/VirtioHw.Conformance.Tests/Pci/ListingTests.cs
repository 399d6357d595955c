using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Conformance.Tests.Pci;

/// <summary>The text of <c>virtiohw lspci</c>.</summary>
public sealed class ListingTests
{
    private static async Task<string> ListAsync(bool verbose, Action<FakePciPlatform>? configure = null)
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeVirtioPciFunction(platform, new PciAddress(0, 1, 0), new FakeVirtioSpec()));
        platform.AddMmio(new FakeVirtioMmioDevice(platform, FakeRig.MmioBase, new FakeVirtioSpec(), FakeRig.MmioSharedMemoryBase));
        configure?.Invoke(platform);
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        using var text = new StringWriter();
        PciListing.Write(text, platform, functions, verbose);
        return text.ToString();
    }

    [Test]
    public async Task Summary_NamesClassVendorDeviceIdsAndRevision()
    {
        string text = await ListAsync(verbose: false);

        Assert.That(text, Does.StartWith("00:01.0 Communication controller: Red Hat, Inc. Virtio ISM device (rev 01)"), "lspci's default: names");
        Assert.That(text, Does.Contain("virtio-mmio@0xd0000000 [size=512]: Virtio ISM device [type 44"));
        Assert.That(text, Does.Not.Contain("Region"));
    }

    [Test]
    public async Task Verbose_ShowsBarsCapabilitiesAndVirtioDetails()
    {
        string text = await ListAsync(verbose: true);

        Assert.That(text, Does.Contain("\tRegion 2: Memory at 8000000000 (64-bit, prefetchable) [size=1M]"));
        Assert.That(text, Does.Contain("\tCapabilities: [40] MSI-X: Enable- Count=4 Masked-"));
        Assert.That(text, Does.Contain("\t\tPBA: BAR=1 offset=00000800"));
        Assert.That(text, Does.Contain("Vendor Specific: VirtIO: Notify\n\t\tBAR=0 offset=00003000 size=00001000 multiplier=00000004").Or.Contain("Vendor Specific: VirtIO: Notify\r\n\t\tBAR=0 offset=00003000 size=00001000 multiplier=00000004"));
        Assert.That(text, Does.Contain("BAR=2 offset=0000000000040000 size=0000000000001000 id=2"));
        Assert.That(text, Does.Contain("Vendor Specific: VirtIO: PCI-cfg"));
        Assert.That(text, Does.Contain("Device features: 0x0000010100000001 (bit0 VERSION_1 RING_RESET)"));
        Assert.That(text, Does.Contain("Queues: 2 (0: max 64, 1: max 32)"));
        Assert.That(text, Does.Contain("Shared memory shmid 2 (notify): at 8000040000 [size=4K] (BAR 2 + 0x40000)"));
        Assert.That(text, Does.Contain("Shared memory shmid 1 (regions): at e0000000 [size=256K]"), "the virtio-mmio device's regions");
    }

    [Test]
    public async Task Verbose_ReportsDiagnostics()
    {
        string text = await ListAsync(verbose: true, platform =>
        {
            FakeFunction broken = platform.Add(new FakeFunction(new PciAddress(0, 4, 0), 0x8086, 0x1234));
            broken.SetCapabilityPointer(0x40);
            broken.Set8(0x40, 0x01);
            broken.Set8(0x41, 0x40);
        });

        Assert.That(text, Does.Contain("\tWarning: the capability at 0x41 points back to 0x40, so the list loops; it ends there"));
    }

    [Test]
    public async Task EmptyMmioSlot_IsListedAsSuch()
    {
        string text = await ListAsync(verbose: false, platform =>
            platform.AddMmio(new FakeVirtioMmioDevice(platform, 0xd000_1000, new FakeVirtioSpec(), 0xe100_0000) { DeviceId = 0 }));

        Assert.That(text, Does.Contain("virtio-mmio@0xd0001000: no device is present (DeviceID reads 0)"));
    }

    [Test]
    public async Task MmioDriverInit_DriversNotExpectingSharedMemoryMustNotUseTheShmRegisters_VerboseLeavesThemAlone()
    {
        await using var platform = new FakePciPlatform();
        FakeVirtioMmioDevice ism = platform.AddMmio(new FakeVirtioMmioDevice(platform, FakeRig.MmioBase, new FakeVirtioSpec(), FakeRig.MmioSharedMemoryBase));
        FakeVirtioMmioDevice entropy = platform.AddMmio(new FakeVirtioMmioDevice(platform, 0xd000_1000, new FakeVirtioSpec(), 0xe100_0000) { DeviceId = 4 });
        using var text = new StringWriter();

        PciListing.Write(text, platform, [], verbose: true);
        int byDefault = entropy.ShmSelWrites;
        PciListing.Write(TextWriter.Null, platform, [], verbose: true, allSharedMemory: true);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(byDefault, Is.Zero, "an entropy device has no shared memory");
            Assert.That(text.ToString(), Does.Contain("Shared memory: not read"));
            Assert.That(ism.ShmSelWrites, Is.GreaterThan(0), "virtio-ism has shared memory");
            Assert.That(entropy.ShmSelWrites, Is.EqualTo(256), "on request, every shmid");
        }
    }
}
