using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>Enumeration finds exactly the described functions, with their identity.</summary>
[TestFixture(PlatformKind.Fake)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
[TestFixture(PlatformKind.Qemu)]
public sealed class EnumerationConformance(PlatformKind kind) : ConformanceFixture(kind)
{
    [Test]
    public void Enumeration_FindsEveryDescribedFunction_AndNothingElse()
    {
        IReadOnlyList<PciFunction> found = PciEnumerator.Enumerate(Platform);

        Assert.That(found.Select(f => f.Address).Except(Target.PlatformFunctions), Is.EqualTo(PciEndpoints.Select(e => e.Address!.Value)));
    }

    [Test]
    public void Enumeration_ReadsTheDescribedIdentity()
    {
        IReadOnlyList<PciFunction> found = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in PciEndpoints)
            {
                PciIdentity id = found.Find(e.Address!.Value).Identity;
                Assert.That((id.VendorId, id.DeviceId, id.RevisionId), Is.EqualTo((e.VendorId, e.DeviceId, e.Revision)), e.ToString());
                Assert.That((id.BaseClass, id.SubClass, id.ProgIf), Is.EqualTo((e.BaseClass, e.SubClass, e.ProgIf)), e.ToString());
                Assert.That((id.SubsystemVendorId, id.SubsystemId), Is.EqualTo((e.SubsystemVendorId, e.SubsystemId)), e.ToString());
                Assert.That(id.HeaderLayout, Is.EqualTo((byte)PciHeader.PciHeaderType.Type0), e.ToString());
            }
        }
    }

    [Test]
    public void ModernVirtioDevice_HasDeviceId0x1040PlusItsType()
    {
        IReadOnlyList<PciFunction> found = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in VirtioPciEndpoints)
            {
                PciFunction function = found.Find(e.Address!.Value);
                Assert.That(function.IsVirtio, Is.True, e.ToString());
                Assert.That(function.VirtioDeviceType, Is.EqualTo(e.Virtio!.DeviceType), e.ToString());
                Assert.That(function.DeviceId, Is.EqualTo(VirtioPciIds.ModernDeviceIdBase + e.Virtio.DeviceType), e.ToString());
            }
        }
    }

    [Test]
    public void VirtioMmioDevice_HasMagicVersion2AndItsDeviceId()
    {
        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in MmioEndpoints)
            {
                VirtioMmioProbe probe = VirtioMmioTransport.Identify(Platform, e.MmioBase!.Value);
                Assert.That(probe.IsVirtio, Is.True, e.ToString());
                Assert.That(probe.Version, Is.EqualTo(VirtioMmio.Version.ResetValue), e.ToString());
                Assert.That(probe.DeviceId, Is.EqualTo(e.Virtio!.DeviceType), e.ToString());
            }
        }

        Assert.That(Platform.VirtioMmioDevices.Select(w => w.BaseAddress), Is.EqualTo(MmioEndpoints.Select(e => e.MmioBase!.Value)));
    }
}
