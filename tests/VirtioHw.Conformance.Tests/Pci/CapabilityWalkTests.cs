using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Conformance.Tests.Pci;

/// <summary>The capability walk against hand-made config space, hostile lists included.</summary>
public sealed class CapabilityWalkTests
{
    private static readonly PciAddress Address = new(0, 5, 0);

    private static (FakePciPlatform Platform, FakeFunction Function) Rig(ushort vendor = VirtioPciIds.VendorId, ushort device = 0x106c)
    {
        var platform = new FakePciPlatform();
        FakeFunction function = platform.Add(new FakeFunction(Address, vendor, device));
        return (platform, function);
    }

    private static void Capability(FakeFunction f, byte at, PciCapId id, byte next)
    {
        f.Set8(at, (byte)id);
        f.Set8((uint)at + VirtioPciCap.CapNext.Offset, next);
    }

    private static void Virtio(FakeFunction f, byte at, byte next, VirtioPciCfgType type, byte length, byte bar = 0, byte id = 0, uint offset = 0, uint size = 0)
    {
        Capability(f, at, PciCapId.Vendor, next);
        f.Set8((uint)at + VirtioPciCap.CapLen.Offset, length);
        f.Set8((uint)at + VirtioPciCap.CfgType.Offset, (byte)type);
        f.Set8((uint)at + VirtioPciCap.Bar.Offset, bar);
        f.Set8((uint)at + VirtioPciCap.Id.Offset, id);
        f.Set32((uint)at + VirtioPciCap.OffsetRegister.Offset, offset);
        f.Set32((uint)at + VirtioPciCap.Length.Offset, size);
    }

    [Test]
    public async Task Walk_ListThatLoopsBack_EndsWithADiagnostic()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0x40);
        Capability(f, 0x40, PciCapId.Pm, 0x50);
        Capability(f, 0x50, PciCapId.Msi, 0x60);
        Capability(f, 0x60, PciCapId.Pcie, 0x40);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities.Select(c => c.Position), Is.EqualTo(new byte[] { 0x40, 0x50, 0x60 }));
        Assert.That(walk.Diagnostics, Has.One.Contains("loops"));
    }

    [Test]
    public async Task Walk_CapabilityPointingAtItself_EndsWithADiagnostic()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0x48);
        Capability(f, 0x48, PciCapId.Pm, 0x48);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities, Has.Count.EqualTo(1));
        Assert.That(walk.Diagnostics, Has.One.Contains("points back to 0x48"));
    }

    [TestCase((byte)0xfd)]
    [TestCase((byte)0xfe)]
    [TestCase((byte)0xff)]
    public async Task Walk_PointerPastTheLastDword_EndsWithADiagnostic(byte pointer)
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0x40);
        Capability(f, 0x40, PciCapId.Pm, pointer);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities, Has.Count.EqualTo(1));
        Assert.That(walk.Diagnostics, Has.One.Contains($"0x{pointer:x2}, outside"));
    }

    [TestCase((byte)0x04)]
    [TestCase((byte)0x3c)]
    public async Task Walk_PointerIntoTheHeader_EndsWithADiagnostic(byte pointer)
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(pointer);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities, Is.Empty);
        Assert.That(walk.Diagnostics, Has.One.Contains("outside"));
    }

    [Test]
    public async Task Walk_MisalignedPointer_EndsWithADiagnostic()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0x40);
        Capability(f, 0x40, PciCapId.Pm, 0x52);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities, Has.Count.EqualTo(1));
        Assert.That(walk.Diagnostics, Has.One.Contains("not dword aligned"));
    }

    [Test]
    public async Task Walk_VirtioCapabilityRunningPastTheEndOfConfigSpace_IsNotDecoded()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0xf8);
        Capability(f, 0xf8, PciCapId.Vendor, 0);
        f.Set8(0xf8 + VirtioPciCap.CapLen.Offset, (byte)VirtioPciCap.Size);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities.Single(), Is.Not.InstanceOf<VirtioPciCapabilityInfo>());
        Assert.That(walk.Diagnostics, Has.One.Contains("runs past the end of config space"));
    }

    [Test]
    public async Task Walk_MsixCapabilityInTheLastDword_IsNotDecoded()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0xfc);
        Capability(f, 0xfc, PciCapId.Msix, 0);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities.Single(), Is.Not.InstanceOf<MsixCapabilityInfo>());
        Assert.That(walk.Diagnostics, Has.One.Contains("MSI-X capability at 0xfc"));
    }

    [Test]
    public async Task Walk_ListUsingEveryDword_IsReadWhole()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer((byte)PciHeader.Size);
        for (int at = (int)PciHeader.Size; at < PciCapabilityWalker.StandardConfigSpaceSize; at += 4)
        {
            Capability(f, (byte)at, PciCapId.Pm, at + 4 < PciCapabilityWalker.StandardConfigSpaceSize ? (byte)(at + 4) : (byte)0);
        }

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities, Has.Count.EqualTo(PciCapabilityWalker.MaxCapabilities));
        Assert.That(walk.Diagnostics, Is.Empty);
    }

    [Test]
    public async Task Walk_WithoutTheCapabilitiesListStatusBit_FindsNothing()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.Set8(PciHeader.CapabilitiesPtr.Offset, 0x40);
        Capability(f, 0x40, PciCapId.Pm, 0);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities, Is.Empty);
        Assert.That(walk.Diagnostics, Is.Empty);
    }

    [Test]
    public async Task Walk_DecodesEveryVirtioStructure_WithBarOffsetLengthIdAndMultiplier()
    {
        await using var platform = new FakePciPlatform();
        var spec = new FakeVirtioSpec { SharedMemory = [(1, 0, 0x4_0000), (7, 0x2_0000_0000, 0x1_8000_0000)] };
        platform.Add(new FakeVirtioPciFunction(platform, Address, spec));

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        VirtioPciCapabilityInfo[] caps = [.. walk.Capabilities.OfType<VirtioPciCapabilityInfo>()];
        Assert.That(caps.Select(c => c.CfgType), Is.EqualTo(new[]
        {
            VirtioPciCfgType.CommonCfg, VirtioPciCfgType.NotifyCfg, VirtioPciCfgType.IsrCfg, VirtioPciCfgType.DeviceCfg,
            VirtioPciCfgType.SharedMemoryCfg, VirtioPciCfgType.SharedMemoryCfg, VirtioPciCfgType.PciCfg,
        }));
        VirtioPciCapabilityInfo notify = caps[1];
        VirtioPciCapabilityInfo wide = caps[5];
        Assert.Multiple(() =>
        {
            Assert.That(notify.NotifyOffMultiplier, Is.EqualTo(FakeVirtioPciFunction.NotifyMultiplier));
            Assert.That(notify.Offset, Is.EqualTo(FakeVirtioPciFunction.NotifyOffset));
            Assert.That(notify.Length, Is.EqualTo(FakeVirtioPciFunction.NotifyLength));
            Assert.That(wide.Id, Is.EqualTo(7));
            Assert.That(wide.Bar, Is.EqualTo(2));
            Assert.That(wide.Offset, Is.EqualTo(0x2_0000_0000UL), "offset_hi is part of the offset");
            Assert.That(wide.Length, Is.EqualTo(0x1_8000_0000UL), "length_hi is part of the length");
            Assert.That(walk.Capabilities[0], Is.InstanceOf<MsixCapabilityInfo>());
            Assert.That(walk.Diagnostics, Is.Empty);
        });
    }

    [Test]
    public async Task Walk_DecodesMsixTableSizeAndLocations()
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeVirtioPciFunction(platform, Address, new FakeVirtioSpec(), msixVectors: 9));

        MsixCapabilityInfo msix = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true).Capabilities.OfType<MsixCapabilityInfo>().Single();

        Assert.Multiple(() =>
        {
            Assert.That(msix.TableSize, Is.EqualTo(9));
            Assert.That(msix.TableBar, Is.EqualTo(1));
            Assert.That(msix.TableOffset, Is.Zero);
            Assert.That(msix.PbaBar, Is.EqualTo(1));
            Assert.That(msix.PbaOffset, Is.EqualTo(FakeVirtioPciFunction.PbaOffset));
            Assert.That(msix.Enabled, Is.False);
        });
    }

    [Test]
    public async Task Walk_VirtioCapabilityShorterThanItsStructure_IsIgnoredWithADiagnostic()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0x40);
        Virtio(f, 0x40, 0x60, VirtioPciCfgType.SharedMemoryCfg, (byte)VirtioPciCap.Size, bar: 2, id: 1);
        Virtio(f, 0x60, 0, VirtioPciCfgType.NotifyCfg, (byte)VirtioPciCap.Size);

        PciCapabilityWalk walk = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true);

        Assert.That(walk.Capabilities.OfType<VirtioPciCapabilityInfo>(), Is.Empty);
        Assert.That(walk.Diagnostics, Has.Count.EqualTo(2));
        Assert.That(walk.Diagnostics, Has.All.Contains("shorter than"));
    }

    [Test]
    public async Task Walk_ReservedCfgType_IsKeptAndMarkedUnknown()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig();
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0x40);
        Virtio(f, 0x40, 0, (VirtioPciCfgType)6, (byte)VirtioPciCap.Size);

        VirtioPciCapabilityInfo cap = PciCapabilityWalker.Walk(platform, Address, decodeVirtio: true).Capabilities.OfType<VirtioPciCapabilityInfo>().Single();

        Assert.That(cap.IsKnownType, Is.False);
        Assert.That(cap.Name, Does.Contain("unknown cfg_type 6"));
    }

    [Test]
    public async Task Walk_VendorCapabilityOfANonVirtioDevice_IsNotReadAsVirtio()
    {
        (FakePciPlatform platform, FakeFunction f) = Rig(0x8086, 0x1234);
        await using FakePciPlatform owner = platform;
        f.SetCapabilityPointer(0x40);
        Virtio(f, 0x40, 0, VirtioPciCfgType.CommonCfg, (byte)VirtioPciCap.Size);

        PciFunction function = PciEnumerator.Enumerate(platform).Single();

        Assert.That(function.Capabilities.Single().Name, Is.EqualTo("Vendor Specific"));
        Assert.That(function.VirtioCapabilities, Is.Empty);
    }
}
