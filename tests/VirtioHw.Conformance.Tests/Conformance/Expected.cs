using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>A BAR as the device's description gives it.</summary>
internal sealed record ExpectedBar(int Index, ulong Size, PciBarKind Kind, bool Prefetchable);

/// <summary>Where a virtio structure is, as described.</summary>
internal sealed record ExpectedStructure(int Bar, ulong Offset, ulong Length);

/// <summary>How a shared memory region answers.</summary>
internal enum RegionKind
{
    /// <summary>Plain memory: what is written reads back.</summary>
    Plain,

    /// <summary>ISM chunk slots: all-ones and dropped writes until firmware maps a chunk.</summary>
    Chunks,

    /// <summary>The ISM notify area: writes become events.</summary>
    Notify,
}

internal sealed record ExpectedRegion(byte ShmId, int Bar, ulong Offset, ulong Length, RegionKind Kind);

/// <summary>The virtio side of an endpoint, as described; DeviceFeatures includes VIRTIO_F_VERSION_1.</summary>
internal sealed record ExpectedVirtio(
    int DeviceType, ulong DeviceFeatures,
    ExpectedStructure Common, ExpectedStructure Isr, ExpectedStructure Notify, uint NotifyOffMultiplier,
    ExpectedStructure? Device, bool PciCfgAccess, IReadOnlyList<int> QueueMaxSizes);

internal sealed record ExpectedMsix(int Vectors, int TableBar, ulong TableOffset, int PbaBar, ulong PbaOffset);

/// <summary>
/// One device of a platform as its description (not the code under test) says it is: the
/// expectations the conformance fixtures check the host stack's findings against.
/// A PCI function has an Address; a virtio-mmio device has MmioBase and MmioSharedMemoryBase
/// (where its shared memory BAR is placed) instead, and no BARs or MSI-X.
/// </summary>
internal sealed record ExpectedEndpoint(
    string Name, PciAddress? Address, ulong? MmioBase, ulong? MmioSharedMemoryBase,
    ushort VendorId, ushort DeviceId, byte Revision, byte BaseClass, byte SubClass, byte ProgIf,
    ushort SubsystemVendorId, ushort SubsystemId,
    IReadOnlyList<ExpectedBar> Bars, ExpectedVirtio? Virtio, ExpectedMsix? Msix, IReadOnlyList<ExpectedRegion> SharedMemory)
{
    public override string ToString() => Address is { } a ? $"{Name}@{a}" : $"{Name}@mmio:0x{MmioBase:x}";
}
