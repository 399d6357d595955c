using System.Collections.Immutable;
using VirtioHw.Firmware;

namespace VirtioHw.Model;

/// <summary>Which hand-written logic the endpoint carries besides the PCI function.</summary>
public enum EndpointPersonality
{
    /// <summary>virtio-ism: chunk-slot shared memory window and an ISM notify area.</summary>
    Ism,

    /// <summary>virtio-dmabuf: a virtio device with queues only.</summary>
    Dmabuf,

    /// <summary>ivshmem: the ivshmem registers and a plain shared memory BAR; no virtio.</summary>
    Ivshmem,
}

/// <summary>How a shared memory region answers accesses.</summary>
public enum SharedMemoryKind
{
    /// <summary>Chunk slots translated by the chunk table that firmware loads.</summary>
    Chunks,

    /// <summary>The ISM notify area: a write of a region's notify-address becomes an ISM_KICK event.</summary>
    Notify,

    /// <summary>Backing memory, mapped one to one.</summary>
    Plain,
}

/// <summary>Identity of the PCI function.</summary>
public sealed record PciIdentity(
    ushort VendorId,
    ushort DeviceId,
    byte Revision,
    byte BaseClass,
    byte Subclass,
    byte ProgIf,
    ushort SubsystemVendorId,
    ushort SubsystemId);

/// <summary>One base address register: memory (32- or 64-bit, maybe prefetchable) or I/O.</summary>
public sealed record BarDescription(int Index, ulong Size, bool Is64Bit, bool Prefetchable, bool Io);

/// <summary>Where a structure lives: a BAR, an offset in it and a length.</summary>
public sealed record StructureLocation(int Bar, ulong Offset, ulong Length);

/// <summary>The virtio structures a virtio-pci capability points at.</summary>
/// <param name="DeviceId">Virtio device id (44 ISM, 36 dmabuf).</param>
/// <param name="DeviceFeatures">Device-specific feature bits offered besides VIRTIO_F_VERSION_1.</param>
/// <param name="Common">The common configuration.</param>
/// <param name="Isr">The ISR status byte.</param>
/// <param name="Notify">The notification region.</param>
/// <param name="NotifyOffMultiplier">Bytes between the notify addresses of consecutive queues; 0 for one shared address.</param>
/// <param name="Device">The device configuration, or null when the device has none.</param>
/// <param name="PciCfgAccess">Whether the function has the PCI configuration access capability.</param>
public sealed record VirtioDescription(
    byte DeviceId,
    ulong DeviceFeatures,
    StructureLocation Common,
    StructureLocation Isr,
    StructureLocation Notify,
    uint NotifyOffMultiplier,
    StructureLocation? Device,
    bool PciCfgAccess);

/// <summary>MSI-X: vector count, and where the table and the pending-bit array live.</summary>
public sealed record MsixDescription(int Vectors, int TableBar, ulong TableOffset, int PbaBar, ulong PbaOffset);

/// <summary>A shared memory region (one <c>virtio_pci_cap64</c> on a virtio endpoint).</summary>
/// <param name="ShmId">Its id among the device's regions.</param>
/// <param name="Name">A name for messages.</param>
/// <param name="Bar">The BAR holding it.</param>
/// <param name="Offset">Where it starts in the BAR.</param>
/// <param name="Length">Bytes in the region.</param>
/// <param name="Kind">How it answers accesses.</param>
/// <param name="GranuleSize">Chunk size of a <see cref="SharedMemoryKind.Chunks"/> region, notify-address size of a <see cref="SharedMemoryKind.Notify"/> region, 0 otherwise.</param>
public sealed record SharedMemoryRegion(
    byte ShmId,
    string Name,
    int Bar,
    ulong Offset,
    ulong Length,
    SharedMemoryKind Kind,
    ulong GranuleSize);

/// <summary>A virtqueue and the largest size the device allows for it.</summary>
public sealed record QueueDescription(string Name, ushort MaxSize);

/// <summary>The ivshmem register file, this peer's id, and whose behaviour the device has.</summary>
/// <param name="Registers">Where the register file is.</param>
/// <param name="IvPosition">The peer id IVPosition reads.</param>
/// <param name="Compat">The seed specification's behaviour (the default) or QEMU 7.2's (<c>compat: qemu</c>).</param>
public sealed record IvshmemDescription(StructureLocation Registers, uint IvPosition, IvshmemCompat Compat = IvshmemCompat.Specification);

/// <summary>The ISM communication domain id (a version-4 UUID) and this device's id in it.</summary>
public sealed record IsmDescription(Guid Cdid, ulong DevId);

/// <summary>Where the same device sits when it is placed behind virtio-mmio.</summary>
/// <param name="Base">Physical address of the register window.</param>
/// <param name="SharedMemoryBase">Physical address where the BAR holding the shared memory regions is placed.</param>
public sealed record MmioPlacement(ulong Base, ulong SharedMemoryBase);

/// <summary>
/// Everything the hardware of one endpoint personality is built from, loaded from a YAML file of
/// hw/endpoints/ by <see cref="EndpointDescriptions"/> and validated there. Immutable.
/// </summary>
/// <param name="Name">The personality's name, such as <c>virtio-ism</c>.</param>
/// <param name="Source">The file it came from, for messages.</param>
/// <param name="Personality">Which hand-written logic it carries.</param>
/// <param name="Identity">The PCI identity.</param>
/// <param name="Bars">The implemented BARs.</param>
/// <param name="Virtio">The virtio structures; null for ivshmem.</param>
/// <param name="Msix">MSI-X; null without it.</param>
/// <param name="SharedMemory">The shared memory regions.</param>
/// <param name="Queues">The virtqueues, queue 0 first.</param>
/// <param name="Ivshmem">The ivshmem registers; null unless ivshmem.</param>
/// <param name="Ism">The ISM domain identity; null unless ISM.</param>
/// <param name="Mmio">Where the device sits behind virtio-mmio; null when it is PCI only.</param>
/// <param name="BackingMemory">Bytes of device memory behind the shared memory windows.</param>
/// <param name="EventFifoDepth">Entries of the firmware event FIFO.</param>
public sealed record EndpointDescription(
    string Name,
    string Source,
    EndpointPersonality Personality,
    PciIdentity Identity,
    ImmutableArray<BarDescription> Bars,
    VirtioDescription? Virtio,
    MsixDescription? Msix,
    ImmutableArray<SharedMemoryRegion> SharedMemory,
    ImmutableArray<QueueDescription> Queues,
    IvshmemDescription? Ivshmem,
    IsmDescription? Ism,
    MmioPlacement? Mmio,
    ulong BackingMemory,
    int EventFifoDepth)
{
    /// <summary>The BAR with index <paramref name="index"/>, or null when it is not implemented.</summary>
    public BarDescription? FindBar(int index)
    {
        foreach (BarDescription bar in Bars)
        {
            if (bar.Index == index)
            {
                return bar;
            }
        }

        return null;
    }

    /// <summary>The shared memory region with <paramref name="shmId"/>, or null.</summary>
    public SharedMemoryRegion? FindSharedMemory(int shmId)
    {
        foreach (SharedMemoryRegion region in SharedMemory)
        {
            if (region.ShmId == shmId)
            {
                return region;
            }
        }

        return null;
    }
}
