using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>The capability structures an endpoint can carry.</summary>
public enum CapabilityKind
{
    Msix,
    VirtioCommon,
    VirtioNotify,
    VirtioIsr,
    VirtioDevice,
    VirtioSharedMemory,
    VirtioPciCfg,
}

/// <summary>One capability in config space and what it points at.</summary>
/// <param name="Kind">Which structure it is.</param>
/// <param name="Offset">Config space offset of the capability.</param>
/// <param name="Length">Bytes it occupies (the size of its register block; cap_len for virtio capabilities).</param>
/// <param name="Next">Offset of the next capability, 0 for the last (cap_next).</param>
/// <param name="Bar">BAR of the structure (MSI-X: of the vector table); 0 for the PCI cfg access capability.</param>
/// <param name="Id">The shmid of a shared memory capability, 0 otherwise.</param>
/// <param name="StructureOffset">Offset of the structure in its BAR.</param>
/// <param name="StructureLength">Length of the structure.</param>
public sealed record CapabilityPlacement(
    CapabilityKind Kind,
    int Offset,
    int Length,
    int Next,
    int Bar,
    byte Id,
    ulong StructureOffset,
    ulong StructureLength);

/// <summary>
/// Lays out the capability list of an endpoint from its description: MSI-X first, then the virtio
/// capabilities (common, notify, ISR, device, one cap64 per shared memory region in description
/// order, PCI cfg access), each right after the previous one on a 4-byte boundary, starting where
/// the type-0 header ends. This one routine decides the layout; the model builds config space from
/// it and the RTL generator is to mirror it.
/// </summary>
public static class CapabilityLayout
{
    /// <summary>Capabilities live in the first 256 bytes of config space (the PCI-compatible part).</summary>
    public const int StandardConfigSpaceSize = 0x100;

    /// <summary>Where the capability list starts (what capabilities_ptr holds): right after the header.</summary>
    public const int FirstOffset = (int)PciHeader.Size;

    /// <summary>The capabilities of <paramref name="description"/>, in list order.</summary>
    public static IReadOnlyList<CapabilityPlacement> Plan(EndpointDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var items = new List<(CapabilityKind Kind, int Length, int Bar, byte Id, ulong Offset, ulong StructureLength)>();
        if (description.Msix is { } msix)
        {
            items.Add((CapabilityKind.Msix, (int)MsixCap.Size, msix.TableBar, 0, msix.TableOffset,
                (ulong)msix.Vectors * MsixTable.EntryMsgAddrLo.Stride));
        }

        if (description.Virtio is { } virtio)
        {
            Add(items, CapabilityKind.VirtioCommon, (int)VirtioPciCap.Size, virtio.Common);
            Add(items, CapabilityKind.VirtioNotify, (int)VirtioPciNotifyCap.Size, virtio.Notify);
            Add(items, CapabilityKind.VirtioIsr, (int)VirtioPciCap.Size, virtio.Isr);
            if (virtio.Device is { } device)
            {
                Add(items, CapabilityKind.VirtioDevice, (int)VirtioPciCap.Size, device);
            }

            foreach (SharedMemoryRegion region in description.SharedMemory)
            {
                items.Add((CapabilityKind.VirtioSharedMemory, (int)VirtioPciCap64.Size, region.Bar, region.ShmId, region.Offset, region.Length));
            }

            if (virtio.PciCfgAccess)
            {
                items.Add((CapabilityKind.VirtioPciCfg, (int)VirtioPciCfgCap.Size, 0, 0, 0, 0));
            }
        }

        var placements = new CapabilityPlacement[items.Count];
        int offset = FirstOffset;
        for (int i = 0; i < items.Count; i++)
        {
            int next = i + 1 < items.Count ? AlignUp(offset + items[i].Length) : 0;
            placements[i] = new CapabilityPlacement(items[i].Kind, offset, items[i].Length, next, items[i].Bar, items[i].Id, items[i].Offset, items[i].StructureLength);
            offset = next;
        }

        return placements;
    }

    /// <summary>First config space byte after the list (where it would continue).</summary>
    public static int End(IReadOnlyList<CapabilityPlacement> plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan.Count == 0 ? FirstOffset : plan[^1].Offset + plan[^1].Length;
    }

    private static void Add(List<(CapabilityKind, int, int, byte, ulong, ulong)> items, CapabilityKind kind, int length, StructureLocation at) =>
        items.Add((kind, length, at.Bar, 0, at.Offset, at.Length));

    private static int AlignUp(int offset) => (offset + 3) & ~3;
}
