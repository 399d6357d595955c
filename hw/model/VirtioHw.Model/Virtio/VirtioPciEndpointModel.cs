using VirtioHw.Firmware;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// A virtio device on PCI (ISM, dmabuf): common cfg, ISR, notify region and device cfg in the
/// BARs the description names, MSI-X, and the shared memory windows (chunk slots, ISM notify
/// area) in theirs. The ISR and the config vector follow firmware's isr_set; a device reset
/// clears queue state, ISR, config vector and pending MSI-X messages.
/// </summary>
public sealed class VirtioPciEndpointModel : PciEndpointModel
{
    private readonly VirtioCommonCfgModel _common = new();
    private readonly VirtioIsrModel _isr = new();

    /// <param name="description">A validated description of a virtio personality.</param>
    /// <param name="upstream">Where DMA and MSI-X messages go; not owned.</param>
    /// <param name="backing">Device memory shared with other endpoints, or null for its own.</param>
    public VirtioPciEndpointModel(EndpointDescription description, IRootPort upstream, SharedMemoryBacking? backing = null)
        : base(description, upstream, backing)
    {
        VirtioDescription virtio = description.Virtio
            ?? throw new ArgumentException($"{description.Name} is not a virtio endpoint", nameof(description));
        var core = new VirtioCore(this, new Transport(this));
        CommonCfgLogic.Connect(_common, core);
        MapBar(virtio.Common.Bar, virtio.Common.Offset, virtio.Common.Length, new RegisterBlockTarget(_common));
        MapBar(virtio.Isr.Bar, virtio.Isr.Offset, virtio.Isr.Length, new RegisterBlockTarget(_isr));
        MapBar(virtio.Notify.Bar, virtio.Notify.Offset, virtio.Notify.Length, new NotifyRegion(core, virtio.NotifyOffMultiplier));
        if (virtio.Device is { } device && core.DeviceConfig is { } config)
        {
            MapBar(device.Bar, device.Offset, device.Length, new RegisterBlockTarget(config.Block));
        }

        foreach (SharedMemoryRegion region in description.SharedMemory)
        {
            MapBar(region.Bar, region.Offset, region.Length, CreateSharedMemoryWindow(region));
        }
    }

    private protected override bool IntxLevel => _isr.IsrQueueInterrupt || _isr.IsrConfigInterrupt;

    /// <summary>The common cfg, ISR and MSI-X side of <see cref="VirtioCore"/>.</summary>
    private sealed class Transport(VirtioPciEndpointModel endpoint) : IVirtioTransport
    {
        public byte Status
        {
            get => endpoint._common.DeviceStatus;
            set => endpoint._common.DeviceStatus = value;
        }

        public void RaiseQueueInterrupt() => endpoint._isr.HwSetIsrQueueInterrupt();

        /// <summary>Firmware cannot see config_msix_vector, so the hardware sends the config vector itself.</summary>
        public void RaiseConfigInterrupt()
        {
            endpoint._isr.HwSetIsrConfigInterrupt();
            ushort vector = endpoint._common.ConfigMsixVector;
            if (vector != VirtioFirmware.NoVector)
            {
                endpoint.Msix?.Trigger(vector);
            }
        }

        public void SetConfigGeneration(byte generation) => endpoint._common.SetConfigGeneration(generation);

        public void ResetInterrupts()
        {
            endpoint._isr.Reset();
            endpoint._common.ConfigMsixVector = VirtioFirmware.NoVector;
            endpoint.Msix?.ClearPending();
        }
    }
}
