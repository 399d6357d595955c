using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Personalities.Tests;

/// <summary>Device configuration layout and device initialization (virtio-ism device normative statements).</summary>
[CancelAfter(30_000)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class IsmConfigurationTests(PlatformKind kind)
{
    [Test]
    public async Task Config_CdidIsTheSameOnEveryDeviceOfTheDomain(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 3, cancellationToken);

        Assert.That(bench.Devices.Select(d => d.Cdid), Is.All.EqualTo(bench.Domain.Cdid));
    }

    [Test]
    public async Task Config_CdidIsAVersion4Uuid(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 1, cancellationToken);

        Guid cdid = bench.Devices[0].Cdid;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(cdid.Version, Is.EqualTo(4));
            Assert.That(cdid.Variant, Is.InRange(0x8, 0xb), "RFC 4122 variant");
        }
    }

    [Test]
    public void Domain_WithACdidThatIsNotVersion4_IsRefused()
    {
        var memory = new BackingDomainMemory(new VirtioHw.Model.SharedMemoryBacking(1 << 20));

        Assert.That(() => new VirtioHw.Firmware.Ism.IsmDomain(memory, 4096, Guid.Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")), Throws.ArgumentException);
    }

    [Test]
    public async Task Config_DevIdIsUniqueInTheDomainAndNotZero(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 4, cancellationToken);

        ulong[] devids = [.. bench.Devices.Select(d => d.DevId)];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(devids, Is.Unique);
            Assert.That(devids, Has.None.Zero);
        }
    }

    [Test]
    public async Task Init_DevIdRemainsUnchangedDuringReset(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 1, cancellationToken);
        VirtioTransport transport = bench.Devices[0].Transport;
        ulong before = transport.ReadDeviceConfig64((int)VirtioHw.Registers.IsmConfig.Devid.Offset);

        await transport.ResetAsync(cancellationToken);

        Assert.That(transport.ReadDeviceConfig64((int)VirtioHw.Registers.IsmConfig.Devid.Offset), Is.EqualTo(before).And.Not.Zero);
    }

    [Test]
    public async Task Config_ChunkSizeIsAPowerOfTwo(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 1, cancellationToken);

        Assert.That(ulong.IsPow2(bench.Devices[0].ChunkSize), Is.True, $"chunk_size {bench.Devices[0].ChunkSize}");
    }

    [Test]
    public async Task Init_DeviceProvidesTheRegionsAndNotifyAreasWithANotifyAddressPerChunkSlot(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 1, cancellationToken);
        IsmDevice device = bench.Devices[0];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(device.Regions.Id, Is.EqualTo(1));
            Assert.That(device.Notify.Id, Is.EqualTo(2));
            Assert.That(device.Notify.Length / device.NotifySize, Is.GreaterThanOrEqualTo(device.Regions.Length / device.ChunkSize));
        }
    }

    [Test]
    public async Task InitDriver_ChunksNotReferredByARegionAreNotReachable(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        IsmRegion region = await device.AllocateAsync(100, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => region.Read(device.ChunkSize, new byte[1]), Throws.InstanceOf<ArgumentOutOfRangeException>(), "the region object stops at its chunks");
            Assert.That(device.Regions.Read64(device.ChunkSize), Is.EqualTo(ulong.MaxValue), "an unmapped chunk slot reads all-ones");
        }
    }
}
