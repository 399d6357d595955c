using VirtioHw.Host.Pci;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// The rules an endpoint description must keep for the hardware to be buildable: BARs that PCI
/// can size, structures inside their BARs and apart from each other, a capability list that fits
/// in config space, and what each personality needs. Every failure is one line naming the key.
/// </summary>
internal static class DescriptionRules
{
    // PCI: a memory BAR decodes at least 16 bytes; a 32-bit BAR at most 2 GiB; I/O BARs 4-256 bytes,
    // and 16 here so that the address bits match the generated bar.address field.
    private const ulong MinimumMemoryBar = 16;
    private const ulong Maximum32BitBar = 1UL << 31;
    private const ulong MinimumIoBar = 16;
    private const ulong MaximumIoBar = 256;
    private const ulong MinimumChunk = 4096;

    public static void Check(EndpointDescription d)
    {
        var context = new Context(d);
        CheckBars(context);
        CheckPersonality(context);
        CheckVirtio(context);
        CheckMsix(context);
        CheckSharedMemory(context);
        CheckQueues(context);
        CheckIvshmem(context);
        CheckIsm(context);
        CheckMmio(context);
        CheckOverlaps(context);
        CheckCapabilities(context);
        if (d.EventFifoDepth is < 1 || (ulong)d.EventFifoDepth > FwCsr.EvtStatus.CountField.Mask >> FwCsr.EvtStatus.CountField.Shift)
        {
            throw context.Error($"event_fifo_depth {d.EventFifoDepth} is outside 1 to {FwCsr.EvtStatus.CountField.Mask >> FwCsr.EvtStatus.CountField.Shift}");
        }
    }

    private static void CheckBars(Context c)
    {
        var seen = new HashSet<int>();
        for (int i = 0; i < c.D.Bars.Length; i++)
        {
            BarDescription bar = c.D.Bars[i];
            string key = $"bars[{i}]";
            if (bar.Index is < 0 or >= PciHeader.Bar.Count)
            {
                throw c.Error($"{key}.index {bar.Index} is not a BAR index 0-{PciHeader.Bar.Count - 1}");
            }

            if (!seen.Add(bar.Index))
            {
                throw c.Error($"{key}.index {bar.Index} is described twice");
            }

            if (!ulong.IsPow2(bar.Size))
            {
                throw c.Error($"{key}.size 0x{bar.Size:x} is not a power of two");
            }

            if (bar.Io)
            {
                if (bar.Size is < MinimumIoBar or > MaximumIoBar)
                {
                    throw c.Error($"{key}.size 0x{bar.Size:x} is outside 16 to 256 bytes for an I/O BAR");
                }

                if (bar.Prefetchable)
                {
                    throw c.Error($"{key}.prefetchable is set on an I/O BAR");
                }

                continue;
            }

            if (bar.Size < MinimumMemoryBar)
            {
                throw c.Error($"{key}.size 0x{bar.Size:x} is below the 16 bytes a memory BAR decodes");
            }

            if (!bar.Is64Bit && bar.Size > Maximum32BitBar)
            {
                throw c.Error($"{key}.size 0x{bar.Size:x} does not fit a 32-bit BAR (use type mem64)");
            }
        }

        foreach (BarDescription bar in c.D.Bars.Where(b => b.Is64Bit))
        {
            if (bar.Index == PciHeader.Bar.Count - 1 || seen.Contains(bar.Index + 1))
            {
                throw c.Error($"bars: the 64-bit BAR {bar.Index} needs BAR {bar.Index + 1} for its high half");
            }
        }
    }

    private static void CheckPersonality(Context c)
    {
        EndpointDescription d = c.D;
        bool virtio = d.Personality != EndpointPersonality.Ivshmem;
        if (virtio && d.Virtio is null)
        {
            throw c.Error($"a {Name(d.Personality)} endpoint needs a 'virtio' section");
        }

        if (!virtio && (d.Virtio is not null || !d.Queues.IsEmpty))
        {
            throw c.Error("an ivshmem endpoint has no 'virtio' section and no 'queues'");
        }

        if (!virtio && d.Ivshmem is null)
        {
            throw c.Error("an ivshmem endpoint needs an 'ivshmem' section");
        }

        if (virtio && d.Ivshmem is not null)
        {
            throw c.Error($"'ivshmem' belongs to ivshmem endpoints, not {Name(d.Personality)}");
        }

        if ((d.Personality == EndpointPersonality.Ism) != (d.Ism is not null))
        {
            throw c.Error(d.Ism is null ? "an ism endpoint needs an 'ism' section" : "'ism' belongs to ism endpoints");
        }
    }

    private static void CheckVirtio(Context c)
    {
        if (c.D.Virtio is not { } v)
        {
            return;
        }

        if (c.D.Identity.DeviceId != VirtioPciIds.ModernDeviceIdBase + v.DeviceId)
        {
            throw c.Error($"identity.device_id 0x{c.D.Identity.DeviceId:x4} is not 0x{VirtioPciIds.ModernDeviceIdBase:x4} + virtio_device_id {v.DeviceId} (a modern virtio-pci id)");
        }

        if (v.DeviceId > FwCsr.Personality.DeviceId.Mask >> FwCsr.Personality.DeviceId.Shift)
        {
            throw c.Error($"identity.virtio_device_id {v.DeviceId} does not fit personality.device_id");
        }

        c.Structure("virtio.common", v.Common, 4, VirtioCommonCfg.Size);
        c.Structure("virtio.isr", v.Isr, 4, VirtioIsr.Size);
        ulong lastNotify = (ulong)Math.Max(c.D.Queues.Length - 1, 0) * v.NotifyOffMultiplier;
        c.Structure("virtio.notify", v.Notify, 4, lastNotify + sizeof(uint));
        if (v.NotifyOffMultiplier != 0 && (!uint.IsPow2(v.NotifyOffMultiplier) || v.NotifyOffMultiplier < 2))
        {
            throw c.Error($"virtio.notify.notify_off_multiplier {v.NotifyOffMultiplier} is neither 0 nor an even power of two");
        }

        if (v.Device is { } device)
        {
            c.Structure("virtio.device", device, 4, c.D.Personality == EndpointPersonality.Ism ? IsmConfig.Size : sizeof(uint));
        }
        else if (c.D.Personality == EndpointPersonality.Ism)
        {
            throw c.Error("virtio.device is missing: an ism endpoint has a device configuration");
        }
    }

    private static void CheckMsix(Context c)
    {
        if (c.D.Msix is not { } m)
        {
            return;
        }

        if (m.Vectors is < 1 or > MsixTable.EntryMsgAddrLo.Count)
        {
            throw c.Error($"msix.vectors {m.Vectors} is outside 1 to {MsixTable.EntryMsgAddrLo.Count}");
        }

        c.Structure("msix.table", new StructureLocation(m.TableBar, m.TableOffset, (ulong)m.Vectors * MsixTable.EntryMsgAddrLo.Stride), 8, 0);
        c.Structure("msix.pba", new StructureLocation(m.PbaBar, m.PbaOffset, MsixPba.Size), 8, 0);
    }

    private static void CheckSharedMemory(Context c)
    {
        var ids = new HashSet<byte>();
        var kinds = new HashSet<SharedMemoryKind>();
        for (int i = 0; i < c.D.SharedMemory.Length; i++)
        {
            SharedMemoryRegion r = c.D.SharedMemory[i];
            string key = $"shared_memory[{i}]";
            if (!ids.Add(r.ShmId))
            {
                throw c.Error($"{key}.shmid {r.ShmId} is used twice");
            }

            // One chunk table and one ISM_KICK decoder per endpoint.
            if (r.Kind != SharedMemoryKind.Plain && !kinds.Add(r.Kind))
            {
                throw c.Error($"{key}.kind: an endpoint has at most one {r.Kind.ToString().ToLowerInvariant()} region");
            }

            ulong alignment = r.Kind == SharedMemoryKind.Plain ? sizeof(ulong) : r.GranuleSize;
            string granuleKey = r.Kind == SharedMemoryKind.Chunks ? "chunk_size" : "notify_size";
            if (r.Kind != SharedMemoryKind.Plain && (!ulong.IsPow2(r.GranuleSize) || r.GranuleSize < (r.Kind == SharedMemoryKind.Chunks ? MinimumChunk : sizeof(uint))))
            {
                throw c.Error($"{key}.{granuleKey} 0x{r.GranuleSize:x} is not a power of two of at least {(r.Kind == SharedMemoryKind.Chunks ? MinimumChunk : sizeof(uint))}");
            }

            c.Structure(key, new StructureLocation(r.Bar, r.Offset, r.Length), alignment, 0);
            if (r.Length % alignment != 0)
            {
                throw c.Error($"{key}.length 0x{r.Length:x} is not a multiple of its {granuleKey} 0x{alignment:x}");
            }

            if (r.Kind == SharedMemoryKind.Chunks && c.D.BackingMemory < r.GranuleSize)
            {
                throw c.Error($"backing_memory 0x{c.D.BackingMemory:x} cannot hold one chunk of {key}");
            }

            if (r.Kind == SharedMemoryKind.Plain && c.D.BackingMemory < r.Offset + r.Length)
            {
                throw c.Error($"backing_memory 0x{c.D.BackingMemory:x} ends before {key} (a plain region maps backing memory at its own offset)");
            }
        }

        if (c.D.Personality == EndpointPersonality.Ism
            && (c.D.FindSharedMemory(IsmShmId.Regions)?.Kind != SharedMemoryKind.Chunks || c.D.FindSharedMemory(IsmShmId.Notify)?.Kind != SharedMemoryKind.Notify))
        {
            throw c.Error($"shared_memory: an ism endpoint has shmid {IsmShmId.Regions} of kind chunks and shmid {IsmShmId.Notify} of kind notify");
        }

        if (c.D.Personality == EndpointPersonality.Ivshmem && (c.D.SharedMemory.Length != 1 || c.D.SharedMemory[0].Kind != SharedMemoryKind.Plain))
        {
            throw c.Error("shared_memory: an ivshmem endpoint has one region, of kind plain");
        }
    }

    private static void CheckQueues(Context c)
    {
        int max = (int)(FwCsr.Personality.NumQueues.Mask >> FwCsr.Personality.NumQueues.Shift);
        if ((c.D.Virtio is not null && c.D.Queues.Length == 0) || c.D.Queues.Length > max)
        {
            throw c.Error($"queues: a virtio endpoint has 1 to {max} queues, not {c.D.Queues.Length}");
        }

        for (int i = 0; i < c.D.Queues.Length; i++)
        {
            ushort size = c.D.Queues[i].MaxSize;
            if (size == 0 || !ushort.IsPow2(size))
            {
                throw c.Error($"queues[{i}].max_size {size} is not a power of two of at least 1");
            }
        }
    }

    private static void CheckIvshmem(Context c)
    {
        if (c.D.Ivshmem is { } i)
        {
            c.Structure("ivshmem.registers", i.Registers, 4, Ivshmem.Size);
        }
    }

    private static void CheckIsm(Context c)
    {
        if (c.D.Ism is not { } ism)
        {
            return;
        }

        if (ism.Cdid.Version != 4)
        {
            throw c.Error($"ism.cdid {ism.Cdid} is a version-{ism.Cdid.Version} UUID; the cdid is a version-4 UUID");
        }

        if (ism.DevId == 0)
        {
            throw c.Error("ism.devid is 0; a device id is non-zero");
        }
    }

    private static void CheckMmio(Context c)
    {
        if (c.D.Mmio is not { } mmio)
        {
            return;
        }

        if (c.D.Virtio is null)
        {
            throw c.Error("mmio: only a virtio endpoint can be placed behind virtio-mmio");
        }

        if (mmio.Base % VirtioMmioEndpointModel.WindowSize != 0)
        {
            throw c.Error($"mmio.base 0x{mmio.Base:x} is not aligned to the 0x{VirtioMmioEndpointModel.WindowSize:x}-byte register window");
        }

        if (c.D.SharedMemory.IsEmpty)
        {
            return;
        }

        int bar = c.D.SharedMemory[0].Bar;
        if (c.D.SharedMemory.Any(r => r.Bar != bar))
        {
            throw c.Error("mmio: behind virtio-mmio every shared_memory region has to live in the same BAR");
        }

        ulong size = c.D.FindBar(bar)!.Size;
        if (mmio.SharedMemoryBase % size != 0)
        {
            throw c.Error($"mmio.shm_base 0x{mmio.SharedMemoryBase:x} is not aligned to the 0x{size:x} bytes of BAR {bar}");
        }
    }

    private static void CheckOverlaps(Context c)
    {
        foreach (IGrouping<int, (string Key, StructureLocation At)> bar in c.Placed.GroupBy(p => p.At.Bar))
        {
            (string Key, StructureLocation At)[] sorted = [.. bar.OrderBy(p => p.At.Offset)];
            for (int i = 1; i < sorted.Length; i++)
            {
                (string key, StructureLocation at) = sorted[i];
                (string previousKey, StructureLocation previous) = sorted[i - 1];
                if (at.Offset < previous.Offset + previous.Length)
                {
                    throw c.Error($"{key} (BAR {bar.Key} at 0x{at.Offset:x}) overlaps {previousKey} (0x{previous.Offset:x}-0x{previous.Offset + previous.Length - 1:x})");
                }
            }
        }
    }

    private static void CheckCapabilities(Context c)
    {
        int end = CapabilityLayout.End(CapabilityLayout.Plan(c.D));
        if (end > CapabilityLayout.StandardConfigSpaceSize)
        {
            throw c.Error($"the capability list ends at 0x{end:x}, past the 0x{CapabilityLayout.StandardConfigSpaceSize:x} bytes of standard config space (too many shared_memory regions)");
        }
    }

    private static string Name(EndpointPersonality p) => p.ToString().ToLowerInvariant();

    /// <summary>The description under check and every structure placed in a BAR so far.</summary>
    private sealed class Context(EndpointDescription d)
    {
        public EndpointDescription D { get; } = d;

        public List<(string Key, StructureLocation At)> Placed { get; } = [];

        public EndpointDescriptionException Error(string what) => new($"{D.Source}: {what}");

        /// <summary>Checks that <paramref name="at"/> is aligned, lies in a memory BAR and is at least <paramref name="minimum"/> long.</summary>
        public void Structure(string key, StructureLocation at, ulong alignment, ulong minimum)
        {
            BarDescription? bar = D.FindBar(at.Bar);
            if (bar is null || bar.Io)
            {
                throw Error($"{key}.bar {at.Bar} is not a memory BAR of this endpoint");
            }

            if (at.Length == 0 || at.Length < minimum)
            {
                throw Error($"{key}.length 0x{at.Length:x} is shorter than the 0x{Math.Max(minimum, 1):x} bytes it needs");
            }

            if (at.Offset % alignment != 0)
            {
                throw Error($"{key}.offset 0x{at.Offset:x} is not aligned to {alignment} bytes");
            }

            if (at.Offset >= bar.Size || at.Length > bar.Size - at.Offset)
            {
                throw Error($"{key} (0x{at.Offset:x}+0x{at.Length:x}) lies outside BAR {at.Bar} of 0x{bar.Size:x} bytes");
            }

            Placed.Add((key, at));
        }
    }
}
