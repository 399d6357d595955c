using System.Buffers.Binary;
using VirtioHw.Registers;

namespace VirtioHw.Firmware;

/// <summary>
/// The base of every virtio personality (ISM, dmabuf): at boot it offers the device features
/// (with VIRTIO_F_VERSION_1), the queue sizes and the device configuration; afterwards it follows
/// the driver through device status, queue enables and queue resets. Personalities override
/// <c>OnQueueNotify</c> and the hooks below to do their work.
/// </summary>
public class VirtioFirmware : DeviceFirmware
{
    /// <summary>VIRTIO_MSI_NO_VECTOR: what config_msix_vector holds after reset.</summary>
    public const ushort NoVector = (ushort)VirtioCommonCfg.ConfigMsixVector.ResetValue;

    private QueueSetup?[] _queues = [];

    /// <param name="hal">The CSR port of the endpoint; not owned.</param>
    /// <param name="settings">What to program at boot.</param>
    public VirtioFirmware(IDeviceHal hal, VirtioFirmwareSettings settings)
        : base(hal)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.DeviceConfig.Length % sizeof(uint) != 0)
        {
            throw new ArgumentException($"the device configuration is {settings.DeviceConfig.Length} bytes, not a whole number of 32-bit words", nameof(settings));
        }

        Settings = settings;
    }

    /// <summary>The features the driver accepted, valid once <see cref="FeaturesNegotiated"/>.</summary>
    public ulong NegotiatedFeatures { get; private set; }

    /// <summary>The hardware kept FEATURES_OK since the last device reset.</summary>
    public bool FeaturesNegotiated { get; private set; }

    /// <summary>Each queue's setup once the driver enabled it; null while it is not enabled.</summary>
    public IReadOnlyList<QueueSetup?> Queues => _queues;

    protected VirtioFirmwareSettings Settings { get; }

    protected override void OnBoot()
    {
        int hardwareQueues = Csr.QueueCount;
        if (Settings.QueueMaxSizes.Count > hardwareQueues)
        {
            throw new InvalidOperationException(
                $"the firmware sets up {Settings.QueueMaxSizes.Count} queues but the endpoint has {hardwareQueues}");
        }

        _queues = new QueueSetup?[hardwareQueues];
        Csr.OfferedFeatures = Settings.DeviceFeatures | VirtioFeatureBits.Version1;
        for (int q = 0; q < Settings.QueueMaxSizes.Count; q++)
        {
            Csr.SelectQueue((ushort)q);
            Csr.QueueMaxSize = Settings.QueueMaxSizes[q];
        }

        ReadOnlySpan<byte> config = Settings.DeviceConfig.Span;
        for (int offset = 0; offset < config.Length; offset += sizeof(uint))
        {
            Csr.WriteDeviceConfig((ushort)offset, BinaryPrimitives.ReadUInt32LittleEndian(config[offset..]));
        }
    }

    /// <summary>Tracks negotiation; a write of 0 means the hardware has reset the device.</summary>
    protected override void OnStatusWrite(byte written)
    {
        if (written == 0)
        {
            NegotiatedFeatures = 0;
            FeaturesNegotiated = false;
            Array.Clear(_queues);
            OnDeviceReset();
            return;
        }

        // The hardware decides whether FEATURES_OK stands; firmware reads the outcome.
        if (!FeaturesNegotiated && (Csr.DeviceStatus & (byte)VirtioCommonCfg.VirtioDeviceStatus.FeaturesOk) != 0)
        {
            NegotiatedFeatures = Csr.DriverFeatures;
            FeaturesNegotiated = true;
            OnFeaturesNegotiated(NegotiatedFeatures);
        }
    }

    protected override void OnQueueEnable(ushort queue)
    {
        if (queue >= _queues.Length)
        {
            return;
        }

        Csr.SelectQueue(queue);
        var setup = new QueueSetup(
            Csr.QueueState.Size,
            Csr.QueueMsixVector,
            Csr.QueueDescriptorArea,
            Csr.QueueDriverArea,
            Csr.QueueDeviceArea);
        _queues[queue] = setup;
        OnQueueReady(queue, setup);
    }

    /// <summary>Forgets the queue and completes the reset; overrides drop their own queue state first, then call this.</summary>
    protected override void OnQueueReset(ushort queue)
    {
        if (queue < _queues.Length)
        {
            _queues[queue] = null;
        }

        Csr.SelectQueue(queue);
        Csr.CompleteQueueReset();
    }

    /// <summary>Lost events may have been status writes or queue setups: ask the driver to start over.</summary>
    protected override void OnEventsLost() => Csr.SetNeedsReset();

    /// <summary>The driver reset the device; the hardware state is back to its reset values already.</summary>
    protected virtual void OnDeviceReset()
    {
    }

    /// <summary>The hardware kept FEATURES_OK for <paramref name="features"/>.</summary>
    protected virtual void OnFeaturesNegotiated(ulong features)
    {
    }

    /// <summary>The driver enabled <paramref name="queue"/> with <paramref name="setup"/>.</summary>
    protected virtual void OnQueueReady(ushort queue, QueueSetup setup)
    {
    }

    /// <summary>Tells the driver that <paramref name="queue"/> has used buffers: ISR queue bit, then the queue's MSI-X vector.</summary>
    protected void NotifyUsed(ushort queue)
    {
        Csr.SetQueueInterrupt();
        ushort vector = queue < _queues.Length && _queues[queue] is { } setup ? setup.MsixVector : NoVector;
        if (vector != NoVector)
        {
            Csr.TriggerMsix(vector);
        }
    }

    /// <summary>Tells the driver the device configuration changed; the hardware sends the config vector.</summary>
    protected void SignalConfigChange() => Csr.SetConfigChange();

    /// <summary>Sends (or leaves pending, while masked) the MSI-X message of <paramref name="vector"/>.</summary>
    protected void TriggerMsix(ushort vector) => Csr.TriggerMsix(vector);
}
