using VirtioHw.Cosim;
using VirtioHw.Fuzz.Lockstep;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Registers;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// The model and the RTL endpoints in lockstep (<see cref="LockstepPlatform"/>): the host
/// enumerates and sets up MSI-X through both, then random accesses of every width (1, 2, 4, 8)
/// and alignment go to every BAR, the config space and the virtio-mmio windows of every
/// personality this build has an RTL top for, mixed with firmware CSR accesses (chunk mappings,
/// triggers, queue and configuration registers) on both sides. After every access the read data
/// or exception, the MSI messages and the device memory must agree; aligned accesses never
/// throw, misaligned ones are refused by both with the platform's argument error.
/// </summary>
public sealed class RtlLockstepTarget : FuzzTarget
{
    private static readonly int[] Widths = [1, 2, 4, 8];
    private static readonly PciAddress Absent = new(0, 9, 0);
    private static readonly uint[] CsrOffsets = [.. FwCsr.Info.Registers.SelectMany(r => Enumerable.Range(0, r.Count).Select(r.ElementOffset))];

    /// <summary>Chunks are mapped at the start of device memory (this many bytes) or at its end: the ranges compared after every write.</summary>
    private const ulong LowMapped = 2 << 20;

    private readonly Lazy<string?> _unavailable;
    private long _accesses;
    private long _messages;

    public RtlLockstepTarget()
    {
        PciEndpoints = [.. ModelPlatformSettings.Default.PciEndpoints.Where(p => CosimPlatform.HasRtl(p.Description, mmio: false)).Select(p => (p.Address, p.Description))];
        MmioDevices = [.. ModelPlatformSettings.Default.MmioDevices.Where(d => CosimPlatform.HasRtl(d, mmio: true))];
        _unavailable = new Lazy<string?>(Probe);
    }

    public override string Name => "mmio-rtl";

    public override string Description => "model and RTL endpoints in lockstep: accesses of every width and alignment to every BAR, config space and fw CSR; read data, MSI and memory agree";

    /// <summary>The endpoints placed: the model's default layout, of the personalities with an RTL top in this build.</summary>
    public IReadOnlyList<(PciAddress Address, EndpointDescription Description)> PciEndpoints { get; }

    public IReadOnlyList<EndpointDescription> MmioDevices { get; }

    public override string? Unavailable => _unavailable.Value;

    /// <summary>Accesses compared so far, over every execution (bring-up included).</summary>
    public long AccessesCompared => Interlocked.Read(ref _accesses);

    /// <summary>MSI messages the two sides agreed on so far.</summary>
    public long MessagesCompared => Interlocked.Read(ref _messages);

    /// <summary>Generous: an execution is a few hundred RTL bus accesses, and the machine may be loaded.</summary>
    public override TimeSpan HangTimeout => TimeSpan.FromSeconds(120);

    public override byte[] Generate(Random random) => Mutator.RandomBytes(random, 1024);

    public override void Execute(byte[] input)
    {
        var choices = new FuzzInput(input);
        var platform = new LockstepPlatform(PciEndpoints, MmioDevices);
        try
        {
            Run(platform, choices);
        }
        finally
        {
            Interlocked.Add(ref _accesses, platform.Accesses);
            Interlocked.Add(ref _messages, platform.MessagesDelivered);
            platform.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void Run(LockstepPlatform platform, FuzzInput choices)
    {
        // The host's own bring-up goes through both sides access by access too.
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        foreach (PciFunction function in functions.Where(f => f.MsixCapability is not null))
        {
            PciMsix msix = function.OpenMsix();
            for (int entry = 0; entry < msix.TableSize; entry++)
            {
                msix.Connect(entry, platform.MsiVectors[entry % LockstepPlatform.Vectors]);
            }

            msix.Enabled = true;
        }

        List<ulong> mapped = [.. platform.Endpoints.Select(e => e.Description.BackingMemory).Where(b => b > 0).Distinct()];
        platform.WatchedMemory = [(0, LowMapped + (1 << 17)), .. mapped.Select(b => (b - (1UL << 18), 1UL << 18))];
        List<Aim> aims = Aims(platform, functions);
        PciAddress[] addresses = [.. functions.Select(f => f.Address), Absent];
        int operations = 1 + choices.Choose(64);
        for (int i = 0; i < operations && !choices.IsEmpty; i++)
        {
            switch (choices.Choose(22))
            {
                case < 3:
                    Config(platform, choices.Choose(addresses), choices);
                    break;
                case < 11:
                    Aim aim = choices.Choose(aims);
                    Memory(platform, aim.Address(choices), choices);
                    break;
                case 11:
                    Memory(platform, choices.Choose(8) == 0 ? choices.UInt64() : platform.MemoryWindows[choices.Choose(platform.MemoryWindows.Count)].BaseAddress + choices.UInt32(), choices);
                    break;
                case < 18:
                    Csr(platform, choices.Choose(platform.Endpoints.Count), choices);
                    break;
                case < 20:
                    MapChunk(platform, choices.Choose(platform.Endpoints.Count), choices);
                    break;
                default:
                    Trigger(platform, choices.Choose(platform.Endpoints.Count), choices);
                    break;
            }
        }

        platform.CompareAllMemory();
    }

    /// <summary>A config access of any width at any offset (pci_cfg_data included); the command register and the BARs only now and then.</summary>
    private static void Config(LockstepPlatform platform, PciAddress function, FuzzInput choices)
    {
        int width = choices.Choose(Widths[..3]);
        int offset = choices.Choose(4) switch
        {
            0 => choices.UInt16() % Platform.ConfigSpaceSize,
            1 => choices.Choose(0x40),
            _ => 0x40 + choices.Choose(0xc0),
        };
        bool write = choices.Choose(2) == 0;
        uint value = choices.UInt32();
        bool decodeRegisters = offset < (int)PciHeader.Bar.OffsetOf(PciHeader.Bar.Count) && offset + width > (int)PciHeader.Command.Offset;
        if (write && decodeRegisters && choices.Choose(8) != 0)
        {
            return;
        }

        bool aligned = offset % width == 0;
        try
        {
            if (write)
            {
                platform.WriteConfig(function, offset, width, value);
            }
            else
            {
                platform.ReadConfig(function, offset, width);
            }

            FuzzFailure.Check(aligned, $"a misaligned {width}-byte config access at 0x{offset:x} was taken");
        }
        catch (ArgumentOutOfRangeException) when (!aligned)
        {
            // Refused on both sides, as the model-only target expects.
        }
    }

    private static void Memory(LockstepPlatform platform, ulong address, FuzzInput choices)
    {
        int width = choices.Choose(Widths);
        if (choices.Choose(8) != 0)
        {
            address &= ~((ulong)width - 1);
        }

        bool aligned = address % (ulong)width == 0;
        bool write = choices.Choose(2) == 0;
        ulong value = choices.Choose(4) == 0 ? choices.Edgy(0x8000_0000) : choices.UInt64();
        try
        {
            if (write)
            {
                platform.WriteMemory(address, width, value);
            }
            else
            {
                platform.ReadMemory(address, width);
            }

            FuzzFailure.Check(aligned, $"a misaligned {width}-byte access at 0x{address:x} was taken");
        }
        catch (ArgumentOutOfRangeException) when (!aligned)
        {
            // As for config space: refused before either side sees it.
        }
    }

    /// <summary>A firmware CSR access: a register of fw_csr (or a word past it), with values that mean something to it.</summary>
    private static void Csr(LockstepPlatform platform, int endpoint, FuzzInput choices)
    {
        uint offset = choices.Choose(16) == 0 ? (uint)choices.Choose(0x40) * 4 : choices.Choose(CsrOffsets);
        if (choices.Choose(3) == 0)
        {
            platform.ReadCsr(endpoint, offset);
            return;
        }

        uint value = choices.Choose(4) switch
        {
            0 => choices.UInt32(),
            1 => (uint)choices.Choose(4),
            2 => (uint)choices.Choose(16) + (uint)(choices.Choose(4) == 0 ? 250 : 0),
            _ => ChunkAddress(platform.Endpoints[endpoint].Description, choices),
        };
        uint strobe = choices.Choose(4) == 0 ? (uint)choices.Choose(16) : 0xF;
        platform.WriteCsr(endpoint, offset, value, strobe);
    }

    /// <summary>The firmware raising an interrupt: an MSI-X vector (or one past the table), or an ISR cause.</summary>
    private static void Trigger(LockstepPlatform platform, int endpoint, FuzzInput choices)
    {
        int vectors = platform.Endpoints[endpoint].Description.Msix?.Vectors ?? 0;
        if (choices.Choose(4) == 0)
        {
            platform.WriteCsr(endpoint, FwCsr.IsrSet.Offset, (uint)choices.Choose(4), 0xF);
        }

        platform.WriteCsr(endpoint, FwCsr.MsixTrigger.Offset, (uint)choices.Choose(vectors + 2), 0xF);
    }

    /// <summary>The firmware's sequence that maps a chunk slot: index, permissions, address, commit.</summary>
    private static void MapChunk(LockstepPlatform platform, int endpoint, FuzzInput choices)
    {
        EndpointDescription description = platform.Endpoints[endpoint].Description;
        uint slots = (uint)(description.SharedMemory.FirstOrDefault(r => r.Kind == SharedMemoryKind.Chunks) is { } chunks ? chunks.Length / chunks.GranuleSize : 8);
        uint slot = choices.Choose(8) == 0 ? slots + (uint)choices.Choose(4) : (uint)choices.Choose(Math.Min((int)slots, 12));
        uint perm = (uint)FwCsr.ChunkPerm.Valid.Mask | (uint)(choices.Byte() & (FwCsr.ChunkPerm.Read.Mask | FwCsr.ChunkPerm.Write.Mask));
        if (choices.Choose(8) == 0)
        {
            perm = choices.Byte();
        }

        platform.WriteCsr(endpoint, FwCsr.ChunkIndex.Offset, slot, 0xF);
        platform.WriteCsr(endpoint, FwCsr.ChunkPerm.Offset, perm, 0xF);
        platform.WriteCsr(endpoint, FwCsr.ChunkAddr.Offset, ChunkAddress(description, choices), 0xF);
        platform.WriteCsr(endpoint, FwCsr.ChunkAddr.Offset + 4, choices.Choose(16) == 0 ? 1u : 0u, 0xF);
        platform.WriteCsr(endpoint, FwCsr.ChunkCommit.Offset, 1, 0xF);
    }

    /// <summary>Where a chunk is mapped: a whole chunk near the start, the last one, one running past the end, or any word.</summary>
    private static uint ChunkAddress(EndpointDescription description, FuzzInput choices)
    {
        ulong chunk = description.SharedMemory.FirstOrDefault(r => r.Kind == SharedMemoryKind.Chunks)?.GranuleSize ?? 4096;
        ulong backing = Math.Max(description.BackingMemory, chunk);
        return choices.Choose(8) switch
        {
            0 => (uint)(backing - chunk),
            1 => (uint)(backing - chunk + 4096),
            2 => (uint)(choices.UInt32() % LowMapped) & ~3u,
            3 => choices.UInt32(),
            _ => (uint)((ulong)choices.Choose((int)(LowMapped / chunk)) * chunk),
        };
    }

    /// <summary>A place to aim accesses at: a structure's start in a BAR or window, plus what the input adds.</summary>
    private sealed record Aim(ulong Start, ulong Span, ulong Granule)
    {
        public ulong Address(FuzzInput choices) => choices.Choose(6) switch
        {
            0 => Start + (choices.UInt32() % Span),
            1 when Granule > 0 => Start + ((ulong)choices.Choose((int)Math.Min(Span / Granule, 300)) * Granule) + (ulong)choices.Choose(0x40),
            2 when Granule > 0 => Start + ((ulong)choices.Choose((int)Math.Min(Span / Granule, 300)) * Granule) + Granule - 8 + (ulong)choices.Choose(8),
            _ => Start + (ulong)choices.Choose((int)Math.Min(Span, 0x100)),
        };
    }

    /// <summary>The structures of every endpoint, at the bus addresses the host gave them.</summary>
    private static List<Aim> Aims(LockstepPlatform platform, IReadOnlyList<PciFunction> functions)
    {
        var aims = new List<Aim>();
        foreach (LockstepEndpoint endpoint in platform.Endpoints)
        {
            EndpointDescription d = endpoint.Description;
            Func<int, ulong, ulong?> at;
            if (endpoint.Address is { } address)
            {
                PciFunction function = functions.Find(address);
                at = (bar, offset) => function.GetBar(bar) is { IsAssigned: true } assigned ? assigned.Address + offset : null;
            }
            else
            {
                MmioPlacement mmio = d.Mmio!;
                aims.Add(new Aim(mmio.Base, CosimPlatform.MmioWindowSize, 0));
                at = (_, offset) => mmio.SharedMemoryBase + offset;
            }

            void Add(int bar, ulong offset, ulong length, ulong granule)
            {
                if (at(bar, offset) is { } start && length > 0)
                {
                    aims.Add(new Aim(start, length, granule));
                }
            }

            foreach (BarDescription bar in d.Bars.Where(b => !b.Io && endpoint.Address is not null))
            {
                Add(bar.Index, 0, bar.Size, 0);
                Add(bar.Index, bar.Size - 0x100, 0x100, 0);
            }

            if (d.Virtio is { } virtio)
            {
                foreach (StructureLocation s in new[] { virtio.Common, virtio.Isr, virtio.Notify, virtio.Device }.OfType<StructureLocation>())
                {
                    Add(s.Bar, s.Offset, s.Length, 0);
                }
            }

            if (d.Msix is { } msix)
            {
                Add(msix.TableBar, msix.TableOffset, (ulong)msix.Vectors * MsixTable.EntryMsgAddrLo.Stride, MsixTable.EntryMsgAddrLo.Stride);
                Add(msix.PbaBar, msix.PbaOffset, MsixPba.Size, 0);
            }

            if (d.Ivshmem is { } ivshmem)
            {
                Add(ivshmem.Registers.Bar, ivshmem.Registers.Offset, ivshmem.Registers.Length, 0);
            }

            foreach (SharedMemoryRegion region in d.SharedMemory)
            {
                Add(region.Bar, region.Offset, region.Length, region.GranuleSize);
            }
        }

        return aims;
    }

    /// <summary>Why the lockstep cannot run here: no RTL top for any endpoint, or a library not built.</summary>
    private string? Probe()
    {
        if (PciEndpoints.Count == 0 && MmioDevices.Count == 0)
        {
            return "this build's RTL has no endpoint top the co-simulation platform drives";
        }

        try
        {
            new LockstepPlatform(PciEndpoints, MmioDevices).DisposeAsync().AsTask().GetAwaiter().GetResult();
            return null;
        }
        catch (CosimLibraryException e)
        {
            return $"{e.Message} (the co-simulation libraries are built by make cosim)";
        }
    }
}
