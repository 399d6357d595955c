using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Fakes;

/// <summary>Plain memory at a fixed address (where a virtio-mmio device's shared memory lives).</summary>
internal sealed class FakeRam(ulong baseAddress, ulong length) : IFakeMmioDevice
{
    private readonly byte[] _bytes = new byte[length];

    public ulong BaseAddress { get; } = baseAddress;

    public ulong Length { get; } = length;

    public ulong Read(ulong offset, int width)
    {
        ulong value = 0;
        for (int i = 0; i < width; i++)
        {
            value |= (ulong)_bytes[offset + (ulong)i] << (8 * i);
        }

        return value;
    }

    public void Write(ulong offset, int width, ulong value)
    {
        for (int i = 0; i < width; i++)
        {
            _bytes[offset + (ulong)i] = (byte)(value >> (8 * i));
        }
    }
}

/// <summary>
/// A virtio-mmio version 2 register file over a <see cref="FakeVirtioDevice"/>, with its shared
/// memory regions placed at <see cref="SharedMemoryBase"/> plus their offsets. Interrupts set
/// InterruptStatus and, when <see cref="Line"/> is set, send that message as the interrupt line.
/// </summary>
internal sealed class FakeVirtioMmioDevice : IFakeMmioDevice
{
    public const ulong WindowLength = 0x200;

    private readonly FakePciPlatform _platform;
    private uint _interruptStatus;
    private uint _queueSelect;
    private uint _shmSelect;

    public FakeVirtioMmioDevice(FakePciPlatform platform, ulong baseAddress, FakeVirtioSpec spec, ulong sharedMemoryBase)
    {
        _platform = platform;
        BaseAddress = baseAddress;
        SharedMemoryBase = sharedMemoryBase;
        Device = new FakeVirtioDevice(platform, spec) { Interrupt = Raise };
    }

    public FakeVirtioDevice Device { get; }

    public ulong BaseAddress { get; }

    public ulong Length => WindowLength;

    public ulong SharedMemoryBase { get; }

    public uint Magic { get; set; } = (uint)VirtioMmio.MagicValue.ResetValue;

    public uint Version { get; set; } = (uint)VirtioMmio.Version.ResetValue;

    /// <summary>The DeviceID register; 0 is an empty slot.</summary>
    public uint DeviceId { get; set; } = 44;

    /// <summary>The interrupt line as a message (address, data), or null to leave it unconnected.</summary>
    public (ulong Address, uint Data)? Line { get; set; }

    /// <summary>Registers read after DeviceID read 0 (a driver must not touch them).</summary>
    public List<ulong> ReadsAfterEmptyDeviceId { get; } = [];

    /// <summary>How many times a driver wrote SHMSel.</summary>
    public int ShmSelWrites { get; private set; }

    private bool _sawEmptyDeviceId;

    public ulong Read(ulong offset, int width)
    {
        if (_sawEmptyDeviceId)
        {
            ReadsAfterEmptyDeviceId.Add(offset);
        }

        if (offset >= VirtioMmio.Size)
        {
            return Device.ReadConfig((int)(offset - VirtioMmio.Size), width);
        }

        FakeQueue? q = _queueSelect < Device.Queues.Length ? Device.Queues[_queueSelect] : null;
        (byte Id, ulong Offset, ulong Length)? shm = Device.Spec.SharedMemory.Cast<(byte, ulong, ulong)?>().FirstOrDefault(r => r!.Value.Item1 == _shmSelect);
        switch ((uint)offset)
        {
            case VirtioMmio.MagicValue.Offset: return Magic;
            case VirtioMmio.Version.Offset: return Version;
            case VirtioMmio.DeviceId.Offset:
                _sawEmptyDeviceId = DeviceId == 0;
                return DeviceId;
            case VirtioMmio.VendorId.Offset: return 0x554d4551;
            case VirtioMmio.DeviceFeatures.Offset: return Device.DeviceFeatureWord;
            case VirtioMmio.QueueNumMax.Offset: return q?.MaxSize ?? 0u;
            case VirtioMmio.QueueReady.Offset: return q is { Enabled: true } ? 1u : 0;
            case VirtioMmio.InterruptStatus.Offset: return _interruptStatus;
            case VirtioMmio.Status.Offset: return Device.ReadStatus();
            case VirtioMmio.ShmLenLow.Offset: return shm is null ? uint.MaxValue : (uint)shm.Value.Length;
            case VirtioMmio.ShmLenHigh.Offset: return shm is null ? uint.MaxValue : (uint)(shm.Value.Length >> 32);
            case VirtioMmio.ShmBaseLow.Offset: return shm is null ? uint.MaxValue : (uint)(SharedMemoryBase + shm.Value.Offset);
            case VirtioMmio.ShmBaseHigh.Offset: return shm is null ? uint.MaxValue : (uint)((SharedMemoryBase + shm.Value.Offset) >> 32);
            case VirtioMmio.QueueReset.Offset:
                if (q is { ResetReadsLeft: > 0 })
                {
                    q.ResetReadsLeft--;
                    return 1;
                }

                return 0;
            case VirtioMmio.ConfigGeneration.Offset: return Device.ConfigGeneration;
            default: return 0;
        }
    }

    public void Write(ulong offset, int width, ulong value)
    {
        if (offset >= VirtioMmio.Size)
        {
            return;
        }

        FakeQueue? q = _queueSelect < Device.Queues.Length ? Device.Queues[_queueSelect] : null;
        uint v = (uint)value;
        switch ((uint)offset)
        {
            case VirtioMmio.DeviceFeaturesSel.Offset: Device.DeviceFeatureSelect = v; break;
            case VirtioMmio.DriverFeaturesSel.Offset: Device.DriverFeatureSelect = v; break;
            case VirtioMmio.DriverFeatures.Offset: Device.WriteDriverFeatureWord(v); break;
            case VirtioMmio.QueueSel.Offset: _queueSelect = v; break;
            case VirtioMmio.QueueNum.Offset when q is not null: q.Size = (ushort)v; break;
            case VirtioMmio.QueueReady.Offset when q is not null: q.Enabled = v == 1; break;
            case VirtioMmio.QueueNotify.Offset: Device.Notify((int)v); break;
            case VirtioMmio.InterruptAck.Offset: _interruptStatus &= ~v; break;
            case VirtioMmio.Status.Offset:
                Device.WriteStatus((byte)v);
                if (v == 0)
                {
                    _interruptStatus = 0;
                }

                break;
            case VirtioMmio.QueueDescLow.Offset when q is not null: q.Desc = (q.Desc & ~0xffff_ffffUL) | v; break;
            case VirtioMmio.QueueDescHigh.Offset when q is not null: q.Desc = (q.Desc & 0xffff_ffffUL) | ((ulong)v << 32); break;
            case VirtioMmio.QueueDriverLow.Offset when q is not null: q.Driver = (q.Driver & ~0xffff_ffffUL) | v; break;
            case VirtioMmio.QueueDriverHigh.Offset when q is not null: q.Driver = (q.Driver & 0xffff_ffffUL) | ((ulong)v << 32); break;
            case VirtioMmio.QueueDeviceLow.Offset when q is not null: q.Device = (q.Device & ~0xffff_ffffUL) | v; break;
            case VirtioMmio.QueueDeviceHigh.Offset when q is not null: q.Device = (q.Device & 0xffff_ffffUL) | ((ulong)v << 32); break;
            case VirtioMmio.ShmSel.Offset:
                _shmSelect = v;
                ShmSelWrites++;
                break;
            case VirtioMmio.QueueReset.Offset when q is not null && v == 1:
                q.Reset();
                q.ResetReadsLeft = 2;
                break;
        }
    }

    private void Raise(int queue)
    {
        _interruptStatus |= (uint)(queue >= 0 ? VirtioMmio.InterruptStatus.UsedBuffer.Mask : VirtioMmio.InterruptStatus.ConfigChange.Mask);
        if (Line is { } line)
        {
            _platform.SendMessage(line.Address, line.Data);
        }
    }
}
