using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Firmware;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// The C# hardware model with its default endpoints. Expectations come from the endpoint
/// descriptions the model is built from (hw/endpoints/*.yaml); for round trips each virtio
/// endpoint runs <see cref="EchoFirmware"/> on the model's real queue hardware.
/// </summary>
internal sealed class ModelPlatformUnderTest : PlatformUnderTest
{
    private static readonly ModelPlatformSettings Settings = ModelPlatformSettings.Default;

    public override IReadOnlyList<ExpectedEndpoint> Endpoints { get; } =
    [
        .. Settings.PciEndpoints.Select(p => Expect(p.Description, p.Address)),
        .. Settings.MmioDevices.Select(d => Expect(d, null)),
    ];

    public override Platform Create(bool echoQueues) =>
        new ModelPlatform(echoQueues ? Settings with { Firmware = hardware => EchoFirmware.Create(hardware.Description, hardware.Hal) ?? DefaultFirmware.Create(hardware) } : Settings);

    public override (Platform Platform, IReadOnlyList<PciAddress> IsmFunctions)? CreateWithIsmFirmware()
    {
        var domain = new IsmModelDomain(devices: 2);
        return (new ModelPlatform(domain.PlatformSettings()), domain.Addresses);
    }

    public override MsiVector? ConnectMmioInterrupt(Platform platform, MmioDeviceWindow window) =>
        ((ModelPlatform)platform).ConnectMmioInterrupt(window);

    /// <summary>What an endpoint built from <paramref name="d"/> is expected to be, at <paramref name="address"/> or (null) behind virtio-mmio.</summary>
    internal static ExpectedEndpoint Expect(EndpointDescription d, PciAddress? address)
    {
        VirtioHw.Model.PciIdentity id = d.Identity;
        bool mmio = address is null;
        ExpectedVirtio? virtio = d.Virtio is not { } v ? null : new ExpectedVirtio(
            v.DeviceId, v.DeviceFeatures | Host.Virtio.VirtioFeatures.Bit(Host.Virtio.VirtioFeatures.Version1),
            Structure(v.Common), Structure(v.Isr), Structure(v.Notify), v.NotifyOffMultiplier,
            v.Device is { } device ? Structure(device) : null, v.PciCfgAccess,
            [.. d.Queues.Select(q => (int)q.MaxSize)]);
        return new ExpectedEndpoint(
            d.Name, address, mmio ? d.Mmio!.Base : null, mmio ? d.Mmio!.SharedMemoryBase : null,
            id.VendorId, id.DeviceId, id.Revision, id.BaseClass, id.Subclass, id.ProgIf, id.SubsystemVendorId, id.SubsystemId,
            mmio ? [] : [.. d.Bars.Select(b => new ExpectedBar(b.Index, b.Size, b.Io ? PciBarKind.Io : b.Is64Bit ? PciBarKind.Memory64 : PciBarKind.Memory32, b.Prefetchable))],
            virtio,
            mmio || d.Msix is not { } m ? null : new ExpectedMsix(m.Vectors, m.TableBar, m.TableOffset, m.PbaBar, m.PbaOffset),
            [.. d.SharedMemory.Select(r => new ExpectedRegion(r.ShmId, r.Bar, r.Offset, r.Length, r.Kind switch
            {
                SharedMemoryKind.Chunks => RegionKind.Chunks,
                SharedMemoryKind.Notify => RegionKind.Notify,
                _ => RegionKind.Plain,
            }))]);
    }

    private static ExpectedStructure Structure(StructureLocation s) => new(s.Bar, s.Offset, s.Length);
}
