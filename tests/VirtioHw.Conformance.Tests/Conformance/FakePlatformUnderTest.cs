using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// The fakes laid out like the model's default platform: an ISM-like virtio function at 00:01.0,
/// an ivshmem-like function at 00:02.0, a dmabuf-like virtio function at 00:03.0 and an ISM-like
/// virtio-mmio device. The expectations come from the same specs the fakes are built from.
/// </summary>
internal sealed class FakePlatformUnderTest : PlatformUnderTest
{
    private const ulong MmioBase = 0xfe00_0000;
    private const ulong MmioSharedMemoryBase = 0x60_0000_0000;

    private static readonly FakeVirtioSpec Ism = new()
    {
        DeviceType = VirtioDeviceTypes.Ism,
        QueueMaxSizes = [256, 256],
        SharedMemory = [(1, 0, 0x8_0000), (2, 0x8_0000, 0x1000)],
    };

    private static readonly FakeVirtioSpec Dmabuf = new()
    {
        DeviceType = VirtioDeviceTypes.Dmabuf,
        Features = VirtioFeatures.Bit(VirtioFeatures.Version1),
        QueueMaxSizes = [128, 128],
        SharedMemory = [],
    };

    private static readonly IReadOnlyList<FakeBar> IvshmemBars =
        [new FakeBar(0, 0x100, PciBarKind.Memory32), new FakeBar(1, 0x1000, PciBarKind.Memory32), new FakeBar(2, 0x40_0000, PciBarKind.Memory64, true)];

    public override IReadOnlyList<ExpectedEndpoint> Endpoints { get; } =
    [
        VirtioPci("virtio-ism", new PciAddress(0, 1, 0), Ism),
        new ExpectedEndpoint("ivshmem", new PciAddress(0, 2, 0), null, null, VirtioPciIds.VendorId, VirtioPciIds.IvshmemDeviceId,
            1, 0x05, 0x00, 0, 0, 0, [.. IvshmemBars.Select(Bar)], null, null, []),
        VirtioPci("virtio-dmabuf", new PciAddress(0, 3, 0), Dmabuf),
        VirtioPci("virtio-ism", null, Ism) with
        {
            MmioBase = MmioBase,
            MmioSharedMemoryBase = MmioSharedMemoryBase,
            Msix = null,
            Bars = [],
        },
    ];

    public override Platform Create(bool echoQueues)
    {
        var platform = new FakePciPlatform();
        platform.Add(new FakeVirtioPciFunction(platform, new PciAddress(0, 1, 0), Ism));
        FakeFunction ivshmem = platform.Add(new FakeFunction(new PciAddress(0, 2, 0), VirtioPciIds.VendorId, VirtioPciIds.IvshmemDeviceId, IvshmemBars));
        ivshmem.Set8(PciHeader.RevisionId.Offset, 1);
        ivshmem.Set8(PciHeader.BaseClass.Offset, 0x05);
        platform.Add(new FakeVirtioPciFunction(platform, new PciAddress(0, 3, 0), Dmabuf));
        platform.AddMmio(new FakeVirtioMmioDevice(platform, MmioBase, Ism, MmioSharedMemoryBase) { DeviceId = (uint)Ism.DeviceType });
        platform.AddMmio(new FakeRam(MmioSharedMemoryBase, FakeVirtioPciFunction.SharedMemorySize), virtio: false);
        return platform;
    }

    private static ExpectedBar Bar(FakeBar bar) => new(bar.Index, bar.Size, bar.Kind, bar.Prefetchable);

    private static ExpectedEndpoint VirtioPci(string name, PciAddress? address, FakeVirtioSpec spec) => new(
        name, address, null, null,
        VirtioPciIds.VendorId, (ushort)(VirtioPciIds.ModernDeviceIdBase + spec.DeviceType),
        FakeVirtioPciFunction.Revision, FakeVirtioPciFunction.BaseClass, FakeVirtioPciFunction.SubClass, 0,
        VirtioPciIds.VendorId, (ushort)spec.DeviceType,
        [.. FakeVirtioPciFunction.BarLayout.Select(Bar)],
        new ExpectedVirtio(
            spec.DeviceType, spec.Features,
            new ExpectedStructure(0, FakeVirtioPciFunction.CommonOffset, VirtioCommonCfg.Size),
            new ExpectedStructure(0, FakeVirtioPciFunction.IsrOffset, 4),
            new ExpectedStructure(0, FakeVirtioPciFunction.NotifyOffset, FakeVirtioPciFunction.NotifyLength),
            FakeVirtioPciFunction.NotifyMultiplier,
            new ExpectedStructure(0, FakeVirtioPciFunction.DeviceOffset, (ulong)spec.DeviceConfigLength),
            PciCfgAccess: true,
            [.. spec.QueueMaxSizes.Select(s => (int)s)]),
        new ExpectedMsix(4, FakeVirtioPciFunction.MsixTableBar, 0, FakeVirtioPciFunction.MsixTableBar, FakeVirtioPciFunction.PbaOffset),
        [.. spec.SharedMemory.Select(r => new ExpectedRegion(r.Id, FakeVirtioPciFunction.SharedMemoryBar, r.Offset, r.Length, RegionKind.Plain))]);
}
