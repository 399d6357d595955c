using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Firmware;
using VirtioHw.Model;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// Test firmware for a virtio endpoint (of the model or the RTL): the default firmware's setup,
/// and every chain made available on any queue answered by <see cref="EchoRing"/> through the
/// endpoint's DMA and its used-buffer interrupt.
/// </summary>
internal sealed class EchoFirmware : VirtioFirmware
{
    private readonly Dictionary<ushort, EchoRing> _rings = [];

    private EchoFirmware(IDeviceHal hal, VirtioFirmwareSettings settings)
        : base(hal, settings)
    {
    }

    /// <summary>An echo firmware for a virtio endpoint built from <paramref name="description"/>; null for any other, which keeps its default firmware.</summary>
    public static EchoFirmware? Create(EndpointDescription description, IDeviceHal hal) =>
        description.Virtio is null ? null : new EchoFirmware(hal, DefaultFirmware.SettingsFor(description));

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
