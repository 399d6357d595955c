using VirtioHw.Host.Pci;
using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// The capability list of every function walks cleanly and locates the described structures.
/// (Hostile lists are in <see cref="Pci.CapabilityWalkTests"/>, on hand-made config space.)
/// </summary>
[TestFixture(PlatformKind.Fake)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
[TestFixture(PlatformKind.Qemu)]
public sealed class CapabilityConformance(PlatformKind kind) : ConformanceFixture(kind)
{
    [Test]
    public void CapabilityList_WalksWithoutDiagnostics()
    {
        IReadOnlyList<PciFunction> functions = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (PciFunction function in functions)
            {
                PciCapabilityWalk walk = PciCapabilityWalker.Walk(Platform, function.Address, function.IsVirtio);
                Assert.That(walk.Diagnostics, Is.Empty, function.ToString());
                Assert.That(walk.Capabilities.Select(c => c.Position), Is.Unique, function.ToString());
            }
        }
    }

    [Test]
    public void VirtioCapabilities_LocateTheDescribedStructures()
    {
        IReadOnlyList<PciFunction> functions = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in VirtioPciEndpoints)
            {
                PciFunction function = functions.Find(e.Address!.Value);
                ExpectedVirtio v = e.Virtio!;
                Assert.That(Locate(function, VirtioPciCfgType.CommonCfg), Is.EqualTo(v.Common), $"{e} common");
                Assert.That(Locate(function, VirtioPciCfgType.NotifyCfg), Is.EqualTo(v.Notify), $"{e} notify");
                Assert.That(Locate(function, VirtioPciCfgType.IsrCfg), Is.EqualTo(v.Isr), $"{e} ISR");
                Assert.That(Locate(function, VirtioPciCfgType.DeviceCfg), Is.EqualTo(v.Device), $"{e} device");
                Assert.That(function.VirtioCapabilities.Single(c => c.CfgType == VirtioPciCfgType.NotifyCfg).NotifyOffMultiplier,
                    Is.EqualTo(v.NotifyOffMultiplier), $"{e} notify_off_multiplier");
                Assert.That(function.VirtioCapabilities.Any(c => c.CfgType == VirtioPciCfgType.PciCfg), Is.EqualTo(v.PciCfgAccess), $"{e} PCI cfg access");
            }
        }
    }

    [Test]
    public void SharedMemoryCapabilities_AreCap64_OnePerRegion_WithTheShmidAsId()
    {
        IReadOnlyList<PciFunction> functions = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in VirtioPciEndpoints)
            {
                VirtioPciCapabilityInfo[] shm = [.. functions.Find(e.Address!.Value).VirtioCapabilities.Where(c => c.CfgType == VirtioPciCfgType.SharedMemoryCfg)];
                Assert.That(shm.Select(c => new ExpectedRegion(c.Id, c.Bar, c.Offset, c.Length, RegionKind.Plain)),
                    Is.EqualTo(e.SharedMemory.Select(r => r with { Kind = RegionKind.Plain })), e.ToString());
                Assert.That(shm.Select(c => (uint)c.CapLength), Has.All.GreaterThanOrEqualTo(VirtioPciCap64.Size), e.ToString());
                Assert.That(shm.Select(c => c.Id), Is.Unique, $"{e}: a shmid is unique per device");
            }
        }
    }

    [Test]
    public void EveryVirtioCapability_IsOfAKnownTypeInAValidBar()
    {
        IReadOnlyList<PciFunction> functions = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (VirtioPciCapabilityInfo cap in functions.SelectMany(f => f.VirtioCapabilities))
            {
                Assert.That(cap.IsKnownType, Is.True, cap.ToString());
                Assert.That(cap.HasValidBar, Is.True, cap.ToString());
            }
        }
    }

    [Test]
    public void MsixCapability_MatchesTheDescription()
    {
        IReadOnlyList<PciFunction> functions = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in PciEndpoints)
            {
                MsixCapabilityInfo? msix = functions.Find(e.Address!.Value).MsixCapability;
                ExpectedMsix? found = msix is null ? null : new ExpectedMsix(msix.TableSize, msix.TableBar, msix.TableOffset, msix.PbaBar, msix.PbaOffset);
                Assert.That(found, Is.EqualTo(e.Msix), e.ToString());
                Assert.That(msix?.Enabled ?? false, Is.False, $"{e}: MSI-X is off out of reset");
            }
        }
    }

    [Test]
    public void CapabilitiesListBit_IsSetWhenThereIsAList()
    {
        IReadOnlyList<PciFunction> functions = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (PciFunction function in functions.Where(f => f.Capabilities.Count > 0))
            {
                Assert.That(function.Status & PciHeader.Status.CapabilitiesList.Mask, Is.Not.Zero, function.ToString());
            }
        }
    }

    private static ExpectedStructure? Locate(PciFunction function, VirtioPciCfgType type) =>
        function.VirtioCapabilities.FirstOrDefault(c => c.CfgType == type) is { } cap
            ? new ExpectedStructure(cap.Bar, cap.Offset, cap.Length)
            : null;
}
