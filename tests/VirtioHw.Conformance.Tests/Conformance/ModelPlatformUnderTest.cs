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
        new ModelPlatform(echoQueues ? Settings with { Firmware = EchoFirmware.Create } : Settings);

    public override (Platform Platform, IReadOnlyList<PciAddress> IsmFunctions)? CreateWithIsmFirmware()
    {
        var domain = new IsmModelDomain(devices: 2);
        return (new ModelPlatform(domain.PlatformSettings()), domain.Addresses);
    }

    public override MsiVector? ConnectMmioInterrupt(Platform platform, MmioDeviceWindow window) =>
        ((ModelPlatform)platform).ConnectMmioInterrupt(window);

    private static ExpectedEndpoint Expect(EndpointDescription d, PciAddress? address)
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

    /// <summary>
    /// Test firmware for a virtio endpoint of the model: the default firmware's setup, and every
    /// chain made available on any queue answered by <see cref="EchoRing"/> through the endpoint's
    /// DMA and its used-buffer interrupt. Other endpoints keep their default firmware.
    /// </summary>
    private sealed class EchoFirmware : VirtioFirmware
    {
        private readonly Dictionary<ushort, EchoRing> _rings = [];

        private EchoFirmware(IDeviceHal hal, VirtioFirmwareSettings settings)
            : base(hal, settings)
        {
        }

        public static DeviceFirmware Create(EndpointModel hardware) =>
            hardware.Description.Virtio is null
                ? DefaultFirmware.Create(hardware)
                : new EchoFirmware(hardware.Hal, DefaultFirmware.SettingsFor(hardware.Description));

        protected override void OnQueueReady(ushort queue, QueueSetup setup) =>
            _rings[queue] = new EchoRing(setup.DescriptorArea, setup.DriverArea, setup.DeviceArea, setup.Size, ReadDma, WriteDma);

        protected override void OnQueueNotify(ushort queue, uint data)
        {
            if (_rings.TryGetValue(queue, out EchoRing? ring) && ring.ServeAvailable(out _))
            {
                NotifyUsed(queue);
            }
        }

        protected override void OnQueueReset(ushort queue)
        {
            _rings.Remove(queue);
            base.OnQueueReset(queue);
        }

        protected override void OnDeviceReset() => _rings.Clear();
    }
}
