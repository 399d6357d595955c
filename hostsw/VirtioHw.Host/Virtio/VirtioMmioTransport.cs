using System.Diagnostics.CodeAnalysis;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Host.Virtio;

/// <summary>What the identification registers of a virtio-mmio window say.</summary>
/// <param name="BaseAddress">The window.</param>
/// <param name="Magic">MagicValue.</param>
/// <param name="Version">Version.</param>
/// <param name="DeviceId">DeviceID: the virtio device type, 0 when the slot is empty.</param>
/// <param name="VendorId">VendorID (read only when a device is present).</param>
public sealed record VirtioMmioProbe(ulong BaseAddress, uint Magic, uint Version, uint DeviceId, uint VendorId)
{
    /// <summary>The magic value is 'virt'.</summary>
    public bool IsVirtio => Magic == VirtioMmio.MagicValue.ResetValue;

    /// <summary>A version-2 device sits in the slot: the transport can drive it.</summary>
    public bool IsPresent => Problem is null;

    /// <summary>Why the transport cannot drive the window, in a few words; null when it can.</summary>
    public string? Problem =>
        !IsVirtio ? $"the magic value reads 0x{Magic:x8}, not 0x{VirtioMmio.MagicValue.ResetValue:x8} ('virt')"
        : Version != VirtioMmio.Version.ResetValue ? $"the device is virtio-mmio version {Version}; only version {VirtioMmio.Version.ResetValue} (virtio 1.x) is supported"
        : DeviceId == 0 ? "no device is present (DeviceID reads 0)"
        : null;
}

/// <summary>
/// The virtio-mmio transport, version 2: the same driver API as <see cref="VirtioPciTransport"/>
/// over the register file of <c>docs/regs/virtio_mmio.md</c>, with shared memory regions found
/// through SHMSel, SHMLen and SHMBase.
/// </summary>
/// <remarks>
/// Interrupts: with an <c>interrupt</c> stream from the platform (the device's interrupt line),
/// <see cref="RunInterruptsAsync"/> waits on it; without one it polls InterruptStatus every
/// <see cref="VirtioTransportOptions.PollInterval"/>. Either way it acknowledges the causes it
/// saw through InterruptACK before serving them, so none is lost.
/// </remarks>
public sealed class VirtioMmioTransport : VirtioTransport
{
    // The shmid space a driver searches when it lists every region.
    private const int ShmidCount = 256;

    // virtio-mmio has no queue count; a listing stops at the first absent queue or here.
    private const int MaxListedQueues = 1024;

    private readonly MsiVector? _interrupt;
    private readonly int _deviceConfigLength;

    private VirtioMmioTransport(Platform platform, MmioDeviceWindow window, VirtioMmioProbe probe, MsiVector? interrupt, VirtioTransportOptions? options)
        : base(platform, options)
    {
        Window = window;
        Probe = probe;
        _interrupt = interrupt;

        // Device-specific configuration starts where the register file ends (0x100).
        _deviceConfigLength = window.Length > VirtioMmio.Size ? (int)Math.Min(window.Length - VirtioMmio.Size, int.MaxValue) : -1;
    }

    public MmioDeviceWindow Window { get; }

    public ulong BaseAddress => Window.BaseAddress;

    /// <summary>The identification registers as read when the transport was opened.</summary>
    public VirtioMmioProbe Probe { get; }

    public override string Location => $"virtio-mmio@0x{BaseAddress:x}";

    public override int DeviceType => (int)Probe.DeviceId;

    /// <summary>The window's length past the register file; -1 when the window gives no more than the registers.</summary>
    public override int DeviceConfigLength => _deviceConfigLength;

    public override uint ConfigGeneration => Read(VirtioMmio.ConfigGeneration.Offset);

    /// <summary>Reads the identification registers of a window without touching anything else.</summary>
    public static VirtioMmioProbe Identify(Platform platform, ulong baseAddress)
    {
        ArgumentNullException.ThrowIfNull(platform);
        uint magic = platform.Read32(baseAddress + VirtioMmio.MagicValue.Offset);
        if (magic != VirtioMmio.MagicValue.ResetValue)
        {
            return new VirtioMmioProbe(baseAddress, magic, 0, 0, 0);
        }

        uint version = platform.Read32(baseAddress + VirtioMmio.Version.Offset);
        if (version != VirtioMmio.Version.ResetValue)
        {
            return new VirtioMmioProbe(baseAddress, magic, version, 0, 0);
        }

        // With DeviceID 0 the driver must not touch any other register.
        uint device = platform.Read32(baseAddress + VirtioMmio.DeviceId.Offset);
        uint vendor = device == 0 ? 0 : platform.Read32(baseAddress + VirtioMmio.VendorId.Offset);
        return new VirtioMmioProbe(baseAddress, magic, version, device, vendor);
    }

    /// <summary>Opens the device in <paramref name="window"/> after checking magic, version and DeviceID.</summary>
    /// <param name="platform">The platform; not owned.</param>
    /// <param name="window">Where the registers are.</param>
    /// <param name="interrupt">The device's interrupt as the platform delivers it, or null to poll. Not owned.</param>
    /// <param name="options">Timeouts; defaults when null.</param>
    /// <exception cref="VirtioException">No version-2 virtio device is there; the message says what was found.</exception>
    public static VirtioMmioTransport Open(Platform platform, MmioDeviceWindow window, MsiVector? interrupt = null, VirtioTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(window);
        VirtioMmioProbe probe = Identify(platform, window.BaseAddress);
        if (probe.Problem is { } problem)
        {
            throw new VirtioException($"virtio-mmio@0x{window.BaseAddress:x}: {problem}");
        }

        return new VirtioMmioTransport(platform, window, probe, interrupt, options);
    }

    /// <summary>
    /// Reads what a listing shows without driving the device: identification, status, features,
    /// the maximum size of each queue (up to the first that reads 0) and, when
    /// <paramref name="sharedMemory"/> is set, the shared memory regions. Only selector registers
    /// are written. An empty slot or a foreign window gives the reason in the diagnostics.
    /// </summary>
    public static VirtioDeviceInfo Inspect(Platform platform, MmioDeviceWindow window, bool sharedMemory = true)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(window);
        VirtioMmioProbe probe = Identify(platform, window.BaseAddress);
        string location = $"virtio-mmio@0x{window.BaseAddress:x}";
        if (probe.Problem is { } problem)
        {
            return new VirtioDeviceInfo(location, (int)probe.DeviceId, VirtioStatus.Reset, 0, [], 0, [], [problem]);
        }

        var transport = new VirtioMmioTransport(platform, window, probe, null, null);
        ulong features = transport.ReadDeviceFeatures();
        var sizes = new List<int>();
        for (ushort q = 0; q < MaxListedQueues; q++)
        {
            int size = transport.ReadQueueMaxSize(q);
            if (size == 0)
            {
                break;
            }

            sizes.Add(size);
        }

        return new VirtioDeviceInfo(location, (int)probe.DeviceId, transport.ReadStatus(), features, sizes,
            transport.ConfigGeneration, sharedMemory ? transport.GetSharedMemoryRegions() : [], []);
    }

    /// <summary>
    /// Every shared memory region: SHMSel for each shmid 0-255, skipping those whose length reads
    /// all-ones (unused). Only call this for a device type that has shared memory: a driver not
    /// expecting shared memory must not touch these registers.
    /// </summary>
    public override IReadOnlyList<VirtioSharedMemoryRegion> GetSharedMemoryRegions()
    {
        var regions = new List<VirtioSharedMemoryRegion>();
        for (int id = 0; id < ShmidCount; id++)
        {
            if (TryGetSharedMemoryRegion((byte)id, out VirtioSharedMemoryRegion? region))
            {
                regions.Add(region);
            }
        }

        return regions;
    }

    /// <summary>Selects shmid <paramref name="id"/> and reads its length and base; false when the length reads -1.</summary>
    public override bool TryGetSharedMemoryRegion(byte id, [NotNullWhen(true)] out VirtioSharedMemoryRegion? region)
    {
        Write(VirtioMmio.ShmSel.Offset, id);
        ulong length = Read(VirtioMmio.ShmLenLow.Offset) | ((ulong)Read(VirtioMmio.ShmLenHigh.Offset) << 32);
        region = null;
        if (length == ulong.MaxValue)
        {
            return false;
        }

        ulong physical = Read(VirtioMmio.ShmBaseLow.Offset) | ((ulong)Read(VirtioMmio.ShmBaseHigh.Offset) << 32);
        if (length > 0 && length - 1 > ulong.MaxValue - physical)
        {
            throw new VirtioException($"{Location}: shared memory region {id} at 0x{physical:x} with length 0x{length:x} runs past the end of the address space");
        }

        region = new VirtioSharedMemoryRegion(Platform, id, physical, length);
        return true;
    }

    /// <summary>Reads InterruptStatus: bit 0 used buffers, bit 1 configuration change.</summary>
    public uint ReadInterruptStatus() => Read(VirtioMmio.InterruptStatus.Offset);

    /// <summary>Acknowledges the interrupt causes in <paramref name="causes"/>.</summary>
    public void AcknowledgeInterrupt(uint causes) => Write(VirtioMmio.InterruptAck.Offset, causes);

    public override VirtioStatus ReadStatus() => (VirtioStatus)(byte)Read(VirtioMmio.Status.Offset);

    protected override void WriteStatus(VirtioStatus status) => Write(VirtioMmio.Status.Offset, (byte)status);

    protected override uint ReadDeviceFeatureWord(uint select)
    {
        Write(VirtioMmio.DeviceFeaturesSel.Offset, select);
        return Read(VirtioMmio.DeviceFeatures.Offset);
    }

    protected override void WriteDriverFeatureWord(uint select, uint value)
    {
        Write(VirtioMmio.DriverFeaturesSel.Offset, select);
        Write(VirtioMmio.DriverFeatures.Offset, value);
    }

    protected override uint ReadDeviceConfigCore(int offset, int width) =>
        (uint)Platform.ReadMemory(BaseAddress + VirtioMmio.Size + (ulong)offset, width);

    protected override void WriteDeviceConfigCore(int offset, int width, uint value) =>
        Platform.WriteMemory(BaseAddress + VirtioMmio.Size + (ulong)offset, width, value);

    protected override int ReadQueueMaxSize(ushort index)
    {
        Write(VirtioMmio.QueueSel.Offset, index);
        return (int)Math.Min(Read(VirtioMmio.QueueNumMax.Offset), int.MaxValue);
    }

    protected override VirtioQueue CreateQueue(ushort index, int deviceMaxSize, SplitVirtqueueOptions options)
    {
        Write(VirtioMmio.QueueSel.Offset, index);
        if (Read(VirtioMmio.QueueReady.Offset) != 0)
        {
            throw new VirtioException($"{Location}: queue {index} is already in use (QueueReady reads 1)");
        }

        ulong notifyAddress = BaseAddress + VirtioMmio.QueueNotify.Offset;
        var ring = new SplitVirtqueue(Platform, options, new Notifier(Platform, notifyAddress, index));
        try
        {
            var queue = new VirtioQueue(this, index, deviceMaxSize, ring, notifyAddress, NoVector, _interrupt);
            Program(queue);
            return queue;
        }
        catch
        {
            ring.Dispose();
            throw;
        }
    }

    protected override void EnableQueue(VirtioQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Program(queue);
    }

    protected override void StartQueueReset(ushort index)
    {
        Write(VirtioMmio.QueueSel.Offset, index);
        Write(VirtioMmio.QueueReset.Offset, 1);
    }

    protected override bool IsQueueResetComplete(ushort index)
    {
        Write(VirtioMmio.QueueSel.Offset, index);
        return Read(VirtioMmio.QueueReset.Offset) == 0 && Read(VirtioMmio.QueueReady.Offset) == 0;
    }

    public override async Task RunInterruptsAsync(CancellationToken cancellationToken)
    {
        if (_interrupt is null)
        {
            while (true)
            {
                Serve();
                await Task.Delay(Options.PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }

        // Serve once first: an interrupt raised before the loop started has been delivered already.
        Serve();
        await foreach (long _ in _interrupt.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            Serve();
        }
    }

    private void Serve()
    {
        uint causes = ReadInterruptStatus();
        if (causes == 0)
        {
            return;
        }

        AcknowledgeInterrupt(causes);
        if ((causes & VirtioMmio.InterruptStatus.UsedBuffer.Mask) != 0)
        {
            ProcessUsed(Queues);
        }

        if ((causes & VirtioMmio.InterruptStatus.ConfigChange.Mask) != 0)
        {
            OnConfigurationChanged();
        }
    }

    private void Program(VirtioQueue queue)
    {
        SplitVirtqueue ring = queue.Virtqueue;
        Write(VirtioMmio.QueueSel.Offset, queue.Index);
        Write(VirtioMmio.QueueNum.Offset, (uint)ring.Size);
        Write(VirtioMmio.QueueDescLow.Offset, (uint)ring.DescriptorTableAddress);
        Write(VirtioMmio.QueueDescHigh.Offset, (uint)(ring.DescriptorTableAddress >> 32));
        Write(VirtioMmio.QueueDriverLow.Offset, (uint)ring.DriverAreaAddress);
        Write(VirtioMmio.QueueDriverHigh.Offset, (uint)(ring.DriverAreaAddress >> 32));
        Write(VirtioMmio.QueueDeviceLow.Offset, (uint)ring.DeviceAreaAddress);
        Write(VirtioMmio.QueueDeviceHigh.Offset, (uint)(ring.DeviceAreaAddress >> 32));
        Write(VirtioMmio.QueueReady.Offset, 1);
    }

    // The control registers take only 32-bit, aligned accesses.
    private uint Read(uint offset) => Platform.Read32(BaseAddress + offset);

    private void Write(uint offset, uint value) => Platform.Write32(BaseAddress + offset, value);

    /// <summary>Notifies one queue by writing its index to QueueNotify.</summary>
    private sealed class Notifier(Platform platform, ulong address, ushort index) : IQueueNotifier
    {
        public void Notify(SplitVirtqueue queue) => platform.Write32(address, index);
    }
}
