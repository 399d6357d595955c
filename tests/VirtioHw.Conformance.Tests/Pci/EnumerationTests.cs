using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Pci;

public sealed class EnumerationTests
{
    [Test]
    public async Task Enumerate_FindsEveryFunction_WithTheIdentityItsConfigSpaceHolds()
    {
        await using var platform = new FakePciPlatform();
        FakeFunction a = platform.Add(new FakeFunction(new PciAddress(0, 0, 0), 0x8086, 0x1234));
        a.Set8(PciHeader.RevisionId.Offset, 7);
        a.Set8(PciHeader.BaseClass.Offset, 0x06);
        a.Set8(PciHeader.Subclass.Offset, 0x04);
        a.Set8(PciHeader.ProgIf.Offset, 0x01);
        platform.Add(new FakeFunction(new PciAddress(0, 0x1f, 0), 0x1af4, 0x1110));
        platform.Add(new FakeFunction(new PciAddress(1, 2, 0), 0x10ee, 0x9038));

        IReadOnlyList<PciFunction> found = PciEnumerator.Enumerate(platform, new PciScanOptions { LastBus = 1 });

        Assert.That(found.Select(f => f.Address.ToString()), Is.EqualTo(new[] { "00:00.0", "00:1f.0", "01:02.0" }));
        PciIdentity identity = found[0].Identity;
        Assert.Multiple(() =>
        {
            Assert.That(identity.VendorId, Is.EqualTo(0x8086));
            Assert.That(identity.DeviceId, Is.EqualTo(0x1234));
            Assert.That(identity.RevisionId, Is.EqualTo(7));
            Assert.That(identity.ClassCode, Is.EqualTo(0x060401));
            Assert.That(identity.IsMultiFunction, Is.False);
            Assert.That(found[1].Identity.IsVirtio, Is.False, "ivshmem shares the vendor id but is not virtio");
        });
    }

    [Test]
    public async Task Enumerate_DoesNotProbeFunctions1To7_WhenFunction0IsSingleFunction()
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeFunction(new PciAddress(0, 2, 0), 0x1af4, 0x106c));
        platform.Add(new FakeFunction(new PciAddress(0, 2, 1), 0x1af4, 0x106c));  // an alias a careless scan would list

        IReadOnlyList<PciFunction> found = PciEnumerator.Enumerate(platform);

        Assert.That(found.Select(f => f.Address.ToString()), Is.EqualTo(new[] { "00:02.0" }));
        Assert.That(platform.ConfigReads.Where(r => r.Function.Device == 2 && r.Function.Function != 0), Is.Empty);
    }

    [Test]
    public async Task Enumerate_ProbesFunctions1To7_WhenFunction0IsMultiFunction()
    {
        await using var platform = new FakePciPlatform();
        FakeFunction first = platform.Add(new FakeFunction(new PciAddress(0, 4, 0), 0x1af4, 0x106c));
        first.Set8(PciHeader.HeaderType.Offset, (byte)PciHeader.PciHeaderType.Type0Multifunction);
        platform.Add(new FakeFunction(new PciAddress(0, 4, 3), 0x1af4, 0x1110));
        platform.Add(new FakeFunction(new PciAddress(0, 4, 7), 0x1af4, 0x1064));

        IReadOnlyList<PciFunction> found = PciEnumerator.Enumerate(platform);

        Assert.That(found.Select(f => f.Address.ToString()), Is.EqualTo(new[] { "00:04.0", "00:04.3", "00:04.7" }));
        Assert.That(found[0].Identity.IsMultiFunction, Is.True);
        Assert.That(found[0].Identity.HeaderLayout, Is.EqualTo((byte)PciHeader.PciHeaderType.Type0));
    }

    [Test]
    public async Task Enumerate_StopsAtLastBus()
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeFunction(new PciAddress(0, 1, 0), 0x1af4, 0x106c));
        platform.Add(new FakeFunction(new PciAddress(2, 1, 0), 0x1af4, 0x106c));

        Assert.That(PciEnumerator.Enumerate(platform, new PciScanOptions { LastBus = 1 }), Has.Count.EqualTo(1));
        Assert.That(PciEnumerator.Enumerate(platform, new PciScanOptions { LastBus = 2 }), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task Enumerate_ModernVirtioDevice_HasTypeFromDeviceId()
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeVirtioPciFunction(platform, new PciAddress(0, 1, 0), new FakeVirtioSpec { DeviceType = 36 }));

        PciFunction function = PciEnumerator.Enumerate(platform).Single();

        Assert.That(function.IsVirtio, Is.True);
        Assert.That(function.VirtioDeviceType, Is.EqualTo(36));
        Assert.That(function.DeviceId, Is.EqualTo(VirtioPciIds.ModernDeviceIdBase + 36));
    }

    [Test]
    public async Task Enumerate_ChangesNothingOnTheDevice()
    {
        await using var platform = new FakePciPlatform();
        FakeVirtioPciFunction function = platform.Add(new FakeVirtioPciFunction(platform, new PciAddress(0, 1, 0), new FakeVirtioSpec()));
        function.WriteConfig((int)PciHeader.Bar.OffsetOf(0), 4, 0xc000_0000);
        uint[] before = [.. Enumerable.Range(0, 64).Select(i => function.Get((uint)(i * 4), 4))];

        PciEnumerator.Enumerate(platform);

        uint[] after = [.. Enumerable.Range(0, 64).Select(i => function.Get((uint)(i * 4), 4))];
        Assert.That(after, Is.EqualTo(before));
    }
}
