using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Cosim.Tests.Endpoint;

/// <summary>The ports of an endpoint top a transaction goes to.</summary>
internal enum EndpointPort
{
    Cfg,
    Bar0,
    Bar1,
    Bar2,
    Fw,
    Mmio,  // the virtio-mmio register window
    Shm,   // behind virtio-mmio: the BAR that holds the shared memory regions
}

/// <summary>A range of one port: the register block that answers it (null for a window), for names.</summary>
internal sealed record EndpointRegion(EndpointPort Port, ulong Offset, ulong Length, string Name, BlockInfo? Block)
{
    public bool Contains(ulong offset) => offset >= Offset && offset - Offset < Length;
}

/// <summary>
/// Where everything of an endpoint sits, from its description and the model's capability layout:
/// used to aim random transactions and to name the register a divergence is in (from the
/// generated definitions, never restated).
/// </summary>
internal sealed class EndpointMap
{
    public EndpointMap(EndpointDescription description, IReadOnlyList<CapabilityPlacement> caps)
    {
        var regions = new List<EndpointRegion>
        {
            new(EndpointPort.Cfg, 0, PciHeader.Size, "header", PciHeader.Info),
        };
        foreach (CapabilityPlacement cap in caps)
        {
            BlockInfo block = cap.Kind switch
            {
                CapabilityKind.Msix => MsixCap.Info,
                CapabilityKind.VirtioNotify => VirtioPciNotifyCap.Info,
                CapabilityKind.VirtioSharedMemory => VirtioPciCap64.Info,
                CapabilityKind.VirtioPciCfg => VirtioPciCfgCap.Info,
                _ => VirtioPciCap.Info,
            };
            regions.Add(new(EndpointPort.Cfg, (ulong)cap.Offset, (ulong)cap.Length, $"{cap.Kind} capability", block));
        }
        if (description.Virtio is { } virtio)
        {
            regions.Add(Bar(virtio.Common, "common cfg", VirtioCommonCfg.Info));
            regions.Add(Bar(virtio.Isr, "ISR", VirtioIsr.Info));
            regions.Add(Bar(virtio.Notify, "notify region", null));
            if (virtio.Device is { } device) regions.Add(Bar(device, "device cfg", IsmConfig.Info));
        }
        if (description.Ivshmem is { } ivshmem)
        {
            regions.Add(Bar(ivshmem.Registers, "ivshmem registers", Ivshmem.Info));
        }
        if (description.Msix is { } msix)
        {
            regions.Add(new(PortOf(msix.TableBar), msix.TableOffset, (ulong)msix.Vectors * MsixTable.EntryMsgAddrLo.Stride, "MSI-X table", MsixTable.Info));
            regions.Add(new(PortOf(msix.PbaBar), msix.PbaOffset, MsixPba.Size, "MSI-X PBA", MsixPba.Info));
        }
        foreach (SharedMemoryRegion region in description.SharedMemory)
        {
            regions.Add(new(PortOf(region.Bar), region.Offset, region.Length, $"shared memory '{region.Name}' ({region.Kind})", null));
        }
        regions.Add(new(EndpointPort.Fw, 0, FwCsr.Size, "fw CSR", FwCsr.Info));
        Regions = regions;
    }

    /// <summary>The same device behind virtio-mmio: the register window, the device configuration after it, the shared memory BAR.</summary>
    private EndpointMap(EndpointDescription description)
    {
        var regions = new List<EndpointRegion>
        {
            new(EndpointPort.Mmio, 0, VirtioMmio.Size, "virtio-mmio registers", VirtioMmio.Info),
            new(EndpointPort.Mmio, VirtioMmio.Size, VirtioMmioEndpointModel.WindowSize - VirtioMmio.Size, "device cfg", IsmConfig.Info),
        };
        foreach (SharedMemoryRegion region in description.SharedMemory)
        {
            regions.Add(new(EndpointPort.Shm, region.Offset, region.Length, $"shared memory '{region.Name}' ({region.Kind})", null));
        }
        regions.Add(new(EndpointPort.Fw, 0, FwCsr.Size, "fw CSR", FwCsr.Info));
        Regions = regions;
    }

    public static EndpointMap ForMmio(EndpointDescription description) => new(description);

    public IReadOnlyList<EndpointRegion> Regions { get; }

    public EndpointRegion Find(string name) => Regions.First(r => r.Name == name);

    public static EndpointPort PortOf(int bar) => bar switch
    {
        0 => EndpointPort.Bar0,
        1 => EndpointPort.Bar1,
        2 => EndpointPort.Bar2,
        _ => throw new ArgumentOutOfRangeException(nameof(bar), bar, "the endpoint tops have BAR0-BAR2 ports"),
    };

    /// <summary>"common cfg device_status" or "MSI-X table entry_vector_control[3]"; the region alone where no register is.</summary>
    public string Describe(EndpointPort port, ulong offset)
    {
        EndpointRegion? region = Regions.FirstOrDefault(r => r.Port == port && r.Contains(offset));
        if (region is null) return $"{port} 0x{offset:x} (hole)";
        ulong local = offset - region.Offset;
        if (region.Block is { } block)
        {
            foreach (RegisterInfo reg in block.Registers)
            {
                for (int i = 0; i < reg.Count; i++)
                {
                    uint at = reg.ElementOffset(i);
                    if (local >= at && local < at + (uint)reg.Bytes)
                    {
                        return $"{region.Name} {reg.Name}{(reg.IsArray ? $"[{i}]" : "")} ({port} 0x{offset:x})";
                    }
                }
            }
        }
        return $"{region.Name} +0x{local:x} ({port} 0x{offset:x})";
    }

    private static EndpointRegion Bar(StructureLocation at, string name, BlockInfo? block) =>
        new(PortOf(at.Bar), at.Offset, at.Length, name, block);
}
