using VirtioHw.Host.Virtio;

namespace VirtioHw.Conformance.Tests.Fakes;

/// <summary>What a fake virtio device offers.</summary>
internal sealed record FakeVirtioSpec
{
    public int DeviceType { get; init; } = 44;

    /// <summary>Device feature bits; VERSION_1 and RING_RESET by default, plus device bit 0.</summary>
    public ulong Features { get; init; } =
        VirtioFeatures.Bit(VirtioFeatures.Version1) | VirtioFeatures.Bit(VirtioFeatures.RingReset) | 1;

    /// <summary>The maximum size of each queue (its count is the device's num_queues).</summary>
    public IReadOnlyList<ushort> QueueMaxSizes { get; init; } = [64, 32];

    public int DeviceConfigLength { get; init; } = 16;

    /// <summary>Shared memory regions: shmid, offset in the shared memory BAR, length.</summary>
    public IReadOnlyList<(byte Id, ulong Offset, ulong Length)> SharedMemory { get; init; } = [(1, 0, 0x4_0000), (2, 0x4_0000, 0x1000)];
}

/// <summary>
/// The transport-independent state of a fake virtio device: features, status, queues, device
/// configuration and shared memory bytes, and a device side of the split virtqueue that answers
/// every chain with its device-readable bytes reversed. The PCI and MMIO front ends map their
/// registers onto it.
/// </summary>
internal sealed class FakeVirtioDevice
{
    private readonly FakePciPlatform _platform;
    private int _resetReadsLeft;

    public FakeVirtioDevice(FakePciPlatform platform, FakeVirtioSpec spec)
    {
        _platform = platform;
        Spec = spec;
        Queues = [.. spec.QueueMaxSizes.Select(max => new FakeQueue(max))];
        DeviceConfig = new byte[spec.DeviceConfigLength];
        for (int i = 0; i < DeviceConfig.Length; i++)
        {
            DeviceConfig[i] = (byte)(0xa0 + i);
        }
    }

    public FakeVirtioSpec Spec { get; }

    public FakeQueue[] Queues { get; }

    public byte[] DeviceConfig { get; }

    public ulong DriverFeatures { get; set; }

    public uint DeviceFeatureSelect { get; set; }

    public uint DriverFeatureSelect { get; set; }

    public uint ConfigGeneration { get; set; }

    /// <summary>Every value the driver wrote to the status register, in order.</summary>
    public List<byte> StatusWrites { get; } = [];

    /// <summary>Whether FEATURES_OK is accepted for the features the driver wrote; default: a subset of the offer with VERSION_1.</summary>
    public Func<ulong, bool>? AcceptFeatures { get; set; }

    /// <summary>Reads of the status after a reset before it reads 0; -1 never.</summary>
    public int ResetReads { get; set; }

    /// <summary>Bump the config generation on this many of the next device configuration reads.</summary>
    public int ConfigChurn { get; set; }

    /// <summary>Refuse every MSI-X entry (they read back as VIRTIO_MSI_NO_VECTOR).</summary>
    public bool RefuseVectors { get; set; }

    /// <summary>Called for a queue interrupt (queue index) and a configuration interrupt (-1).</summary>
    public Action<int>? Interrupt { get; set; }

    /// <summary>While set, notifications are recorded but chains are left in the ring.</summary>
    public bool Paused { get; set; }

    public byte Status { get; private set; }

    public int Served { get; private set; }

    public byte ReadStatus()
    {
        if (_resetReadsLeft != 0)
        {
            if (_resetReadsLeft > 0)
            {
                _resetReadsLeft--;
            }

            return (byte)VirtioStatus.Acknowledge;
        }

        return Status;
    }

    public void WriteStatus(byte value)
    {
        StatusWrites.Add(value);
        if (value == 0)
        {
            Reset();
            _resetReadsLeft = ResetReads;
            return;
        }

        if ((value & (byte)VirtioStatus.FeaturesOk) != 0 && (Status & (byte)VirtioStatus.FeaturesOk) == 0
            && !(AcceptFeatures ?? AcceptSubsetWithVersion1)(DriverFeatures))
        {
            value &= unchecked((byte)~VirtioStatus.FeaturesOk);
        }

        Status = value;
    }

    // A device may refuse a driver that does not accept VIRTIO_F_VERSION_1; this one does, as the model does.
    private bool AcceptSubsetWithVersion1(ulong features) =>
        (features & ~Spec.Features) == 0 && VirtioFeatures.Has(features, VirtioFeatures.Version1);

    public uint DeviceFeatureWord => DeviceFeatureSelect < 2 ? (uint)(Spec.Features >> (int)(32 * DeviceFeatureSelect)) : 0;

    public void WriteDriverFeatureWord(uint value)
    {
        if (DriverFeatureSelect < 2)
        {
            int shift = (int)(32 * DriverFeatureSelect);
            DriverFeatures = (DriverFeatures & ~(0xffff_ffffUL << shift)) | ((ulong)value << shift);
        }
    }

    public uint ReadConfig(int offset, int width)
    {
        if (ConfigChurn > 0)
        {
            ConfigChurn--;
            ConfigGeneration++;
        }

        uint value = 0;
        for (int i = 0; i < width && offset + i < DeviceConfig.Length; i++)
        {
            value |= (uint)DeviceConfig[offset + i] << (8 * i);
        }

        return value;
    }

    /// <summary>Changes the device configuration and signals it, as a device does.</summary>
    public void ChangeConfig(int offset, byte value)
    {
        DeviceConfig[offset] = value;
        ConfigGeneration++;
        Interrupt?.Invoke(-1);
    }

    /// <summary>Sets DEVICE_NEEDS_RESET and signals a configuration change, as a device that met an error does.</summary>
    public void Break()
    {
        Status |= (byte)VirtioStatus.DeviceNeedsReset;
        Interrupt?.Invoke(-1);
    }

    /// <summary>The driver notified queue <paramref name="index"/>: serve every available chain.</summary>
    public void Notify(int index)
    {
        if ((uint)index >= (uint)Queues.Length)
        {
            return;
        }

        FakeQueue q = Queues[index];
        if (Paused || !q.Enabled || (Status & (byte)VirtioStatus.DriverOk) == 0)
        {
            return;
        }

        q.Ring ??= new EchoRing(q.Desc, q.Driver, q.Device, q.Size, _platform.DeviceRead, _platform.DeviceWrite);
        bool interrupt = q.Ring.ServeAvailable(out int served);
        Served += served;
        if (interrupt)
        {
            Interrupt?.Invoke(index);
        }
    }

    private void Reset()
    {
        Status = 0;
        DriverFeatures = 0;
        foreach (FakeQueue q in Queues)
        {
            q.Reset();
        }
    }
}

/// <summary>One queue of a fake device, as its registers hold it.</summary>
internal sealed class FakeQueue(ushort maxSize)
{
    public ushort MaxSize { get; } = maxSize;

    public ushort Size { get; set; } = maxSize;

    public ushort Vector { get; set; } = VirtioTransport.NoVector;

    public bool Enabled { get; set; }

    public ulong Desc { get; set; }

    public ulong Driver { get; set; }

    public ulong Device { get; set; }

    /// <summary>The device side of the rings, made when the queue is first notified.</summary>
    public EchoRing? Ring { get; set; }

    /// <summary>Reads of queue_reset after a reset request before it reads 0.</summary>
    public int ResetReadsLeft { get; set; }

    public void Reset()
    {
        Size = MaxSize;
        Vector = VirtioTransport.NoVector;
        Enabled = false;
        Desc = Driver = Device = 0;
        Ring = null;
    }
}
