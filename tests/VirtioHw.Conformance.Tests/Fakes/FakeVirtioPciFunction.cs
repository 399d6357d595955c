using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Conformance.Tests.Fakes;

/// <summary>
/// A modern virtio-pci function over a <see cref="FakeVirtioDevice"/>: BAR0 holds the common
/// configuration, ISR, device configuration and notification structures, BAR1 the MSI-X table and
/// pending bits, BAR2 (64-bit, prefetchable) the shared memory regions. Capabilities start at
/// 0x40: MSI-X, common, notify, ISR, device, one cap64 per region, PCI cfg access.
/// </summary>
internal sealed class FakeVirtioPciFunction : FakeFunction
{
    public const ulong CommonOffset = 0x0;
    public const ulong IsrOffset = 0x1000;
    public const ulong DeviceOffset = 0x2000;
    public const ulong NotifyOffset = 0x3000;
    public const ulong NotifyLength = 0x1000;
    public const uint NotifyMultiplier = 4;
    public const ulong PbaOffset = 0x800;
    public const ulong SharedMemorySize = 0x10_0000;
    public const byte Revision = 1;
    public const byte BaseClass = 0x07;
    public const byte SubClass = 0x80;
    public const int MsixTableBar = 1;
    public const int SharedMemoryBar = 2;

    /// <summary>The BARs every fake virtio function has.</summary>
    public static readonly IReadOnlyList<FakeBar> BarLayout =
    [
        new FakeBar(0, 0x4000, PciBarKind.Memory32),
        new FakeBar(MsixTableBar, 0x1000, PciBarKind.Memory32),
        new FakeBar(SharedMemoryBar, SharedMemorySize, PciBarKind.Memory64, Prefetchable: true),
    ];

    private readonly FakePciPlatform _platform;
    private readonly int _pciCfgPosition;
    private readonly uint[] _msix;
    private ulong _pending;
    private byte _isr;
    private ushort _queueSelect;
    private ushort _configVector = VirtioTransport.NoVector;
    private byte _lastCapability;

    public FakeVirtioPciFunction(FakePciPlatform platform, PciAddress address, FakeVirtioSpec spec, int msixVectors = 4)
        : base(address, VirtioPciIds.VendorId, (ushort)(VirtioPciIds.ModernDeviceIdBase + spec.DeviceType), BarLayout)
    {
        _platform = platform;
        Device = new FakeVirtioDevice(platform, spec) { Interrupt = Raise };
        MsixVectors = msixVectors;
        _msix = new uint[Slot(MsixTable.EntryMsgAddrLo.OffsetOf(msixVectors))];
        for (int v = 0; v < msixVectors; v++)
        {
            _msix[Slot(MsixTable.EntryVectorControl.OffsetOf(v))] = (uint)MsixTable.EntryVectorControl.MaskField.Mask;
        }

        Set8(PciHeader.RevisionId.Offset, Revision);
        Set8(PciHeader.BaseClass.Offset, BaseClass);
        Set8(PciHeader.Subclass.Offset, SubClass);
        Set16(PciHeader.SubsystemVendorId.Offset, VirtioPciIds.VendorId);
        Set16(PciHeader.SubsystemId.Offset, (ushort)spec.DeviceType);

        if (msixVectors > 0)
        {
            int msix = AppendCapability((byte)PciCapId.Msix, (int)MsixCap.Size);
            Set16((uint)msix + MsixCap.MessageControl.Offset, (ushort)(msixVectors - 1));
            SetWritable((uint)msix + MsixCap.MessageControl.Offset, 2,
                (uint)(MsixCap.MessageControl.Enable.Mask | MsixCap.MessageControl.FunctionMask.Mask));
            Set32((uint)msix + MsixCap.VectorTable.Offset, MsixTableBar);
            Set32((uint)msix + MsixCap.PendingArray.Offset, (uint)PbaOffset | MsixTableBar);
            MsixPosition = msix;
        }

        AddVirtioCapability(VirtioPciCfgType.CommonCfg, 0, 0, CommonOffset, VirtioCommonCfg.Size);
        int notify = AddVirtioCapability(VirtioPciCfgType.NotifyCfg, 0, 0, NotifyOffset, NotifyLength, (int)VirtioPciNotifyCap.Size);
        Set32((uint)notify + VirtioPciNotifyCap.NotifyOffMultiplier.Offset, NotifyMultiplier);
        AddVirtioCapability(VirtioPciCfgType.IsrCfg, 0, 0, IsrOffset, 4);
        AddVirtioCapability(VirtioPciCfgType.DeviceCfg, 0, 0, DeviceOffset, (ulong)spec.DeviceConfigLength);
        foreach ((byte id, ulong offset, ulong length) in spec.SharedMemory)
        {
            AddSharedMemoryCapability(SharedMemoryBar, id, offset, length);
        }

        _pciCfgPosition = AddVirtioCapability(VirtioPciCfgType.PciCfg, 0, 0, 0, 0, (int)VirtioPciCfgCap.Size);
        SetWritable((uint)_pciCfgPosition + VirtioPciCfgCap.Bar.Offset, 1, 0xff);
        SetWritable((uint)_pciCfgPosition + VirtioPciCfgCap.OffsetRegister.Offset, 4, uint.MaxValue);
        SetWritable((uint)_pciCfgPosition + VirtioPciCfgCap.Length.Offset, 4, uint.MaxValue);
    }

    public FakeVirtioDevice Device { get; }

    public int MsixVectors { get; }

    public int MsixPosition { get; }

    public byte[] SharedMemory { get; } = new byte[SharedMemorySize];

    /// <summary>Every notification: (offset in the notify structure, value).</summary>
    public List<(ulong Offset, ulong Value)> Notifications { get; } = [];

    /// <summary>Reads of queue_reset after a queue reset before it reads 0.</summary>
    public int QueueResetReads { get; set; } = 2;

    public bool MsixEnabled => (Get((uint)MsixPosition + MsixCap.MessageControl.Offset, 2) & MsixCap.MessageControl.Enable.Mask) != 0;

    public bool FunctionMasked => (Get((uint)MsixPosition + MsixCap.MessageControl.Offset, 2) & MsixCap.MessageControl.FunctionMask.Mask) != 0;

    public bool IsPending(int entry) => (_pending & (1UL << entry)) != 0;

    /// <summary>Appends a virtio_pci_cap to the list.</summary>
    public int AddVirtioCapability(VirtioPciCfgType type, byte bar, byte id, ulong offset, ulong length, int size = (int)VirtioPciCap.Size)
    {
        int at = AppendCapability((byte)PciCapId.Vendor, size);
        Set8((uint)at + VirtioPciCap.CapLen.Offset, (byte)size);
        Set8((uint)at + VirtioPciCap.CfgType.Offset, (byte)type);
        Set8((uint)at + VirtioPciCap.Bar.Offset, bar);
        Set8((uint)at + VirtioPciCap.Id.Offset, id);
        Set32((uint)at + VirtioPciCap.OffsetRegister.Offset, (uint)offset);
        Set32((uint)at + VirtioPciCap.Length.Offset, (uint)length);
        return at;
    }

    /// <summary>Appends a shared memory virtio_pci_cap64 to the list.</summary>
    public int AddSharedMemoryCapability(byte bar, byte id, ulong offset, ulong length)
    {
        int at = AddVirtioCapability(VirtioPciCfgType.SharedMemoryCfg, bar, id, offset, length, (int)VirtioPciCap64.Size);
        Set32((uint)at + VirtioPciCap64.OffsetHi.Offset, (uint)(offset >> 32));
        Set32((uint)at + VirtioPciCap64.LengthHi.Offset, (uint)(length >> 32));
        return at;
    }

    public override uint ReadConfig(int offset, int width)
    {
        uint data = (uint)_pciCfgPosition + VirtioPciCfgCap.PciCfgData.Offset;
        if (offset >= data && offset < data + 4)
        {
            int length = (int)Get((uint)_pciCfgPosition + VirtioPciCfgCap.Length.Offset, 4);
            int bar = (int)Get((uint)_pciCfgPosition + VirtioPciCfgCap.Bar.Offset, 1);
            ulong at = Get((uint)_pciCfgPosition + VirtioPciCfgCap.OffsetRegister.Offset, 4);
            return length is 1 or 2 or 4 ? (uint)ReadBar(bar, at, length) : 0;
        }

        return base.ReadConfig(offset, width);
    }

    protected override void OnConfigWritten(int offset, int width, uint value)
    {
        uint data = (uint)_pciCfgPosition + VirtioPciCfgCap.PciCfgData.Offset;
        if (offset == data)
        {
            int length = (int)Get((uint)_pciCfgPosition + VirtioPciCfgCap.Length.Offset, 4);
            int bar = (int)Get((uint)_pciCfgPosition + VirtioPciCfgCap.Bar.Offset, 1);
            ulong at = Get((uint)_pciCfgPosition + VirtioPciCfgCap.OffsetRegister.Offset, 4);
            if (length is 1 or 2 or 4)
            {
                WriteBar(bar, at, length, value);
            }
        }

        if (MsixVectors > 0 && offset == MsixPosition + MsixCap.MessageControl.Offset)
        {
            FlushPending();
        }
    }

    public override ulong ReadBar(int bar, ulong offset, int width)
    {
        switch (bar)
        {
            case 0 when offset < IsrOffset:
                return ReadCommon((uint)(offset - CommonOffset), width);
            case 0 when offset == IsrOffset:
                byte isr = _isr;
                _isr = 0;
                return isr;
            case 0 when offset >= DeviceOffset && offset < NotifyOffset:
                return Device.ReadConfig((int)(offset - DeviceOffset), width);
            case 1 when offset < PbaOffset:
                return (ulong)offset / 4 < (ulong)_msix.Length ? _msix[offset / 4] : 0;
            case 1:
                return (_pending >> (int)(8 * (offset - PbaOffset))) & (ulong.MaxValue >> (64 - (8 * width)));
            case 2:
                ulong value = 0;
                for (int i = 0; i < width; i++)
                {
                    value |= (ulong)SharedMemory[offset + (ulong)i] << (8 * i);
                }

                return value;
            default:
                return ulong.MaxValue >> (64 - (8 * width));
        }
    }

    public override void WriteBar(int bar, ulong offset, int width, ulong value)
    {
        switch (bar)
        {
            case 0 when offset < IsrOffset:
                WriteCommon((uint)(offset - CommonOffset), width, value);
                break;
            case 0 when offset >= NotifyOffset && offset < NotifyOffset + NotifyLength:
                Notifications.Add((offset - NotifyOffset, value));
                Device.Notify((int)((offset - NotifyOffset) / NotifyMultiplier));
                break;
            case 1 when offset < PbaOffset && offset / 4 < (ulong)_msix.Length:
                _msix[offset / 4] = (uint)value;
                FlushPending();
                break;
            case 2:
                for (int i = 0; i < width; i++)
                {
                    SharedMemory[offset + (ulong)i] = (byte)(value >> (8 * i));
                }

                break;
        }
    }

    private ulong ReadCommon(uint offset, int width)
    {
        FakeQueue? q = _queueSelect < Device.Queues.Length ? Device.Queues[_queueSelect] : null;
        switch (offset)
        {
            case VirtioCommonCfg.DeviceFeatureSelect.Offset: return Device.DeviceFeatureSelect;
            case VirtioCommonCfg.DeviceFeature.Offset: return Device.DeviceFeatureWord;
            case VirtioCommonCfg.DriverFeatureSelect.Offset: return Device.DriverFeatureSelect;
            case VirtioCommonCfg.DriverFeature.Offset: return (uint)(Device.DriverFeatures >> (int)(32 * Math.Min(Device.DriverFeatureSelect, 1)));
            case VirtioCommonCfg.ConfigMsixVector.Offset: return _configVector;
            case VirtioCommonCfg.NumQueues.Offset: return (ulong)Device.Queues.Length;
            case VirtioCommonCfg.DeviceStatus.Offset when width == 1: return Device.ReadStatus();
            case VirtioCommonCfg.ConfigGeneration.Offset: return Device.ConfigGeneration & 0xff;
            case VirtioCommonCfg.QueueSelect.Offset: return _queueSelect;
            case VirtioCommonCfg.QueueSize.Offset: return q is null ? 0UL : q.Size;
            case VirtioCommonCfg.QueueMsixVector.Offset: return q?.Vector ?? VirtioTransport.NoVector;
            case VirtioCommonCfg.QueueEnable.Offset: return q is { Enabled: true } ? 1UL : 0;
            case VirtioCommonCfg.QueueNotifyOff.Offset: return _queueSelect;
            case VirtioCommonCfg.QueueDesc.Offset: return (uint)(q?.Desc ?? 0);
            case VirtioCommonCfg.QueueDesc.Offset + 4: return (uint)((q?.Desc ?? 0) >> 32);
            case VirtioCommonCfg.QueueDriver.Offset: return (uint)(q?.Driver ?? 0);
            case VirtioCommonCfg.QueueDriver.Offset + 4: return (uint)((q?.Driver ?? 0) >> 32);
            case VirtioCommonCfg.QueueDevice.Offset: return (uint)(q?.Device ?? 0);
            case VirtioCommonCfg.QueueDevice.Offset + 4: return (uint)((q?.Device ?? 0) >> 32);
            case VirtioCommonCfg.QueueNotifyData.Offset: return _queueSelect;
            case VirtioCommonCfg.QueueReset.Offset:
                if (q is { ResetReadsLeft: > 0 })
                {
                    q.ResetReadsLeft--;
                    return 1;
                }

                return 0;
            default: return 0;
        }
    }

    private void WriteCommon(uint offset, int width, ulong value)
    {
        FakeQueue? q = _queueSelect < Device.Queues.Length ? Device.Queues[_queueSelect] : null;
        switch (offset)
        {
            case VirtioCommonCfg.DeviceFeatureSelect.Offset: Device.DeviceFeatureSelect = (uint)value; break;
            case VirtioCommonCfg.DriverFeatureSelect.Offset: Device.DriverFeatureSelect = (uint)value; break;
            case VirtioCommonCfg.DriverFeature.Offset: Device.WriteDriverFeatureWord((uint)value); break;
            case VirtioCommonCfg.ConfigMsixVector.Offset: _configVector = Accept((ushort)value); break;
            case VirtioCommonCfg.DeviceStatus.Offset when width == 1:
                Device.WriteStatus((byte)value);
                if (value == 0)
                {
                    _configVector = VirtioTransport.NoVector;
                    _isr = 0;
                }

                break;
            case VirtioCommonCfg.QueueSelect.Offset: _queueSelect = (ushort)value; break;
            case VirtioCommonCfg.QueueSize.Offset when q is not null: q.Size = (ushort)value; break;
            case VirtioCommonCfg.QueueMsixVector.Offset when q is not null: q.Vector = Accept((ushort)value); break;
            case VirtioCommonCfg.QueueEnable.Offset when q is not null: q.Enabled = value == 1; break;
            case VirtioCommonCfg.QueueDesc.Offset when q is not null: q.Desc = Low(q.Desc, value); break;
            case VirtioCommonCfg.QueueDesc.Offset + 4 when q is not null: q.Desc = High(q.Desc, value); break;
            case VirtioCommonCfg.QueueDriver.Offset when q is not null: q.Driver = Low(q.Driver, value); break;
            case VirtioCommonCfg.QueueDriver.Offset + 4 when q is not null: q.Driver = High(q.Driver, value); break;
            case VirtioCommonCfg.QueueDevice.Offset when q is not null: q.Device = Low(q.Device, value); break;
            case VirtioCommonCfg.QueueDevice.Offset + 4 when q is not null: q.Device = High(q.Device, value); break;
            case VirtioCommonCfg.QueueReset.Offset when q is not null && value == 1:
                q.Reset();
                q.ResetReadsLeft = QueueResetReads;
                break;
        }
    }

    // The table is kept as dwords, as the device's bus sees it.
    private static int Slot(uint offset) => (int)(offset / sizeof(uint));

    private static ulong Low(ulong old, ulong value) => (old & 0xffff_ffff_0000_0000) | (uint)value;

    private static ulong High(ulong old, ulong value) => (old & 0xffff_ffff) | ((ulong)(uint)value << 32);

    private ushort Accept(ushort entry) =>
        entry != VirtioTransport.NoVector && (Device.RefuseVectors || entry >= MsixVectors) ? VirtioTransport.NoVector : entry;

    private void Raise(int queue)
    {
        _isr |= (byte)(queue >= 0 ? VirtioIsr.Isr.QueueInterrupt.Mask : VirtioIsr.Isr.ConfigInterrupt.Mask);
        ushort entry = queue >= 0 ? Device.Queues[queue].Vector : _configVector;
        if (MsixVectors > 0 && MsixEnabled && entry != VirtioTransport.NoVector)
        {
            Signal(entry);
        }
    }

    /// <summary>Sends MSI-X entry <paramref name="entry"/>, or holds it pending while masked.</summary>
    public void Signal(int entry)
    {
        if (FunctionMasked || (_msix[Slot(MsixTable.EntryVectorControl.OffsetOf(entry))] & MsixTable.EntryVectorControl.MaskField.Mask) != 0)
        {
            _pending |= 1UL << entry;
            return;
        }

        _platform.SendMessage(
            _msix[Slot(MsixTable.EntryMsgAddrLo.OffsetOf(entry))] | ((ulong)_msix[Slot(MsixTable.EntryMsgAddrHi.OffsetOf(entry))] << 32),
            _msix[Slot(MsixTable.EntryMsgData.OffsetOf(entry))]);
    }

    private void FlushPending()
    {
        for (int entry = 0; entry < MsixVectors; entry++)
        {
            if (IsPending(entry) && MsixEnabled && !FunctionMasked
                && (_msix[Slot(MsixTable.EntryVectorControl.OffsetOf(entry))] & MsixTable.EntryVectorControl.MaskField.Mask) == 0)
            {
                _pending &= ~(1UL << entry);
                Signal(entry);
            }
        }
    }

    private int AppendCapability(byte id, int length)
    {
        int at = _lastCapability == 0 ? (int)PciHeader.Size : _lastCapability + (int)Get((uint)_lastCapability + VirtioPciCap.CapLen.Offset, 1);
        if (_lastCapability != 0 && Get(_lastCapability, 1) == (byte)PciCapId.Msix)
        {
            at = _lastCapability + (int)MsixCap.Size;
        }

        at = (at + 3) & ~3;
        if (_lastCapability == 0)
        {
            SetCapabilityPointer((byte)at);
        }
        else
        {
            Set8((uint)_lastCapability + VirtioPciCap.CapNext.Offset, (byte)at);
        }

        Set8((uint)at, id);
        Set8((uint)at + VirtioPciCap.CapNext.Offset, 0);
        Set8((uint)at + VirtioPciCap.CapLen.Offset, (byte)length);
        _lastCapability = (byte)at;
        return at;
    }
}
