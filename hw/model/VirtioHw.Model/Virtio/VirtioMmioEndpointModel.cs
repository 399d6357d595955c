using System.Buffers.Binary;
using VirtioHw.Firmware;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// The same virtio device behind virtio-mmio version 2 at the fixed addresses of the description's
/// <c>mmio</c> placement: the register file at <see cref="Base"/> with the device configuration
/// after it, and the BAR that holds the shared memory regions placed at
/// <see cref="SharedMemoryBase"/> (what SHMBase reports; an unused shmid reads all-ones).
/// </summary>
/// <remarks>
/// The interrupt is a level: InterruptStatus not 0. The model has no interrupt controller, so it
/// turns each cause the device raises into one message write, like an interrupt controller that
/// translates a wired line into MSIs: <see cref="RouteInterrupt"/> says where the message goes
/// (an <c>MsiVector</c> of the platform, say). The driver reads InterruptStatus and acknowledges
/// what it read through InterruptACK; a cause raised meanwhile brings a message of its own.
/// </remarks>
public sealed class VirtioMmioEndpointModel : EndpointModel
{
    /// <summary>Bytes the register window decodes: the virtio-mmio registers, then the device configuration.</summary>
    public const ulong WindowSize = 0x1000;

    private const int RegisterWindow = 0;
    private const int SharedMemoryWindow = 1;

    private readonly VirtioMmioModel _mmio = new();
    private readonly VirtioCore _core;
    private readonly BarMap _windows = new(2);
    private readonly ulong _sharedMemorySize;
    private ulong _messageAddress;
    private uint _messageData;
    private bool _routed;

    /// <param name="description">A validated description of a virtio personality with an <c>mmio</c> placement.</param>
    /// <param name="upstream">Where DMA and interrupt messages go; not owned.</param>
    /// <param name="backing">Device memory shared with other endpoints, or null for its own.</param>
    public VirtioMmioEndpointModel(EndpointDescription description, IRootPort upstream, SharedMemoryBacking? backing = null)
        : base(description, upstream, backing)
    {
        if (description.Virtio is null || description.Mmio is null)
        {
            throw new ArgumentException($"{description.Name} has no virtio-mmio placement", nameof(description));
        }

        Base = description.Mmio.Base;
        SharedMemoryBase = description.Mmio.SharedMemoryBase;
        _mmio.SetDeviceId(description.Virtio.DeviceId);
        _mmio.SetVendorId(description.Identity.VendorId);
        _core = new VirtioCore(this, new Transport(this));
        Connect();

        _windows.Add(RegisterWindow, 0, VirtioMmio.Size, new RegisterBlockTarget(_mmio));
        if (_core.DeviceConfig is { } config)
        {
            _windows.Add(RegisterWindow, VirtioMmio.Size, WindowSize - VirtioMmio.Size, new RegisterBlockTarget(config.Block));
        }

        foreach (SharedMemoryRegion region in description.SharedMemory)
        {
            _windows.Add(SharedMemoryWindow, region.Offset, region.Length, CreateSharedMemoryWindow(region));
        }

        _sharedMemorySize = description.SharedMemory.IsEmpty ? 0 : description.FindBar(description.SharedMemory[0].Bar)!.Size;
    }

    /// <summary>Physical address of the register window.</summary>
    public ulong Base { get; }

    /// <summary>Physical address where the shared memory regions' BAR is placed.</summary>
    public ulong SharedMemoryBase { get; }

    /// <summary>Whether the interrupt level is high (InterruptStatus is not 0).</summary>
    public bool InterruptAsserted
    {
        get
        {
            lock (Sync)
            {
                return _mmio.InterruptStatusUsedBuffer || _mmio.InterruptStatusConfigChange;
            }
        }
    }

    // No bus master enable on virtio-mmio: the device may always master.
    internal override bool BusMasterEnabled => true;

    /// <summary>Sends one write of <paramref name="messageData"/> to <paramref name="messageAddress"/> for each interrupt cause raised from now on.</summary>
    public void RouteInterrupt(ulong messageAddress, uint messageData)
    {
        lock (Sync)
        {
            _messageAddress = messageAddress;
            _messageData = messageData;
            _routed = true;
        }
    }

    public override bool TryRead(ulong address, int width, out ulong value)
    {
        lock (Sync)
        {
            if (!TryDecode(address, out int window, out ulong offset))
            {
                value = 0;
                return false;
            }

            value = _windows.Find(window, offset, out ulong local)?.Read(local, width) ?? 0;
            return true;
        }
    }

    public override bool TryWrite(ulong address, int width, ulong value)
    {
        lock (Sync)
        {
            if (!TryDecode(address, out int window, out ulong offset))
            {
                return false;
            }

            _windows.Find(window, offset, out ulong local)?.Write(local, width, value);
            return true;
        }
    }

    private bool TryDecode(ulong address, out int window, out ulong offset)
    {
        if (address >= Base && address - Base < WindowSize)
        {
            (window, offset) = (RegisterWindow, address - Base);
            return true;
        }

        if (address >= SharedMemoryBase && address - SharedMemoryBase < _sharedMemorySize)
        {
            (window, offset) = (SharedMemoryWindow, address - SharedMemoryBase);
            return true;
        }

        (window, offset) = (-1, 0);
        return false;
    }

    private void Connect()
    {
        VirtioMmioModel mmio = _mmio;
        VirtioCore core = _core;
        int Selected() => (int)Math.Min(mmio.QueueSel, int.MaxValue);
        bool Exists() => core.Queues.Exists(Selected());
        ref QueueRegisters Queue() => ref core.Queues[Selected()];

        mmio.DeviceFeaturesHandler = new ExternalRegister((_, _) => core.DeviceFeatureWord(mmio.DeviceFeaturesSel), Drop);
        mmio.DriverFeaturesHandler = new ExternalRegister(
            (_, _) => 0,
            (_, value, bytes) => core.WriteDriverFeatureWord(mmio.DriverFeaturesSel, value, bytes));
        mmio.QueueNumMaxHandler = new ExternalRegister((_, _) => Exists() ? Queue().MaxSize : 0UL, Drop);
        mmio.QueueNumHandler = new ExternalRegister(
            (_, _) => 0,
            (_, value, bytes) =>
            {
                if (Exists() && !Queue().Enabled)
                {
                    Queue().Size = (ushort)ByteLanes.Merge(Queue().Size, value, bytes);
                }
            });
        mmio.QueueReadyHandler = new ExternalRegister(
            (_, _) => Exists() && Queue().Enabled ? 1UL : 0UL,
            (_, value, _) =>
            {
                // Drivers write 0 to take a queue down and read it back; firmware sees it in q_state.
                if ((value & 1) != 0)
                {
                    core.EnableQueue(Selected());
                }
                else if (Exists())
                {
                    Queue().Enabled = false;
                }
            });
        mmio.QueueDescLowHandler = AreaHalf(() => ref Queue().DescriptorArea, 0);
        mmio.QueueDescHighHandler = AreaHalf(() => ref Queue().DescriptorArea, 32);
        mmio.QueueDriverLowHandler = AreaHalf(() => ref Queue().DriverArea, 0);
        mmio.QueueDriverHighHandler = AreaHalf(() => ref Queue().DriverArea, 32);
        mmio.QueueDeviceLowHandler = AreaHalf(() => ref Queue().DeviceArea, 0);
        mmio.QueueDeviceHighHandler = AreaHalf(() => ref Queue().DeviceArea, 32);
        mmio.QueueResetHandler = new ExternalRegister(
            (_, _) => Exists() && Queue().ResetPending ? 1UL : 0UL,
            (_, value, _) =>
            {
                if (value == 1)
                {
                    core.RequestQueueReset(Selected());
                }
            });
        mmio.ShmLenLowHandler = new ExternalRegister((_, _) => (uint)SelectedRegionLength(), Drop);
        mmio.ShmLenHighHandler = new ExternalRegister((_, _) => (uint)(SelectedRegionLength() >> 32), Drop);
        mmio.ShmBaseLowHandler = new ExternalRegister((_, _) => (uint)SelectedRegionBase(), Drop);
        mmio.ShmBaseHighHandler = new ExternalRegister((_, _) => (uint)(SelectedRegionBase() >> 32), Drop);
        mmio.QueueNotifyModified += (_, e) => core.Notify((ushort)e.Value, (uint)e.Value);
        mmio.InterruptAckModified += (_, e) =>
        {
            if ((e.Value & VirtioMmio.InterruptStatus.UsedBuffer.Mask) != 0)
            {
                mmio.HwClearInterruptStatusUsedBuffer();
            }

            if ((e.Value & VirtioMmio.InterruptStatus.ConfigChange.Mask) != 0)
            {
                mmio.HwClearInterruptStatusConfigChange();
            }
        };
        mmio.StatusModified += (_, e) =>
        {
            byte kept = core.WriteStatus((byte)e.Value);
            if (kept != e.Value)
            {
                mmio.Status = kept;
            }
        };

        ExternalRegister AreaHalf(AreaSelector area, int shift) => new(
            (_, _) => 0,
            (_, value, bytes) =>
            {
                if (Exists())
                {
                    ref ulong stored = ref area();
                    ulong half = ByteLanes.Merge((uint)(stored >> shift), value, bytes);
                    stored = (stored & ~((ulong)uint.MaxValue << shift)) | (half << shift);
                }
            });
    }

    /// <summary>Length of the region SHMSel selects; all-ones (-1) when that shmid is unused.</summary>
    private ulong SelectedRegionLength() => SelectedRegion() is { } region ? region.Length : ulong.MaxValue;

    /// <summary>Physical base of the region SHMSel selects; all-ones when that shmid is unused.</summary>
    private ulong SelectedRegionBase() => SelectedRegion() is { } region ? SharedMemoryBase + region.Offset : ulong.MaxValue;

    private SharedMemoryRegion? SelectedRegion() =>
        _mmio.ShmSel <= byte.MaxValue ? Description.FindSharedMemory((int)_mmio.ShmSel) : null;

    private void SendInterrupt()
    {
        if (!_routed)
        {
            return;
        }

        Span<byte> data = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(data, _messageData);
        Upstream.TryMemoryWrite(_messageAddress, data);
    }

    private static void Drop(int element, ulong value, uint byteMask)
    {
        // Read-only to the driver.
    }

    private delegate ref ulong AreaSelector();

    /// <summary>The InterruptStatus side of <see cref="VirtioCore"/>.</summary>
    private sealed class Transport(VirtioMmioEndpointModel endpoint) : IVirtioTransport
    {
        public byte Status
        {
            get => endpoint._mmio.Status;
            set => endpoint._mmio.Status = value;
        }

        public void RaiseQueueInterrupt()
        {
            endpoint._mmio.HwSetInterruptStatusUsedBuffer();
            endpoint.SendInterrupt();
        }

        public void RaiseConfigInterrupt()
        {
            endpoint._mmio.HwSetInterruptStatusConfigChange();
            endpoint.SendInterrupt();
        }

        public void SetConfigGeneration(byte generation) => endpoint._mmio.SetConfigGeneration(generation);

        public void ResetInterrupts()
        {
            endpoint._mmio.HwClearInterruptStatusUsedBuffer();
            endpoint._mmio.HwClearInterruptStatusConfigChange();
        }
    }
}
