using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// The 4 KiB config space of one PCI function: the type-0 header block at 0, each capability
/// block at the offset <see cref="CapabilityLayout"/> gave it, and nothing elsewhere (reads 0,
/// writes dropped). A config access of 1, 2 or 4 bytes becomes one word access with byte strobes
/// on the block that holds it. Also decodes memory addresses against the BARs.
/// </summary>
public sealed class PciFunctionModel
{
    private const int ConfigWords = 4096 / sizeof(uint);

    // Per config word: the block answering it and where that block starts.
    private readonly RegisterBlockModel?[] _blocks = new RegisterBlockModel?[ConfigWords];
    private readonly uint[] _blockBase = new uint[ConfigWords];
    private readonly int[] _memoryBars;
    private readonly BarRegisters _bars;

    /// <param name="description">The validated description.</param>
    /// <param name="barAccess">What the PCI cfg access capability reaches; null when the description has none.</param>
    internal PciFunctionModel(EndpointDescription description, IBarAccess? barAccess)
    {
        _bars = new BarRegisters(description);
        _memoryBars = [.. description.Bars.Where(b => !b.Io).Select(b => b.Index)];
        PciIdentity id = description.Identity;
        Header.SetVendorId(id.VendorId);
        Header.SetDeviceId(id.DeviceId);
        Header.SetRevisionId(id.Revision);
        Header.SetBaseClass(id.BaseClass);
        Header.SetSubclass(id.Subclass);
        Header.SetProgIf(id.ProgIf);
        Header.SetSubsystemVendorId(id.SubsystemVendorId);
        Header.SetSubsystemId(id.SubsystemId);
        Header.SetHeaderType((byte)PciHeader.PciHeaderType.Type0);
        Header.SetInterruptPin(1); // INTA#: ISR and IntrStatus are the legacy interrupt's causes.
        Header.BarHandler = _bars;
        Place(0, Header);

        Capabilities = CapabilityLayout.Plan(description);
        if (Capabilities.Count > 0)
        {
            Header.SetCapabilitiesPtr((byte)Capabilities[0].Offset);
            Header.SetStatusCapabilitiesList(true);
        }

        foreach (CapabilityPlacement cap in Capabilities)
        {
            Place(cap.Offset, Build(cap, description, barAccess));
        }
    }

    public PciHeaderModel Header { get; } = new();

    /// <summary>The capability list, in chain order.</summary>
    public IReadOnlyList<CapabilityPlacement> Capabilities { get; }

    /// <summary>The MSI-X capability block, or null when the function has no MSI-X.</summary>
    public MsixCapModel? MsixCapability { get; private set; }

    public bool MemorySpaceEnabled => Header.CommandMemorySpace;

    public bool BusMasterEnabled => Header.CommandBusMaster;

    /// <summary>One config read of <paramref name="width"/> bytes, naturally aligned.</summary>
    public uint ReadConfig(int offset, int width)
    {
        int word = offset >> 2;
        if (_blocks[word] is not { } block)
        {
            return 0;
        }

        uint value = block.Read((uint)(offset & ~3) - _blockBase[word]);
        return (uint)((value >> ((offset & 3) * 8)) & ByteLanes.Ones(width));
    }

    /// <summary>One config write of <paramref name="width"/> bytes, naturally aligned.</summary>
    public void WriteConfig(int offset, int width, uint value)
    {
        int word = offset >> 2;
        if (_blocks[word] is { } block)
        {
            int lane = offset & 3;
            block.Write((uint)(offset & ~3) - _blockBase[word], value << (lane * 8), ((1u << width) - 1) << lane);
        }
    }

    /// <summary>The address the host assigned to BAR <paramref name="index"/>.</summary>
    public ulong BarAddress(int index) => _bars.Base(index);

    /// <summary>Which memory BAR decodes <paramref name="address"/>, while memory space is enabled.</summary>
    public bool TryDecode(ulong address, out int bar, out ulong offset)
    {
        if (MemorySpaceEnabled)
        {
            foreach (int index in _memoryBars)
            {
                ulong start = _bars.Base(index);
                if (address >= start && address - start < _bars.Describe(index)!.Size)
                {
                    bar = index;
                    offset = address - start;
                    return true;
                }
            }
        }

        bar = -1;
        offset = 0;
        return false;
    }

    private RegisterBlockModel Build(CapabilityPlacement cap, EndpointDescription description, IBarAccess? barAccess)
    {
        switch (cap.Kind)
        {
            case CapabilityKind.Msix:
                MsixDescription msix = description.Msix!;
                var msixCap = new MsixCapModel();
                msixCap.SetCapNext((byte)cap.Next);
                msixCap.SetMessageControlTableSize((ushort)(msix.Vectors - 1));
                msixCap.SetVectorTableBir((byte)msix.TableBar);
                msixCap.SetVectorTableOffset((uint)(msix.TableOffset >> MsixCap.VectorTable.OffsetField.Shift));
                msixCap.SetPendingArrayBir((byte)msix.PbaBar);
                msixCap.SetPendingArrayOffset((uint)(msix.PbaOffset >> MsixCap.PendingArray.OffsetField.Shift));
                MsixCapability = msixCap;
                return msixCap;

            case CapabilityKind.VirtioNotify:
                var notify = new VirtioPciNotifyCapModel();
                notify.SetCapNext((byte)cap.Next);
                notify.SetCapLen((byte)cap.Length);
                notify.SetCfgType((byte)VirtioPciNotifyCap.VirtioPciCfgType.NotifyCfg);
                notify.SetBar((byte)cap.Bar);
                notify.SetOffset((uint)cap.StructureOffset);
                notify.SetLength((uint)cap.StructureLength);
                notify.SetNotifyOffMultiplier(description.Virtio!.NotifyOffMultiplier);
                return notify;

            case CapabilityKind.VirtioSharedMemory:
                var shm = new VirtioPciCap64Model();
                shm.SetCapNext((byte)cap.Next);
                shm.SetCapLen((byte)cap.Length);
                shm.SetCfgType((byte)VirtioPciCap64.VirtioPciCfgType.SharedMemoryCfg);
                shm.SetBar((byte)cap.Bar);
                shm.SetId(cap.Id);
                shm.SetOffset((uint)cap.StructureOffset);
                shm.SetOffsetHi((uint)(cap.StructureOffset >> 32));
                shm.SetLength((uint)cap.StructureLength);
                shm.SetLengthHi((uint)(cap.StructureLength >> 32));
                return shm;

            case CapabilityKind.VirtioPciCfg:
                var cfg = new VirtioPciCfgCapModel();
                cfg.SetCapNext((byte)cap.Next);
                cfg.SetCapLen((byte)cap.Length);
                cfg.SetCfgType((byte)VirtioPciCfgCap.VirtioPciCfgType.PciCfg);
                cfg.PciCfgDataHandler = new PciCfgWindow(cfg, barAccess!);
                return cfg;

            default:
                var virtio = new VirtioPciCapModel();
                virtio.SetCapNext((byte)cap.Next);
                virtio.SetCapLen((byte)cap.Length);
                virtio.SetCfgType((byte)(cap.Kind switch
                {
                    CapabilityKind.VirtioCommon => VirtioPciCap.VirtioPciCfgType.CommonCfg,
                    CapabilityKind.VirtioIsr => VirtioPciCap.VirtioPciCfgType.IsrCfg,
                    _ => VirtioPciCap.VirtioPciCfgType.DeviceCfg,
                }));
                virtio.SetBar((byte)cap.Bar);
                virtio.SetOffset((uint)cap.StructureOffset);
                virtio.SetLength((uint)cap.StructureLength);
                return virtio;
        }
    }

    private void Place(int offset, RegisterBlockModel block)
    {
        int first = offset / sizeof(uint);
        int last = (offset + (int)block.Info.Size - 1) / sizeof(uint);
        for (int word = first; word <= last; word++)
        {
            _blocks[word] = block;
            _blockBase[word] = (uint)offset;
        }
    }
}
