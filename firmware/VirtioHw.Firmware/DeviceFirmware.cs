using VirtioHw.Registers;

namespace VirtioHw.Firmware;

/// <summary>
/// What every firmware does: check that it talks to a VirtioHw endpoint, program it once at boot,
/// then pop the event FIFO and hand each event to a virtual handler. Subclasses override the
/// handlers of the events their device produces; the others are ignored.
/// </summary>
/// <remarks>
/// Handlers run one at a time on the task that runs <see cref="RunAsync"/> (or the caller of
/// <see cref="ProcessPendingEvents"/>), so firmware state needs no locking of its own.
/// </remarks>
public abstract class DeviceFirmware
{
    /// <param name="hal">The CSR port of the endpoint; not owned.</param>
    protected DeviceFirmware(IDeviceHal hal)
    {
        ArgumentNullException.ThrowIfNull(hal);
        Hal = hal;
        Csr = new FirmwareCsr(hal);
    }

    /// <summary>Typed access to the CSR port.</summary>
    public FirmwareCsr Csr { get; }

    public bool IsBooted { get; private set; }

    /// <summary>How many times the hardware reported that the event FIFO overflowed.</summary>
    public long EventOverflows { get; private set; }

    protected IDeviceHal Hal { get; }

    /// <summary>Checks the endpoint's identity and programs it; done once, before the driver looks.</summary>
    /// <exception cref="InvalidOperationException">The CSR port is not a VirtioHw fw_csr block this firmware knows, or boot already ran.</exception>
    public void Boot()
    {
        if (IsBooted)
        {
            throw new InvalidOperationException("the firmware has already booted");
        }

        uint id = Csr.Id;
        if (id != FwCsr.Id.ResetValue)
        {
            throw new InvalidOperationException($"fw_csr id reads 0x{id:x8}, not 0x{FwCsr.Id.ResetValue:x8}: this is not a VirtioHw endpoint");
        }

        ushort major = Csr.VersionMajor;
        if (major != FwCsr.Version.Major.Reset)
        {
            throw new InvalidOperationException($"fw_csr version {major}.x is not the {FwCsr.Version.Major.Reset}.x this firmware was built for");
        }

        OnBoot();
        IsBooted = true;
    }

    /// <summary>Boots (unless done already), then handles events until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!IsBooted)
        {
            Boot();
        }

        while (true)
        {
            await Hal.WaitForEventAsync(cancellationToken).ConfigureAwait(false);
            ProcessPendingEvents();
        }
    }

    /// <summary>Pops and handles every event waiting now; returns how many there were.</summary>
    public int ProcessPendingEvents()
    {
        if (Csr.TakeOverflow())
        {
            EventOverflows++;
            OnEventsLost();
        }

        int handled = 0;
        while (Csr.TryPeekEvent(out FirmwareEvent head))
        {
            Csr.PopEvent();
            Dispatch(head);
            handled++;
        }

        return handled;
    }

    /// <summary>Programs the endpoint at boot.</summary>
    protected abstract void OnBoot();

    /// <summary>The driver notified <paramref name="queue"/>; <paramref name="data"/> is the notification word (queue index in bits 15:0).</summary>
    protected virtual void OnQueueNotify(ushort queue, uint data)
    {
    }

    /// <summary>The driver wrote device_status; <paramref name="written"/> is what it wrote.</summary>
    protected virtual void OnStatusWrite(byte written)
    {
    }

    /// <summary>The driver enabled <paramref name="queue"/>.</summary>
    protected virtual void OnQueueEnable(ushort queue)
    {
    }

    /// <summary>The driver asked to reset <paramref name="queue"/>; queue_reset reads 1 until firmware completes it.</summary>
    protected virtual void OnQueueReset(ushort queue)
    {
    }

    /// <summary>The driver wrote word <paramref name="word"/> of the driver features.</summary>
    protected virtual void OnFeaturesWrite(uint word)
    {
    }

    /// <summary>The driver wrote the notify-address of ISM notify slot <paramref name="slot"/>.</summary>
    protected virtual void OnIsmKick(uint slot)
    {
    }

    /// <summary>An ivshmem doorbell for <paramref name="peer"/>'s <paramref name="vector"/>.</summary>
    protected virtual void OnDoorbell(ushort peer, ushort vector)
    {
    }

    /// <summary>At least one event was lost because the FIFO was full.</summary>
    protected virtual void OnEventsLost()
    {
    }

    /// <summary>Reads system memory by DMA.</summary>
    /// <exception cref="DmaException">The hardware refused: not system memory, or bus mastering is off.</exception>
    protected void ReadDma(ulong busAddress, Span<byte> destination)
    {
        if (!Hal.DmaRead(busAddress, destination))
        {
            throw new DmaException(
                $"DMA read of {destination.Length} bytes at 0x{busAddress:x} refused: the range is not system memory or bus mastering is off");
        }
    }

    /// <summary>Writes system memory by DMA.</summary>
    /// <exception cref="DmaException">The hardware refused: not system memory, or bus mastering is off.</exception>
    protected void WriteDma(ulong busAddress, ReadOnlySpan<byte> source)
    {
        if (!Hal.DmaWrite(busAddress, source))
        {
            throw new DmaException(
                $"DMA write of {source.Length} bytes at 0x{busAddress:x} refused: the range is not system memory or bus mastering is off");
        }
    }

    private void Dispatch(FirmwareEvent e)
    {
        switch (e.Kind)
        {
            case FwCsr.FwEventKind.QueueNotify: OnQueueNotify((ushort)e.Data, e.Data); break;
            case FwCsr.FwEventKind.IsmKick: OnIsmKick(e.Data); break;
            // DOORBELL data is laid out like the ivshmem doorbell register that produced it.
            case FwCsr.FwEventKind.Doorbell: OnDoorbell((ushort)(e.Data >> Ivshmem.Doorbell.Peer.Shift), (ushort)e.Data); break;
            case FwCsr.FwEventKind.StatusWrite: OnStatusWrite((byte)e.Data); break;
            case FwCsr.FwEventKind.QueueEnable: OnQueueEnable((ushort)e.Data); break;
            case FwCsr.FwEventKind.QueueReset: OnQueueReset((ushort)e.Data); break;
            case FwCsr.FwEventKind.FeaturesWrite: OnFeaturesWrite(e.Data); break;
            default: break; // A kind newer than this firmware: nothing to do with it.
        }
    }
}
