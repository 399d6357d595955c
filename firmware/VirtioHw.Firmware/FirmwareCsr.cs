using VirtioHw.Registers;

namespace VirtioHw.Firmware;

/// <summary>
/// Typed access to the firmware CSR port. Every offset, shift and mask comes from the generated
/// <see cref="FwCsr"/> definitions. A 64-bit register is two 32-bit accesses, low word first,
/// as the register bus defines it.
/// </summary>
public sealed class FirmwareCsr
{
    private readonly IDeviceHal _hal;

    /// <param name="hal">The port; not owned.</param>
    public FirmwareCsr(IDeviceHal hal)
    {
        ArgumentNullException.ThrowIfNull(hal);
        _hal = hal;
    }

    /// <summary>The block identity; <see cref="FwCsr.Id.ResetValue"/> on every VirtioHw endpoint.</summary>
    public uint Id => _hal.ReadCsr(FwCsr.Id.Offset);

    public ushort VersionMajor => (ushort)Field(_hal.ReadCsr(FwCsr.Version.Offset), FwCsr.Version.Major.Mask, FwCsr.Version.Major.Shift);

    public ushort VersionMinor => (ushort)Field(_hal.ReadCsr(FwCsr.Version.Offset), FwCsr.Version.Minor.Mask, FwCsr.Version.Minor.Shift);

    /// <summary>Virtio device id of the endpoint, 0 for ivshmem.</summary>
    public byte PersonalityDeviceId =>
        (byte)Field(_hal.ReadCsr(FwCsr.Personality.Offset), FwCsr.Personality.DeviceId.Mask, FwCsr.Personality.DeviceId.Shift);

    public int QueueCount =>
        (int)Field(_hal.ReadCsr(FwCsr.Personality.Offset), FwCsr.Personality.NumQueues.Mask, FwCsr.Personality.NumQueues.Shift);

    public int MsixVectorCount =>
        (int)Field(_hal.ReadCsr(FwCsr.Personality.Offset), FwCsr.Personality.MsixVectors.Mask, FwCsr.Personality.MsixVectors.Shift);

    public uint ChunkSlots => _hal.ReadCsr(FwCsr.ChunkSlots.Offset);

    public uint Scratch
    {
        get => _hal.ReadCsr(FwCsr.Scratch.Offset);
        set => _hal.WriteCsr(FwCsr.Scratch.Offset, value);
    }

    // ---- events --------------------------------------------------------------------------

    /// <summary>Events waiting in the FIFO, the head included.</summary>
    public int PendingEvents =>
        (int)Field(_hal.ReadCsr(FwCsr.EvtStatus.Offset), FwCsr.EvtStatus.CountField.Mask, FwCsr.EvtStatus.CountField.Shift);

    /// <summary>The head of the FIFO without removing it; false when the FIFO is empty.</summary>
    public bool TryPeekEvent(out FirmwareEvent head)
    {
        var kind = (FwCsr.FwEventKind)Field(_hal.ReadCsr(FwCsr.EvtKind.Offset), FwCsr.EvtKind.Kind.Mask, FwCsr.EvtKind.Kind.Shift);
        if (kind == FwCsr.FwEventKind.None)
        {
            head = default;
            return false;
        }

        head = new FirmwareEvent(kind, _hal.ReadCsr(FwCsr.EvtData.Offset));
        return true;
    }

    /// <summary>Drops the head event; the next one (if any) becomes the head.</summary>
    public void PopEvent() => _hal.WriteCsr(FwCsr.EvtPop.Offset, (uint)FwCsr.EvtPop.Pop.Mask);

    /// <summary>Whether an event was lost because the FIFO was full; clears the flag.</summary>
    public bool TakeOverflow()
    {
        if ((_hal.ReadCsr(FwCsr.EvtStatus.Offset) & FwCsr.EvtStatus.Overflow.Mask) == 0)
        {
            return false;
        }

        _hal.WriteCsr(FwCsr.EvtStatus.Offset, (uint)FwCsr.EvtStatus.Overflow.Mask);
        return true;
    }

    // ---- interrupts ----------------------------------------------------------------------

    /// <summary>Sends the MSI-X message of <paramref name="vector"/>, or sets its pending bit while it is masked.</summary>
    public void TriggerMsix(ushort vector) =>
        _hal.WriteCsr(FwCsr.MsixTrigger.Offset, (uint)(((ulong)vector << FwCsr.MsixTrigger.Vector.Shift) & FwCsr.MsixTrigger.Vector.Mask));

    /// <summary>Sets the queue interrupt cause of the ISR (or of InterruptStatus on virtio-mmio).</summary>
    public void SetQueueInterrupt() => _hal.WriteCsr(FwCsr.IsrSet.Offset, (uint)FwCsr.IsrSet.Queue.Mask);

    /// <summary>Sets the configuration change cause and advances config_generation.</summary>
    public void SetConfigChange() => _hal.WriteCsr(FwCsr.IsrSet.Offset, (uint)FwCsr.IsrSet.ConfigChange.Mask);

    // ---- shared memory chunk table ---------------------------------------------------------

    /// <summary>Loads chunk slot <paramref name="slot"/> with a backing address and the host's access to it.</summary>
    public void CommitChunk(uint slot, ulong backingAddress, ChunkAccess access)
    {
        _hal.WriteCsr(FwCsr.ChunkIndex.Offset, slot);
        _hal.WriteCsr(FwCsr.ChunkPerm.Offset, (uint)access);
        Write64(FwCsr.ChunkAddr.Offset, backingAddress);
        _hal.WriteCsr(FwCsr.ChunkCommit.Offset, (uint)FwCsr.ChunkCommit.Commit.Mask);
    }

    // ---- device configuration, features, status ---------------------------------------------

    /// <summary>Stores one word of the device configuration the driver reads (read-only to it).</summary>
    public void WriteDeviceConfig(ushort offset, uint value)
    {
        _hal.WriteCsr(FwCsr.DevcfgOffset.Offset, offset);
        _hal.WriteCsr(FwCsr.DevcfgData.Offset, value);
        _hal.WriteCsr(FwCsr.DevcfgWrite.Offset, (uint)FwCsr.DevcfgWrite.Write.Mask);
    }

    /// <summary>Feature bits the device offers to the driver.</summary>
    public ulong OfferedFeatures
    {
        get => Read64(FwCsr.DevFeatures.Offset);
        set => Write64(FwCsr.DevFeatures.Offset, value);
    }

    /// <summary>Feature bits the driver accepted, as it last wrote them.</summary>
    public ulong DriverFeatures => Read64(FwCsr.DrvFeatures.Offset);

    /// <summary>device_status as the hardware holds it (FEATURES_OK only if the hardware kept it).</summary>
    public byte DeviceStatus =>
        (byte)Field(_hal.ReadCsr(FwCsr.DeviceStatus.Offset), FwCsr.DeviceStatus.Status.Mask, FwCsr.DeviceStatus.Status.Shift);

    /// <summary>Sets DEVICE_NEEDS_RESET and signals a configuration change to the driver.</summary>
    public void SetNeedsReset() => _hal.WriteCsr(FwCsr.StatusSet.Offset, (uint)FwCsr.StatusSet.NeedsReset.Mask);

    // ---- queues (of the queue selected with SelectQueue) ----------------------------------

    public void SelectQueue(ushort queue) => _hal.WriteCsr(FwCsr.QSel.Offset, queue);

    /// <summary>Largest size the driver may choose; 0 means the queue does not exist.</summary>
    public ushort QueueMaxSize
    {
        get => (ushort)Field(_hal.ReadCsr(FwCsr.QMaxSize.Offset), FwCsr.QMaxSize.MaxSize.Mask, FwCsr.QMaxSize.MaxSize.Shift);
        set => _hal.WriteCsr(FwCsr.QMaxSize.Offset, (uint)(((ulong)value << FwCsr.QMaxSize.MaxSize.Shift) & FwCsr.QMaxSize.MaxSize.Mask));
    }

    public QueueState QueueState
    {
        get
        {
            uint word = _hal.ReadCsr(FwCsr.QState.Offset);
            return new QueueState(
                (ushort)Field(word, FwCsr.QState.Size.Mask, FwCsr.QState.Size.Shift),
                (word & FwCsr.QState.Enabled.Mask) != 0,
                (word & FwCsr.QState.ResetPending.Mask) != 0);
        }
    }

    public ushort QueueMsixVector =>
        (ushort)Field(_hal.ReadCsr(FwCsr.QMsixVector.Offset), FwCsr.QMsixVector.Vector.Mask, FwCsr.QMsixVector.Vector.Shift);

    public ulong QueueDescriptorArea => Read64(FwCsr.QDesc.Offset);

    public ulong QueueDriverArea => Read64(FwCsr.QDriver.Offset);

    public ulong QueueDeviceArea => Read64(FwCsr.QDevice.Offset);

    /// <summary>Completes a queue reset the driver asked for; its queue_reset then reads 0.</summary>
    public void CompleteQueueReset() => _hal.WriteCsr(FwCsr.QResetDone.Offset, (uint)FwCsr.QResetDone.Done.Mask);

    private ulong Read64(uint offset) => _hal.ReadCsr(offset) | ((ulong)_hal.ReadCsr(offset + 4) << 32);

    private void Write64(uint offset, ulong value)
    {
        _hal.WriteCsr(offset, (uint)value);
        _hal.WriteCsr(offset + 4, (uint)(value >> 32));
    }

    private static ulong Field(uint word, ulong mask, int shift) => (word & mask) >> shift;
}
