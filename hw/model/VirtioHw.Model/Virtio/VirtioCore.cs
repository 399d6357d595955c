using VirtioHw.Firmware;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// The virtio logic every transport shares: offered and accepted features, the FEATURES_OK check,
/// device reset, the per-queue storage, the device configuration, and the firmware side of all of
/// it (the q_* registers, isr_set, status_set, devcfg_write, q_reset_done of fw_csr).
/// </summary>
internal sealed class VirtioCore
{
    private const byte FeaturesOk = (byte)VirtioCommonCfg.VirtioDeviceStatus.FeaturesOk;
    private const byte DeviceNeedsReset = (byte)VirtioCommonCfg.VirtioDeviceStatus.DeviceNeedsReset;

    // Feature words the driver can select: 64 feature bits.
    private const int FeatureWords = 2;

    private readonly FwCsrModel _csr;
    private readonly EventFifo _events;
    private readonly IVirtioTransport _transport;
    private readonly int _msixVectors;
    private ulong _accepted;
    private byte _generation;

    public VirtioCore(EndpointModel endpoint, IVirtioTransport transport)
    {
        EndpointDescription description = endpoint.Description;
        _csr = endpoint.Csr;
        _events = endpoint.Events;
        _transport = transport;
        _msixVectors = description.Msix?.Vectors ?? 0;
        Queues = new QueueStore(description.Queues.Length);
        DeviceConfig = description.Personality == EndpointPersonality.Ism ? new IsmDeviceConfig() : null;

        _csr.QMaxSizeHandler = new ExternalRegister(
            (_, _) => SelectedIsDescribed() ? Queues[_csr.QSel].MaxSize : 0UL,
            (_, value, bytes) =>
            {
                if (_csr.QSel < Queues.Count)
                {
                    Queues.SetMaxSize(_csr.QSel, (ushort)ByteLanes.Merge(Queues[_csr.QSel].MaxSize, value, bytes));
                }
            });
        _csr.QStateHandler = new ExternalRegister((_, _) => SelectedIsDescribed() ? QueueState(Queues[_csr.QSel]) : 0UL, Ignore);
        _csr.QMsixVectorHandler = new ExternalRegister((_, _) => SelectedIsDescribed() ? Queues[_csr.QSel].MsixVector : VirtioFirmware.NoVector, Ignore);
        _csr.QDescHandler = new ExternalRegister((_, _) => SelectedIsDescribed() ? Queues[_csr.QSel].DescriptorArea : 0UL, Ignore);
        _csr.QDriverHandler = new ExternalRegister((_, _) => SelectedIsDescribed() ? Queues[_csr.QSel].DriverArea : 0UL, Ignore);
        _csr.QDeviceHandler = new ExternalRegister((_, _) => SelectedIsDescribed() ? Queues[_csr.QSel].DeviceArea : 0UL, Ignore);
        _csr.QResetDonePulsed += (_, e) =>
        {
            if (e.Value != 0 && SelectedIsDescribed() && Queues[_csr.QSel].ResetPending)
            {
                Queues.Reset(_csr.QSel);
            }
        };
        _csr.IsrSetQueuePulsed += (_, e) =>
        {
            if (e.Value != 0)
            {
                _transport.RaiseQueueInterrupt();
            }
        };
        _csr.IsrSetConfigChangePulsed += (_, e) =>
        {
            if (e.Value != 0)
            {
                ConfigChanged();
            }
        };
        _csr.StatusSetPulsed += (_, e) =>
        {
            if (e.Value != 0)
            {
                _transport.Status |= DeviceNeedsReset;
                _csr.SetDeviceStatus(_transport.Status);
                ConfigChanged();
            }
        };
        _csr.DevcfgWritePulsed += (_, e) =>
        {
            if (e.Value != 0)
            {
                DeviceConfig?.FirmwareWrite(_csr.DevcfgOffset, _csr.DevcfgData);
            }
        };
    }

    public QueueStore Queues { get; }

    /// <summary>The device configuration block, or null when the personality has none.</summary>
    public IDeviceConfig? DeviceConfig { get; }

    /// <summary>Word <paramref name="select"/> of the offered features (0 past the last word).</summary>
    public uint DeviceFeatureWord(uint select) => select < FeatureWords ? (uint)(_csr.DevFeatures >> (int)(32 * select)) : 0;

    /// <summary>Word <paramref name="select"/> of the accepted features.</summary>
    public uint DriverFeatureWord(uint select) => select < FeatureWords ? (uint)(_accepted >> (int)(32 * select)) : 0;

    /// <summary>The driver wrote bytes of a driver feature word; firmware hears FEATURES_WRITE.</summary>
    public void WriteDriverFeatureWord(uint select, ulong value, uint byteMask)
    {
        if (select >= FeatureWords)
        {
            return;
        }

        int shift = (int)(32 * select);
        ulong word = ByteLanes.Merge(DriverFeatureWord(select), value, byteMask);
        _accepted = (_accepted & ~((ulong)uint.MaxValue << shift)) | (word << shift);
        _csr.SetDrvFeatures(_accepted);
        _events.Push(FwCsr.FwEventKind.FeaturesWrite, select);
    }

    /// <summary>
    /// The driver wrote device status. 0 resets the device. FEATURES_OK stands only if the
    /// accepted features are a subset of the offered ones and include VIRTIO_F_VERSION_1, checked
    /// here in hardware so firmware cannot race the driver. Returns the status to keep.
    /// </summary>
    public byte WriteStatus(byte written)
    {
        byte kept = written;
        if (written == 0)
        {
            Reset();
        }
        else if ((written & FeaturesOk) != 0 && !FeaturesAcceptable())
        {
            kept = (byte)(written & ~FeaturesOk);
        }

        _csr.SetDeviceStatus(kept);
        _events.Push(FwCsr.FwEventKind.StatusWrite, written);
        return kept;
    }

    /// <summary>The driver enabled a queue: firmware hears QUEUE_ENABLE once.</summary>
    public void EnableQueue(int queue)
    {
        if (Queues.Exists(queue) && !Queues[queue].Enabled)
        {
            Queues[queue].Enabled = true;
            _events.Push(FwCsr.FwEventKind.QueueEnable, (uint)queue);
        }
    }

    /// <summary>The driver notified a queue; <paramref name="data"/> carries the queue index in bits 15:0.</summary>
    public void Notify(int queue, uint data)
    {
        if (Queues.Exists(queue))
        {
            _events.Push(FwCsr.FwEventKind.QueueNotify, data);
        }
    }

    /// <summary>The driver asked to reset a queue; it stays pending until firmware writes q_reset_done.</summary>
    public void RequestQueueReset(int queue)
    {
        if (Queues.Exists(queue) && !Queues[queue].ResetPending)
        {
            Queues[queue].ResetPending = true;
            _events.Push(FwCsr.FwEventKind.QueueReset, (uint)queue);
        }
    }

    /// <summary>A vector the driver may use, or VIRTIO_MSI_NO_VECTOR when the function has no such vector.</summary>
    public ushort AcceptVector(ulong vector) => vector < (ulong)_msixVectors ? (ushort)vector : VirtioFirmware.NoVector;

    private bool FeaturesAcceptable() =>
        (_accepted & ~_csr.DevFeatures) == 0 && (_accepted & VirtioFeatureBits.Version1) != 0;

    private void Reset()
    {
        Queues.ResetAll();
        _accepted = 0;
        _csr.SetDrvFeatures(0);
        _transport.ResetInterrupts();
    }

    private void ConfigChanged()
    {
        _generation++;
        _transport.SetConfigGeneration(_generation);
        _transport.RaiseConfigInterrupt();
    }

    private bool SelectedIsDescribed() => _csr.QSel < Queues.Count;

    private static ulong QueueState(in QueueRegisters q) =>
        ((ulong)q.Size << FwCsr.QState.Size.Shift)
        | (q.Enabled ? FwCsr.QState.Enabled.Mask : 0)
        | (q.ResetPending ? FwCsr.QState.ResetPending.Mask : 0);

    private static void Ignore(int element, ulong value, uint byteMask)
    {
        // Read-only to firmware: the driver owns these.
    }
}
