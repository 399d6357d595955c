using VirtioHw.Model;
using VirtioHw.Registers;
using Cc = VirtioHw.Registers.VirtioCommonCfg;
using Fw = VirtioHw.Registers.FwCsr;
using Mm = VirtioHw.Registers.VirtioMmio;
using Tbl = VirtioHw.Registers.MsixTable;

namespace VirtioHw.Cosim.Tests.Endpoint;

/// <summary>
/// Seeded random host and firmware traffic for a virtio or ivshmem endpoint, aimed where behaviour lives:
/// firmware loading queues, chunk slots, device configuration, features, triggers and pops; the
/// driver's common cfg writes (status, features, queue setup, vectors), notifies, MSI-X table and
/// message control, config reads of the capability list, and accesses through the chunk window and
/// the notify area; on ivshmem the interrupt mask and status, doorbells of every width, firmware
/// triggers with MSI-X on and off, and the shared memory. Values are drawn from the few that matter (queue and vector numbers just past
/// the last, status values of the negotiation) and from random words. Writes that would move the
/// BARs or switch memory decoding off are left out: BAR decode is the platform's, not the endpoint's.
/// </summary>
internal sealed class EndpointStream
{
    private readonly Random _rng;
    private readonly EndpointMap _map;
    private readonly EndpointDescription _description;
    private readonly int _vectors;
    private readonly int _queues;
    private readonly bool _mmio;

    // mmio: the device behind virtio-mmio (ports Mmio and Shm) rather than on PCI.
    public EndpointStream(int seed, EndpointMap map, EndpointDescription description, bool mmio = false)
    {
        _mmio = mmio;
        _rng = new Random(seed);
        _map = map;
        _description = description;
        _vectors = description.Msix?.Vectors ?? 0;
        _queues = description.Queues.Length;
    }

    /// <summary>
    /// Sizes the BARs as a host does (all-ones, read back), places them, turns on memory decoding and
    /// bus mastering, and sets up MSI-X as a driver does: every vector's message, unmasked, enabled.
    /// </summary>
    public IEnumerable<EndpointAccess> Setup()
    {
        if (_mmio) yield break;  // nothing to place or enable behind virtio-mmio
        uint[] bases = [0x1000_0000, 0x1001_0000, 0x0000_0000, 0x0000_0002, 0, 0];
        for (int i = 0; i < bases.Length; i++)
        {
            uint at = PciHeader.Bar.OffsetOf(i);
            yield return new(EndpointPort.Cfg, true, at, 4, uint.MaxValue);
            yield return new(EndpointPort.Cfg, false, at, 4, 0);
            yield return new(EndpointPort.Cfg, true, at, 4, bases[i]);
        }
        yield return new(EndpointPort.Cfg, true, PciHeader.Command.Offset, 2,
            (uint)(PciHeader.Command.MemorySpace.Mask | PciHeader.Command.BusMaster.Mask));
        EndpointRegion table = _map.Find("MSI-X table");
        for (uint v = 0; v < _vectors; v++)
        {
            uint entry = (uint)table.Offset + v * Tbl.EntryMsgAddrLo.Stride;
            yield return new(EndpointPort.Bar1, true, entry + Tbl.EntryMsgAddrLo.Offset, 4, 0xfee0_0000u + 0x10 * v);
            yield return new(EndpointPort.Bar1, true, entry + Tbl.EntryMsgData.Offset, 4, 0x4000 + v);
            yield return new(EndpointPort.Bar1, true, entry + Tbl.EntryVectorControl.Offset, 4, 0);
        }
        yield return new(EndpointPort.Cfg, true, (uint)_map.Find("Msix capability").Offset + MsixCap.MessageControl.Offset, 2,
            (uint)MsixCap.MessageControl.Enable.Mask);
    }

    /// <summary>
    /// Backing memory chunks are mapped to: the first <see cref="MappedBytes"/>, and the last chunk's
    /// end (mappings that would run past it must be refused). The lockstep compares these.
    /// </summary>
    public const int MappedBytes = 4 << 20;

    public EndpointAccess Next()
    {
        if (_description.Ivshmem is not null) return NextIvshmem();
        if (_mmio) return NextMmio();
        // Without shared memory (dmabuf) the stream leaves out the window and notify area picks, the last ones.
        bool shared = _description.SharedMemory.Any(r => r.Kind == SharedMemoryKind.Chunks);
        int pick = _rng.Next(shared ? 100 : 84);
        return pick switch
        {
            < 22 => FwWrite(),
            < 30 => new(EndpointPort.Fw, false, (uint)_rng.Next((int)Fw.Size / 4 + 2) * 4, 4, 0),
            < 37 => CfgRead(),
            < 42 => CfgWrite(),
            < 45 => CfgDataAccess(),
            < 63 => CommonWrite(),
            < 66 => NotifyWrite(),
            < 75 => Bar0Read(),
            < 81 => TableWrite(),
            < 84 => Bar1Read(),
            < 94 => WindowAccess(),
            _ => KickWrite(),
        };
    }

    private uint Word() => (uint)_rng.NextInt64(0, 1L << 32);

    private uint Small(int last) => (uint)_rng.Next(last + 2);  // 0 .. last+1: one past the end

    private uint Vector() => _rng.Next(4) == 0 ? 0xffff : Small(_vectors);

    private int Width() => 1 << _rng.Next(3);

    private EndpointAccess FwWrite()
    {
        (uint offset, uint value) = _rng.Next(19) switch
        {
            0 => (Fw.QSel.Offset, Small(_queues)),
            1 => (Fw.QMaxSize.Offset, _rng.Next(3) switch { 0 => 0u, 1 => 64u, _ => 256u }),
            2 or 3 => (Fw.EvtPop.Offset, 1u),
            4 => (Fw.MsixTrigger.Offset, Small(_vectors)),
            5 => (Fw.IsrSet.Offset, (uint)_rng.Next(1, 4)),
            6 => (Fw.StatusSet.Offset, 1u),
            7 => (Fw.ChunkIndex.Offset, _rng.Next(8) == 0 ? 300u : (uint)_rng.Next(8)),
            8 => (Fw.ChunkPerm.Offset, (uint)_rng.Next(8)),
            9 => (Fw.ChunkAddr.Offset, ChunkAddress()),
            10 => (Fw.ChunkAddr.Offset + 4, _rng.Next(16) == 0 ? 1u : 0u),
            11 or 12 => (Fw.ChunkCommit.Offset, 1u),
            13 => (Fw.DevcfgOffset.Offset, (uint)_rng.Next(12) * 4),
            14 => (Fw.DevcfgData.Offset, Word()),
            15 => (Fw.DevcfgWrite.Offset, 1u),
            16 => (Fw.DevFeatures.Offset + (uint)_rng.Next(2) * 4, _rng.Next(2) == 0 ? 1u : Word()),
            17 => (Fw.QResetDone.Offset, 1u),
            _ => (Fw.Scratch.Offset, Word()),
        };
        return new(EndpointPort.Fw, true, offset, 4, value);
    }

    /// <summary>A chunk's backing address: mostly whole chunks, sometimes unaligned or running past the end.</summary>
    private uint ChunkAddress()
    {
        SharedMemoryRegion? region = _description.SharedMemory.FirstOrDefault(r => r.Kind == SharedMemoryKind.Chunks);
        if (region is null) return Word();  // no chunk window: the registers only hold it
        ulong chunk = region.GranuleSize;
        ulong backing = _description.BackingMemory;
        return _rng.Next(6) switch
        {
            0 => (uint)(backing - chunk + 4096),                       // the chunk would run past the end
            1 => (uint)_rng.Next(MappedBytes - (int)chunk) & ~3u,          // any word
            _ => (uint)((ulong)_rng.Next(16) * chunk),
        };
    }

    private EndpointAccess CfgRead()
    {
        int width = Width();
        uint limit = _rng.Next(8) == 0 ? 0x1000u : 0x100u;
        return new(EndpointPort.Cfg, false, (uint)_rng.Next((int)(limit / (uint)width)) * (uint)width, width, 0);
    }

    private EndpointAccess CfgWrite()
    {
        EndpointRegion msix = _map.Find("Msix capability");
        EndpointRegion cfgCap = _map.Regions.First(r => r.Name == "VirtioPciCfg capability");
        switch (_rng.Next(5))
        {
            case 0:
                // Memory decoding stays on; bus mastering mostly too; the rest is random.
                uint command = (Word() & 0xffff) | (uint)PciHeader.Command.MemorySpace.Mask;
                if (_rng.Next(4) != 0) command |= (uint)PciHeader.Command.BusMaster.Mask;
                return new(EndpointPort.Cfg, true, PciHeader.Command.Offset, 2, command);
            case 1:
            case 2:
                // Mostly enabled, sometimes masked or off: the edges release pending messages.
                uint control = _rng.Next(3) == 0 ? (uint)_rng.Next(4) << 14 : (uint)MsixCap.MessageControl.Enable.Mask;
                return new(EndpointPort.Cfg, true, (uint)msix.Offset + MsixCap.MessageControl.Offset, 2, control);
            case 3:
                return CfgWindowSetup(cfgCap);
            default:
                // Anywhere in the header but the command register and the BARs, or the capability
                // list (pci_cfg_data included: a write there goes through the window).
                uint offset;
                do offset = (uint)_rng.Next(0x100); while (offset is >= 0x04 and < 0x06 or >= 0x10 and < 0x28);
                return new(EndpointPort.Cfg, true, offset, 1, Word());
        }
    }

    /// <summary>
    /// bar, offset and length of the PCI cfg access window: mostly a BAR the endpoint has, an offset
    /// where something answers (the structures, the MSI-X table, the first chunks and the notify
    /// area) and a length of 1, 2 or 4; sometimes a length or offset the window refuses, or a BAR
    /// it does not have.
    /// </summary>
    private EndpointAccess CfgWindowSetup(EndpointRegion cfgCap)
    {
        uint at = (uint)cfgCap.Offset;
        switch (_rng.Next(3))
        {
            case 0:
                uint bar = _rng.Next(8) == 0 ? (uint)_rng.Next(3, 7) : (uint)_rng.Next(_description.FindBar(2) is null ? 2 : 3);
                return new(EndpointPort.Cfg, true, at + VirtioPciCfgCap.Bar.Offset, 1, bar);
            case 1:
                uint length = _rng.Next(8) == 0 ? (uint)_rng.Next(0, 9) : 1u << _rng.Next(3);
                return new(EndpointPort.Cfg, true, at + VirtioPciCfgCap.Length.Offset, 4, length);
            default:
                EndpointRegion[] targets = [.. _map.Regions.Where(r => r.Port is EndpointPort.Bar0 or EndpointPort.Bar1 or EndpointPort.Bar2)];
                EndpointRegion target = targets[_rng.Next(targets.Length)];
                uint offset = _rng.Next(8) == 0 ? Word() : (uint)target.Offset + (uint)_rng.Next((int)Math.Min(target.Length, 0x40));
                if (target.Name.Contains("chunks", StringComparison.Ordinal) && _rng.Next(2) == 0) offset += (uint)(_rng.Next(3) << 17);
                return new(EndpointPort.Cfg, true, at + VirtioPciCfgCap.OffsetRegister.Offset, 4, offset);
        }
    }

    /// <summary>A config access to pci_cfg_data: it reaches a BAR through the window.</summary>
    public bool InCfgData(EndpointAccess a)
    {
        if (a.Port != EndpointPort.Cfg || _description.Virtio?.PciCfgAccess != true) return false;
        EndpointRegion cfgCap = _map.Regions.First(r => r.Name == "VirtioPciCfg capability");
        return a.Offset >= cfgCap.Offset + VirtioPciCfgCap.PciCfgData.Offset && a.Offset < cfgCap.Offset + VirtioPciCfgCap.Size;
    }

    private EndpointAccess CfgDataAccess()
    {
        EndpointRegion cfgCap = _map.Regions.First(r => r.Name == "VirtioPciCfg capability");
        int width = Width();
        uint offset = (uint)cfgCap.Offset + VirtioPciCfgCap.PciCfgData.Offset + (uint)_rng.Next(4 / width) * (uint)width;
        bool write = _rng.Next(2) == 0;
        return new(EndpointPort.Cfg, write, offset, width, write ? Word() : 0);
    }

    private EndpointAccess CommonWrite()
    {
        uint common = (uint)_map.Find("common cfg").Offset;
        (uint offset, int width, uint value) = _rng.Next(16) switch
        {
            0 => (Cc.DeviceFeatureSelect.Offset, 4, Small(1)),
            1 => (Cc.DriverFeatureSelect.Offset, 4, Small(1)),
            2 or 3 => (Cc.DriverFeature.Offset, 4, _rng.Next(2) == 0 ? 1u : Word()),
            4 => (Cc.ConfigMsixVector.Offset, 2, Vector()),
            5 or 6 => (Cc.DeviceStatus.Offset, 1, (uint)new[] { 0, 1, 3, 0xb, 0xf, 0x8f, 0x80 }[_rng.Next(7)]),
            7 => (Cc.QueueSelect.Offset, 2, Small(_queues)),
            8 => (Cc.QueueSize.Offset, 2, 1u << _rng.Next(10)),
            9 => (Cc.QueueMsixVector.Offset, 2, Vector()),
            10 => (Cc.QueueEnable.Offset, 2, _rng.Next(4) == 0 ? 0u : 1u),
            11 => (Cc.QueueDesc.Offset + (uint)_rng.Next(2) * 4, 4, Word()),
            12 => (Cc.QueueDriver.Offset + (uint)_rng.Next(2) * 4, 4, Word()),
            13 => (Cc.QueueDevice.Offset + (uint)_rng.Next(2) * 4, 4, Word()),
            14 => (Cc.QueueReset.Offset, 2, 1u),
            _ => ((uint)_rng.Next((int)Cc.Size / 4) * 4, 4, Word()),
        };
        return new(EndpointPort.Bar0, true, common + offset, width, value);
    }

    private EndpointAccess NotifyWrite()
    {
        EndpointRegion notify = _map.Find("notify region");
        uint multiplier = _description.Virtio!.NotifyOffMultiplier;
        uint queue = Small(_queues);
        uint offset = multiplier == 0 ? 0 : queue * multiplier;
        bool word = _rng.Next(2) == 0;
        return new(EndpointPort.Bar0, true, (uint)notify.Offset + offset, word ? 4 : 2, multiplier == 0 ? queue : Word());
    }

    private EndpointAccess Bar0Read()
    {
        EndpointRegion region = _rng.Next(6) switch
        {
            < 3 => _map.Find("common cfg"),
            3 => _map.Find("ISR"),
            4 when _description.Virtio!.Device is not null => _map.Find("device cfg"),
            4 => _map.Find("ISR"),
            _ => _map.Find("notify region"),
        };
        int width = Width();
        uint span = (uint)Math.Min(region.Length, 0x40);
        return new(EndpointPort.Bar0, false, (uint)region.Offset + (uint)_rng.Next((int)(span / (uint)width)) * (uint)width, width, 0);
    }

    private EndpointAccess TableWrite()
    {
        EndpointRegion table = _map.Find("MSI-X table");
        uint entry = (uint)_rng.Next(_vectors);
        (uint field, uint value) = _rng.Next(4) switch
        {
            0 => (Tbl.EntryMsgAddrLo.Offset, 0xfee0_0000u | (Word() & 0xffff0)),
            1 => (Tbl.EntryMsgAddrHi.Offset, _rng.Next(4) == 0 ? Word() : 0u),
            2 => (Tbl.EntryMsgData.Offset, Word()),
            _ => (Tbl.EntryVectorControl.Offset, _rng.Next(3) == 0 ? 1u : 0u),
        };
        return new(EndpointPort.Bar1, true, (uint)table.Offset + entry * Tbl.EntryMsgAddrLo.Stride + field, 4, value);
    }

    private EndpointAccess Bar1Read()
    {
        EndpointRegion region = _rng.Next(3) == 0 ? _map.Find("MSI-X PBA") : _map.Find("MSI-X table");
        return new(EndpointPort.Bar1, false, (uint)region.Offset + (uint)_rng.Next((int)region.Length / 4) * 4, 4, 0);
    }

    /// <summary>
    /// virtio-mmio: the same firmware traffic as on PCI; the driver's register writes (feature
    /// words, queue setup, QueueReady on and off, QueueNotify, InterruptACK, Status, SHMSel) and
    /// reads of the register window and the device configuration; the chunk window and the notify
    /// area in the shared memory BAR.
    /// </summary>
    private EndpointAccess NextMmio() => _rng.Next(100) switch
    {
        < 24 => FwWrite(),
        < 32 => new(EndpointPort.Fw, false, (uint)_rng.Next((int)Fw.Size / 4 + 2) * 4, 4, 0),
        < 56 => MmioWrite(),
        < 72 => MmioRead(),
        < 90 => WindowAccess(),
        _ => KickWrite(),
    };

    private EndpointAccess MmioWrite()
    {
        (uint offset, int width, uint value) = _rng.Next(17) switch
        {
            0 => (Mm.DeviceFeaturesSel.Offset, 4, Small(1)),
            1 => (Mm.DriverFeaturesSel.Offset, 4, Small(1)),
            2 or 3 => (Mm.DriverFeatures.Offset, Width(), _rng.Next(2) == 0 ? 1u : Word()),
            4 => (Mm.QueueSel.Offset, 4, Small(_queues)),
            5 => (Mm.QueueNum.Offset, Width(), 1u << _rng.Next(10)),
            6 => (Mm.QueueReady.Offset, 4, _rng.Next(4) == 0 ? 0u : 1u),
            7 => (Mm.QueueDescLow.Offset + (uint)_rng.Next(2) * 4, 4, Word()),
            8 => (Mm.QueueDriverLow.Offset + (uint)_rng.Next(2) * 4, 4, Word()),
            9 => (Mm.QueueDeviceLow.Offset + (uint)_rng.Next(2) * 4, 4, Word()),
            10 => (Mm.QueueNotify.Offset, _rng.Next(2) == 0 ? 4 : 2, _rng.Next(2) == 0 ? Small(_queues) : Word()),
            11 => (Mm.InterruptAck.Offset, 4, (uint)_rng.Next(4)),
            12 or 13 => (Mm.Status.Offset, 1, (uint)new[] { 0, 1, 3, 0xb, 0xf, 0x8f, 0x80 }[_rng.Next(7)]),
            14 => (Mm.ShmSel.Offset, 4, _rng.Next(4) == 0 ? Word() : Small(3)),
            15 => (Mm.QueueReset.Offset, 4, _rng.Next(3) == 0 ? Word() : 1u),
            _ => ((uint)_rng.Next((int)Mm.Size / 4) * 4, 4, Word()),
        };
        offset += width < 4 ? (uint)_rng.Next(4 / width) * (uint)width : 0;
        return new(EndpointPort.Mmio, true, offset, width, value);
    }

    private EndpointAccess MmioRead()
    {
        int width = _rng.Next(4) == 0 ? Width() : 4;
        uint span = _rng.Next(5) == 0 ? 0x180u : Mm.Size;
        if (_rng.Next(16) == 0) span = (uint)VirtioMmioEndpointModel.WindowSize;
        return new(EndpointPort.Mmio, false, (uint)_rng.Next((int)(span / (uint)width)) * (uint)width, width, 0);
    }

    private EndpointPort WindowPort => _mmio ? EndpointPort.Shm : EndpointPort.Bar2;

    private EndpointAccess WindowAccess()
    {
        SharedMemoryRegion chunks = _description.SharedMemory.First(r => r.Kind == SharedMemoryKind.Chunks);
        int width = Width();
        ulong slot = (ulong)_rng.Next(9);
        ulong within = (ulong)_rng.Next(64) * 4 + (ulong)(_rng.Next(4) == 0 ? (long)chunks.GranuleSize - 256 : 0);
        uint offset = (uint)(chunks.Offset + slot * chunks.GranuleSize + within) & ~((uint)width - 1);
        bool write = _rng.Next(2) == 0;
        return new(WindowPort, write, offset, width, write ? Word() : 0);
    }

    private EndpointAccess KickWrite()
    {
        SharedMemoryRegion area = _description.SharedMemory.First(r => r.Kind == SharedMemoryKind.Notify);
        ulong slot = (ulong)_rng.Next((int)Math.Min(area.Length / area.GranuleSize, 300));
        uint offset = (uint)(area.Offset + slot * area.GranuleSize + (ulong)_rng.Next(4) * 4);
        return new(WindowPort, _rng.Next(6) != 0, offset, 4, Word());
    }

    /// <summary>
    /// ivshmem: firmware pops doorbell events and triggers vectors (which set IntrStatus while MSI-X
    /// is off); the driver writes IntrMask, IntrStatus and Doorbell with every width and strobe,
    /// reads them back (reading IntrStatus clears it) and turns MSI-X on and off; config reads see
    /// the interrupt status bit; BAR2 reads and writes go to the shared memory.
    /// </summary>
    private EndpointAccess NextIvshmem() => _rng.Next(100) switch
    {
        < 14 => IvshmemFwWrite(),
        < 22 => new(EndpointPort.Fw, false, (uint)_rng.Next((int)Fw.Size / 4 + 2) * 4, 4, 0),
        < 32 => CfgRead(),
        < 38 => IvshmemCfgWrite(),
        < 52 => IvshmemRegisterWrite(),
        < 64 => IvshmemRegisterRead(),
        < 70 => TableWrite(),
        < 74 => Bar1Read(),
        _ => PlainAccess(),
    };

    private EndpointAccess IvshmemFwWrite()
    {
        (uint offset, uint value) = _rng.Next(6) switch
        {
            0 or 1 => (Fw.EvtPop.Offset, 1u),
            2 or 3 => (Fw.MsixTrigger.Offset, Small(_vectors)),
            4 => ((uint)_rng.Next((int)Fw.Size / 4) * 4, Word()),
            _ => (Fw.Scratch.Offset, Word()),
        };
        return new(EndpointPort.Fw, true, offset, 4, value);
    }

    private EndpointAccess IvshmemCfgWrite()
    {
        EndpointRegion msix = _map.Find("Msix capability");
        switch (_rng.Next(3))
        {
            case 0:
                uint command = (Word() & 0xffff) | (uint)PciHeader.Command.MemorySpace.Mask;
                if (_rng.Next(4) != 0) command |= (uint)PciHeader.Command.BusMaster.Mask;
                return new(EndpointPort.Cfg, true, PciHeader.Command.Offset, 2, command);
            case 1:
                // On, off (IntrStatus takes the triggers) or masked: the edges release pending messages.
                uint control = _rng.Next(3) switch
                {
                    0 => 0u,
                    1 => (uint)_rng.Next(4) << 14,
                    _ => (uint)MsixCap.MessageControl.Enable.Mask,
                };
                return new(EndpointPort.Cfg, true, (uint)msix.Offset + MsixCap.MessageControl.Offset, 2, control);
            default:
                uint offset;
                do offset = (uint)_rng.Next(0x100); while (offset is >= 0x04 and < 0x06 or >= 0x10 and < 0x28);
                return new(EndpointPort.Cfg, true, offset, 1, Word());
        }
    }

    private EndpointAccess IvshmemRegisterWrite()
    {
        uint registers = (uint)_map.Find("ivshmem registers").Offset;
        int width = Width();
        uint offset = _rng.Next(5) switch
        {
            0 => Ivshmem.IntrMask.Offset,
            1 => Ivshmem.IntrStatus.Offset,
            2 => Ivshmem.IvPosition.Offset,
            _ => Ivshmem.Doorbell.Offset,
        };
        offset += (uint)_rng.Next(4 / width) * (uint)width;
        uint value = _rng.Next(3) == 0 ? (uint)_rng.Next(2) : Word();
        return new(EndpointPort.Bar0, true, registers + offset, width, value);
    }

    private EndpointAccess IvshmemRegisterRead()
    {
        EndpointRegion registers = _map.Find("ivshmem registers");
        int width = Width();
        uint span = _rng.Next(4) == 0 ? (uint)registers.Length : Ivshmem.Size;
        return new(EndpointPort.Bar0, false, (uint)registers.Offset + (uint)_rng.Next((int)(span / (uint)width)) * (uint)width, width, 0);
    }

    /// <summary>The shared memory: mostly its first pages, sometimes its last, any width.</summary>
    private EndpointAccess PlainAccess()
    {
        SharedMemoryRegion region = _description.SharedMemory[0];
        int width = Width();
        ulong within = (ulong)_rng.Next(1024) * 4;
        if (_rng.Next(4) == 0) within = region.Length - 4096 + within;
        uint offset = (uint)(region.Offset + within + (ulong)_rng.Next(4)) & ~((uint)width - 1);
        bool write = _rng.Next(2) == 0;
        return new(EndpointPort.Bar2, write, offset, width, write ? Word() : 0);
    }
}
