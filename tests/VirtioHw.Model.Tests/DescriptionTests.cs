using VirtioHw.Firmware;
using VirtioHw.Model;

namespace VirtioHw.Model.Tests;

public sealed class DescriptionTests
{
    [TestCase("virtio-ism")]
    [TestCase("ivshmem")]
    [TestCase("virtio-dmabuf")]
    public void BuiltinDescription_LoadsAndKeepsEveryRule(string name)
    {
        EndpointDescription description = EndpointDescriptions.LoadBuiltin(name);

        Assert.That(description.Name, Is.EqualTo(name));
        Assert.That(() => EndpointDescriptions.Validate(description), Throws.Nothing);
    }

    [Test]
    public void BuiltinNames_ListEveryEndpointFile()
    {
        Assert.That(EndpointDescriptions.BuiltinNames, Is.EqualTo(new[] { "ivshmem", "virtio-dmabuf", "virtio-ism" }));
    }

    [Test]
    public void IsmDescription_HasTheBarsRegionsAndQueuesOfTheDesign()
    {
        EndpointDescription ism = EndpointDescriptions.LoadBuiltin("virtio-ism");

        Assert.Multiple(() =>
        {
            Assert.That(ism.Identity.DeviceId, Is.EqualTo(0x106c));
            Assert.That(ism.Virtio!.DeviceId, Is.EqualTo(44));
            Assert.That(ism.FindBar(0), Is.EqualTo(new BarDescription(0, 16 * 1024, false, false, false)));
            Assert.That(ism.FindBar(2), Is.EqualTo(new BarDescription(2, 64 << 20, true, true, false)));
            Assert.That(ism.Msix!.Vectors, Is.EqualTo(8));
            Assert.That(ism.FindSharedMemory(IsmShmId.Regions)!.Length, Is.EqualTo(32UL << 20));
            Assert.That(ism.FindSharedMemory(IsmShmId.Notify)!.Offset, Is.EqualTo(32UL << 20));
            Assert.That(ism.Queues.Select(q => (q.Name, q.MaxSize)), Is.EqualTo(new[] { ("controlq", (ushort)256), ("eventq", (ushort)256) }));
        });
    }

    [Test]
    public void DmabufDeviceId_IsConfigurable()
    {
        string yaml = Yaml.Builtin("virtio-dmabuf")
            .Replace("device_id: 0x1064", "device_id: 0x1070", StringComparison.Ordinal)
            .Replace("virtio_device_id: 36", "virtio_device_id: 48", StringComparison.Ordinal);

        EndpointDescription description = EndpointDescriptions.Parse("dmabuf48.yaml", yaml);

        Assert.That(description.Virtio!.DeviceId, Is.EqualTo(48));
    }

    private static IEnumerable<TestCaseData> Breakages()
    {
        yield return Case("size: 16K, type: mem32 }", "size: 12K, type: mem32 }", "bars[0].size 0x3000 is not a power of two");
        yield return Case("{ index: 1, size: 4K", "{ index: 0, size: 4K", "bars[1].index 0 is described twice");
        yield return Case("{ index: 2, size: 64M, type: mem64", "{ index: 5, size: 64M, type: mem64", "64-bit BAR 5 needs BAR 6");
        yield return Case("isr:    { bar: 0, offset: 0x1000", "isr:    { bar: 0, offset: 0x3800", "virtio.isr (0x3800+0x1000) lies outside BAR 0");
        yield return Case("isr:    { bar: 0, offset: 0x1000", "isr:    { bar: 0, offset: 0x0800", "virtio.isr (BAR 0 at 0x800) overlaps virtio.common");
        yield return Case("isr:    { bar: 0, offset: 0x1000", "isr:    { bar: 3, offset: 0x1000", "virtio.isr.bar 3 is not a memory BAR");
        yield return Case("offset: 32M, length: 1M", "offset: 31M, length: 1M", "shared_memory[1] (BAR 2 at 0x1f00000) overlaps shared_memory[0]");
        yield return Case("offset: 32M, length: 1M", "offset: 64M, length: 1M", "shared_memory[1] (0x4000000+0x100000) lies outside BAR 2");
        yield return Case("{ shmid: 2,", "{ shmid: 1,", "shared_memory[1].shmid 1 is used twice");
        yield return Case("chunk_size: 128K", "chunk_size: 96K", "shared_memory[0].chunk_size 0x18000 is not a power of two");
        yield return Case("vectors: 8", "vectors: 33", "msix.vectors 33 is outside 1 to 32");
        yield return Case("pba:   { bar: 1, offset: 0x800 }", "pba:   { bar: 1, offset: 0x804 }", "msix.pba.offset 0x804 is not aligned to 8 bytes");
        yield return Case("notify_off_multiplier: 4", "notify_off_multiplier: 3", "notify_off_multiplier 3 is neither 0 nor an even power of two");
        yield return Case("max_size: 256 }\n  - { name: eventq", "max_size: 100 }\n  - { name: eventq", "queues[0].max_size 100 is not a power of two");
        yield return Case("device_id: 0x106c", "device_id: 0x106d", "identity.device_id 0x106d is not 0x1040 + virtio_device_id 44");
        yield return Case("vendor_id: 0x1af4\n", "vendor_id: 0x1af4x\n", "identity.vendor_id '0x1af4x' is not a number");
        yield return Case("personality: ism", "personality: net", "personality 'net' is not one of ism, dmabuf, ivshmem");
        yield return Case("event_fifo_depth: 64", "event_fifo_depth: 64\ncolour: blue", "unknown key 'colour'");
        yield return Case("cdid: 2f6d1b7c-93a4-4e0b", "cdid: 2f6d1b7c-93a4-1e0b", "ism.cdid 2f6d1b7c-93a4-1e0b-8d5e-6a1c0f3b9e72 is a version-1 UUID");
        yield return Case("devid: 1", "devid: 0", "ism.devid is 0");
        yield return Case("  device: { bar: 0, offset: 0x3000, length: 0x1000 }\n", "", "virtio.device is missing");
        yield return Case("base: 0xfe000000", "base: 0xfe000800", "mmio.base 0xfe000800 is not aligned");
    }

    [TestCaseSource(nameof(Breakages))]
    public void BrokenIsmDescription_FailsWithOneLineNamingFileAndKey(string from, string to, string expected)
    {
        string yaml = Yaml.Builtin("virtio-ism");
        Assert.That(yaml, Does.Contain(from), "the test's anchor text must be in the built-in description");

        var error = Assert.Throws<EndpointDescriptionException>(() =>
            EndpointDescriptions.Parse("broken.yaml", yaml.Replace(from, to, StringComparison.Ordinal)));

        Assert.That(error!.Message, Does.StartWith("broken.yaml"));
        Assert.That(error.Message, Does.Contain(expected));
        Assert.That(error.Message, Does.Not.Contain('\n'));
    }

    [Test]
    public void CapabilityList_ThatDoesNotFitInConfigSpace_IsRefused()
    {
        EndpointDescription ism = EndpointDescriptions.LoadBuiltin("virtio-ism");
        var crowded = ism with
        {
            SharedMemory = [.. Enumerable.Range(0, 10).Select(i => new SharedMemoryRegion(
                (byte)(10 + i), $"r{i}", 2, 0x2200000 + ((ulong)i * 0x1000), 0x1000, SharedMemoryKind.Plain, 0))
                .Concat(ism.SharedMemory)],
            BackingMemory = 64 << 20,
        };

        var error = Assert.Throws<EndpointDescriptionException>(() => EndpointDescriptions.Validate(crowded));

        Assert.That(error!.Message, Does.Contain("the capability list ends at 0x"));
    }

    [TestCase("compat: specification", IvshmemCompat.Specification)]
    [TestCase("compat: qemu", IvshmemCompat.Qemu)]
    public void IvshmemCompat_NamesWhoseDeviceItIs(string line, IvshmemCompat expected)
    {
        string yaml = Yaml.Builtin("ivshmem");
        Assert.That(yaml, Does.Contain("compat: specification"), "the built-in description is the seed specification's device");

        EndpointDescription description = EndpointDescriptions.Parse("ivshmem.yaml", yaml.Replace("compat: specification", line, StringComparison.Ordinal));

        Assert.That(description.Ivshmem!.Compat, Is.EqualTo(expected));
    }

    [Test]
    public void IvshmemCompat_Unknown_FailsWithOneLineNamingTheKey()
    {
        string yaml = Yaml.Builtin("ivshmem").Replace("compat: specification", "compat: qemu-9", StringComparison.Ordinal);

        var error = Assert.Throws<EndpointDescriptionException>(() => EndpointDescriptions.Parse("broken.yaml", yaml));

        Assert.That(error!.Message, Does.StartWith("broken.yaml").And.Contain("ivshmem.compat 'qemu-9' is not one of specification, qemu"));
    }

    [Test]
    public void UnknownBuiltinName_ListsTheBuiltinOnes()
    {
        var error = Assert.Throws<EndpointDescriptionException>(() => EndpointDescriptions.Resolve("virtio-net"));

        Assert.That(error!.Message, Is.EqualTo("no built-in endpoint description 'virtio-net' (built-in: ivshmem, virtio-dmabuf, virtio-ism)"));
    }

    [Test]
    public void MissingFile_FailsWithOneLineNamingIt()
    {
        var error = Assert.Throws<EndpointDescriptionException>(() => EndpointDescriptions.Resolve("/nonexistent/x.yaml"));

        Assert.That(error!.Message, Does.StartWith("cannot read endpoint description /nonexistent/x.yaml"));
    }

    private static TestCaseData Case(string from, string to, string expected) =>
        new TestCaseData(from, to, expected).SetArgDisplayNames(expected);
}
