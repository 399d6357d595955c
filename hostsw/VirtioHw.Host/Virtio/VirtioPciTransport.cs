using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Host.Virtio;

/// <summary>
/// The virtio-pci modern transport: the common configuration, notify, ISR and device structures
/// located by the function's virtio capabilities, MSI-X for interrupts, and the shared memory
/// regions of its <c>VIRTIO_PCI_CAP_SHARED_MEMORY_CFG</c> capabilities.
/// </summary>
/// <remarks>
/// Open it on a function whose BARs are assigned and decoded (<see cref="PciBus.Scan"/>). With
/// MSI-X, entry 0 signals configuration changes and each queue gets an entry of its own while
/// the table has room (queues share the remaining entries round-robin otherwise); without MSI-X,
/// <see cref="RunInterruptsAsync"/> polls the ISR status.
/// </remarks>
public sealed class VirtioPciTransport : VirtioTransport
{
    // The fields every virtio 1.0 device has; queue_notify_data and queue_reset came later.
    private const uint MinimumCommonLength = VirtioCommonCfg.QueueDevice.Offset + (VirtioCommonCfg.QueueDevice.Width / 8);
    private const uint QueueResetEnd = VirtioCommonCfg.QueueReset.Offset + (VirtioCommonCfg.QueueReset.Width / 8);
    private const uint NotifyDataEnd = VirtioCommonCfg.QueueNotifyData.Offset + (VirtioCommonCfg.QueueNotifyData.Width / 8);
    private const ushort ConfigEntry = 0;

    private readonly ulong _common;
    private readonly ulong _notifyBase;
    private readonly ulong _isr;
    private readonly ulong _device;
    private readonly ulong _commonLength;
    private readonly List<VirtioSharedMemoryRegion> _regions;

    // MSI-X entries in use: the message each sends and the queues it signals.
    private readonly Dictionary<ushort, VectorBinding> _bindings = [];
    private readonly Lock _bindingSync = new();

    private VirtioPciTransport(PciFunction function, VirtioTransportOptions? options, Structures structures)
        : base(function.Platform, options)
    {
        Function = function;
        CommonCapability = structures.Common;
        NotifyCapability = structures.Notify;
        IsrCapability = structures.Isr;
        DeviceCapability = structures.Device;
        _common = structures.CommonAddress;
        _commonLength = structures.Common.Length;
        _notifyBase = structures.NotifyAddress;
        _isr = structures.IsrAddress;
        _device = structures.DeviceAddress;
        NotifyOffMultiplier = structures.Notify.NotifyOffMultiplier ?? 0;
        _regions = structures.Regions;
        Diagnostics = structures.Diagnostics;

        VirtioPciCapabilityInfo? pciCfg = function.VirtioCapabilities.FirstOrDefault(c => c.CfgType == VirtioPciCfgType.PciCfg);
        PciCfgWindow = pciCfg is null ? null : new VirtioPciCfgWindow(function.Platform, function.Address, pciCfg);

        if (function.MsixCapability is not null)
        {
            Msix = function.OpenMsix();
            for (int entry = 0; entry < Msix.TableSize; entry++)
            {
                Msix.Mask(entry);
            }

            Msix.FunctionMasked = false;
            Msix.Enabled = true;
        }
    }

    public PciFunction Function { get; }

    public override string Location => Function.Address.ToString();

    public override int DeviceType => Function.VirtioDeviceType ?? 0;

    public override int DeviceConfigLength => DeviceCapability is null ? 0 : (int)Math.Min(DeviceCapability.Length, int.MaxValue);

    public override uint ConfigGeneration => Platform.Read8(_common + VirtioCommonCfg.ConfigGeneration.Offset);

    /// <summary>The capability of the common configuration structure in use (the first usable one).</summary>
    public VirtioPciCapabilityInfo CommonCapability { get; }

    /// <summary>The notification capability in use.</summary>
    public VirtioPciCapabilityInfo NotifyCapability { get; }

    /// <summary>The ISR capability in use.</summary>
    public VirtioPciCapabilityInfo IsrCapability { get; }

    /// <summary>The device configuration capability in use, or null when the device has none.</summary>
    public VirtioPciCapabilityInfo? DeviceCapability { get; }

    /// <summary>notify_off_multiplier of the notification capability.</summary>
    public uint NotifyOffMultiplier { get; }

    /// <summary>The function's MSI-X table, or null without MSI-X.</summary>
    public PciMsix? Msix { get; }

    /// <summary>The PCI configuration access window (cfg_type 5), or null when the device has none.</summary>
    public VirtioPciCfgWindow? PciCfgWindow { get; }

    /// <summary>Capabilities that were skipped (unusable structures, invalid shared memory regions), one sentence each.</summary>
    public IReadOnlyList<string> Diagnostics { get; }

    /// <summary>num_queues: how many queues the device has.</summary>
    public int QueueCount => Platform.Read16(_common + VirtioCommonCfg.NumQueues.Offset);

    /// <summary>The device implements queue_reset (its common configuration is long enough).</summary>
    public bool HasQueueReset => _commonLength >= QueueResetEnd;

    protected override ulong TransportFeatures =>
        base.TransportFeatures | (_commonLength >= NotifyDataEnd ? VirtioFeatures.Bit(VirtioFeatures.NotifConfigData) : 0);

    /// <summary>
    /// Opens the transport of a virtio function: finds and checks its structures and enables
    /// MSI-X with every entry masked. Nothing else on the device changes.
    /// </summary>
    /// <exception cref="VirtioException">
    /// Not a virtio device, decoding is off, or a structure the driver needs (common, notify, ISR)
    /// is missing or unusable; the message says which.
    /// </exception>
    public static VirtioPciTransport Open(PciFunction function, VirtioTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (!function.IsVirtio)
        {
            throw new VirtioException($"{function.Address} ({function.VendorId:x4}:{function.DeviceId:x4}) is not a virtio device");
        }

        if ((function.Command & PciHeader.Command.MemorySpace.Mask) == 0)
        {
            throw new VirtioException($"{function.Address} has memory decoding off; assign its BARs first (PciBus.Scan)");
        }

        return new VirtioPciTransport(function, options, Structures.Find(function));
    }

    /// <summary>
    /// Reads what a listing shows (status, features, queue sizes, shared memory) without driving
    /// the device: only the feature and queue selectors are written, and put back.
    /// </summary>
    public static VirtioDeviceInfo Inspect(PciFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        int type = function.VirtioDeviceType ?? 0;
        if (!function.IsVirtio || (function.Command & PciHeader.Command.MemorySpace.Mask) == 0)
        {
            string why = function.IsVirtio ? "memory decoding is off" : "not a virtio device";
            return new VirtioDeviceInfo(function.Address.ToString(), type, VirtioStatus.Reset, 0, [], 0, [], [why]);
        }

        Structures structures;
        try
        {
            structures = Structures.Find(function);
        }
        catch (VirtioException e)
        {
            return new VirtioDeviceInfo(function.Address.ToString(), type, VirtioStatus.Reset, 0, [], 0, [], [e.Message]);
        }

        Platform platform = function.Platform;
        ulong common = structures.CommonAddress;
        uint featureSelect = platform.Read32(common + VirtioCommonCfg.DeviceFeatureSelect.Offset);
        ulong features = 0;
        for (uint word = 0; word < 2; word++)
        {
            platform.Write32(common + VirtioCommonCfg.DeviceFeatureSelect.Offset, word);
            features |= (ulong)platform.Read32(common + VirtioCommonCfg.DeviceFeature.Offset) << (int)(32 * word);
        }

        platform.Write32(common + VirtioCommonCfg.DeviceFeatureSelect.Offset, featureSelect);

        ushort queueSelect = platform.Read16(common + VirtioCommonCfg.QueueSelect.Offset);
        int count = platform.Read16(common + VirtioCommonCfg.NumQueues.Offset);
        var sizes = new int[count];
        for (int q = 0; q < count; q++)
        {
            platform.Write16(common + VirtioCommonCfg.QueueSelect.Offset, (ushort)q);
            sizes[q] = platform.Read16(common + VirtioCommonCfg.QueueSize.Offset);
        }

        platform.Write16(common + VirtioCommonCfg.QueueSelect.Offset, queueSelect);
        return new VirtioDeviceInfo(
            function.Address.ToString(), type,
            (VirtioStatus)platform.Read8(common + VirtioCommonCfg.DeviceStatus.Offset),
            features, sizes,
            platform.Read8(common + VirtioCommonCfg.ConfigGeneration.Offset),
            structures.Regions, structures.Diagnostics);
    }

    /// <summary>The shared memory regions of the device: one per valid cfg_type 8 capability, first of each shmid.</summary>
    public override IReadOnlyList<VirtioSharedMemoryRegion> GetSharedMemoryRegions() => _regions;

    public override bool TryGetSharedMemoryRegion(byte id, [NotNullWhen(true)] out VirtioSharedMemoryRegion? region)
    {
        region = _regions.Find(r => r.Id == id);
        return region is not null;
    }

    /// <summary>Reads (and so clears) the ISR status: bit 0 queue interrupt, bit 1 configuration change.</summary>
    public byte ReadIsr() => Platform.Read8(_isr + VirtioIsr.Isr.Offset);

    /// <summary>The address queue <paramref name="index"/> is notified at: notify offset + queue_notify_off * multiplier.</summary>
    public ulong GetNotifyAddress(ushort index)
    {
        SelectQueue(index);
        return NotifyAddress(index, Platform.Read16(_common + VirtioCommonCfg.QueueNotifyOff.Offset));
    }

    public override VirtioStatus ReadStatus() => (VirtioStatus)Platform.Read8(_common + VirtioCommonCfg.DeviceStatus.Offset);

    protected override void WriteStatus(VirtioStatus status) => Platform.Write8(_common + VirtioCommonCfg.DeviceStatus.Offset, (byte)status);

    protected override uint ReadDeviceFeatureWord(uint select)
    {
        Platform.Write32(_common + VirtioCommonCfg.DeviceFeatureSelect.Offset, select);
        return Platform.Read32(_common + VirtioCommonCfg.DeviceFeature.Offset);
    }

    protected override void WriteDriverFeatureWord(uint select, uint value)
    {
        Platform.Write32(_common + VirtioCommonCfg.DriverFeatureSelect.Offset, select);
        Platform.Write32(_common + VirtioCommonCfg.DriverFeature.Offset, value);
    }

    protected override uint ReadDeviceConfigCore(int offset, int width) =>
        (uint)Platform.ReadMemory(DeviceConfigAddress + (ulong)offset, width);

    protected override void WriteDeviceConfigCore(int offset, int width, uint value) =>
        Platform.WriteMemory(DeviceConfigAddress + (ulong)offset, width, value);

    protected override int ReadQueueMaxSize(ushort index)
    {
        SelectQueue(index);
        return Platform.Read16(_common + VirtioCommonCfg.QueueSize.Offset);
    }

    protected override VirtioQueue CreateQueue(ushort index, int deviceMaxSize, SplitVirtqueueOptions options)
    {
        SelectQueue(index);
        ushort notifyOff = Platform.Read16(_common + VirtioCommonCfg.QueueNotifyOff.Offset);
        ulong notifyAddress = NotifyAddress(index, notifyOff);
        ushort notifyValue = VirtioFeatures.Has(NegotiatedFeatures, VirtioFeatures.NotifConfigData)
            ? Platform.Read16(_common + VirtioCommonCfg.QueueNotifyData.Offset)
            : index;

        var ring = new SplitVirtqueue(Platform, options, new Notifier(Platform, notifyAddress, notifyValue));
        VirtioQueue? queue = null;
        try
        {
            (ushort entry, MsiVector? vector) = ReserveEntry(index);
            queue = new VirtioQueue(this, index, deviceMaxSize, ring, notifyAddress, entry, vector);
            lock (_bindingSync)
            {
                if (entry != NoVector)
                {
                    _bindings[entry].Queues.Add(queue);
                }
            }

            Program(queue);
            return queue;
        }
        catch
        {
            if (queue is not null)
            {
                OnQueueReleased(queue);
            }

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
        if (!HasQueueReset)
        {
            throw new VirtioException($"{Location}: the common configuration ({_commonLength} bytes) has no queue_reset field");
        }

        SelectQueue(index);
        Platform.Write16(_common + VirtioCommonCfg.QueueReset.Offset, 1);
    }

    protected override bool IsQueueResetComplete(ushort index)
    {
        SelectQueue(index);
        return Platform.Read16(_common + VirtioCommonCfg.QueueReset.Offset) == 0
            && Platform.Read16(_common + VirtioCommonCfg.QueueEnable.Offset) == 0;
    }

    protected override void OnFeaturesAccepted()
    {
        if (Msix is null)
        {
            return;
        }

        // Entry 0 carries configuration changes; the device must take it.
        MsiVector vector = Bind(ConfigEntry, config: true);
        Platform.Write16(_common + VirtioCommonCfg.ConfigMsixVector.Offset, ConfigEntry);
        ushort readBack = Platform.Read16(_common + VirtioCommonCfg.ConfigMsixVector.Offset);
        if (readBack != ConfigEntry)
        {
            throw new VirtioException(
                $"{Location} refused MSI-X entry {ConfigEntry} for configuration changes (config_msix_vector reads 0x{readBack:x4})");
        }

        Debug.Assert(vector is not null);
    }

    protected override void OnQueueReleased(VirtioQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        if (queue.MsixEntry == NoVector)
        {
            return;
        }

        lock (_bindingSync)
        {
            if (!_bindings.TryGetValue(queue.MsixEntry, out VectorBinding? binding))
            {
                return;
            }

            binding.Queues.Remove(queue);
            if (binding.Queues.Count == 0 && !binding.Config)
            {
                Msix!.Mask(queue.MsixEntry);
                binding.Vector.Dispose();
                _bindings.Remove(queue.MsixEntry);
            }
        }
    }

    public override Task RunInterruptsAsync(CancellationToken cancellationToken)
    {
        if (Msix is null)
        {
            return PollIsrAsync(cancellationToken);
        }

        VectorBinding[] bindings;
        lock (_bindingSync)
        {
            bindings = [.. _bindings.Values];
        }

        return Task.WhenAll(bindings.Select(b => ServeAsync(b, cancellationToken)));
    }

    protected override ValueTask DisposeAsyncCore()
    {
        lock (_bindingSync)
        {
            foreach ((ushort entry, VectorBinding binding) in _bindings)
            {
                Msix!.Mask(entry);
                binding.Vector.Dispose();
            }

            _bindings.Clear();
        }

        return default;
    }

    private ulong DeviceConfigAddress
    {
        get
        {
            if (DeviceCapability is null)
            {
                throw new VirtioException($"{Location} has no device configuration structure");
            }

            return _device;
        }
    }

    private void SelectQueue(ushort index) => Platform.Write16(_common + VirtioCommonCfg.QueueSelect.Offset, index);

    private ulong NotifyAddress(ushort index, ushort notifyOff)
    {
        // The device must place every queue's notify address inside its notification structure.
        ulong offset = (ulong)notifyOff * NotifyOffMultiplier;
        if (offset > NotifyCapability.Length || NotifyCapability.Length - offset < sizeof(ushort))
        {
            throw new VirtioException(
                $"{Location}: queue {index} notifies at offset 0x{offset:x} (queue_notify_off {notifyOff} x {NotifyOffMultiplier}), outside the {NotifyCapability.Length}-byte notification structure");
        }

        return _notifyBase + offset;
    }

    // Writes the ring addresses and the MSI-X entry of an existing queue object and enables it.
    private void Program(VirtioQueue queue)
    {
        SelectQueue(queue.Index);
        if (queue.MsixEntry != NoVector)
        {
            Platform.Write16(_common + VirtioCommonCfg.QueueMsixVector.Offset, queue.MsixEntry);
            ushort readBack = Platform.Read16(_common + VirtioCommonCfg.QueueMsixVector.Offset);
            if (readBack != queue.MsixEntry)
            {
                throw new VirtioException(
                    $"{Location} refused MSI-X entry {queue.MsixEntry} for queue {queue.Index} (queue_msix_vector reads 0x{readBack:x4})");
            }
        }

        SplitVirtqueue ring = queue.Virtqueue;
        Platform.Write16(_common + VirtioCommonCfg.QueueSize.Offset, (ushort)ring.Size);
        Write64(VirtioCommonCfg.QueueDesc.Offset, ring.DescriptorTableAddress);
        Write64(VirtioCommonCfg.QueueDriver.Offset, ring.DriverAreaAddress);
        Write64(VirtioCommonCfg.QueueDevice.Offset, ring.DeviceAreaAddress);
        Platform.Write16(_common + VirtioCommonCfg.QueueEnable.Offset, 1);
    }

    // 64-bit fields are written as two 32-bit halves, low first, which every device accepts.
    private void Write64(uint offset, ulong value)
    {
        Platform.Write32(_common + offset, (uint)value);
        Platform.Write32(_common + offset + sizeof(uint), (uint)(value >> 32));
    }

    private (ushort Entry, MsiVector? Vector) ReserveEntry(ushort queueIndex)
    {
        if (Msix is null)
        {
            return (NoVector, null);
        }

        // Entry 0 is the configuration's; queues take 1.. and share them once the table runs out.
        int queueEntries = Msix.TableSize - 1;
        ushort entry = queueEntries > 0 ? (ushort)(1 + (queueIndex % queueEntries)) : ConfigEntry;
        return (entry, Bind(entry, config: false));
    }

    private MsiVector Bind(ushort entry, bool config)
    {
        lock (_bindingSync)
        {
            if (_bindings.TryGetValue(entry, out VectorBinding? binding))
            {
                binding.Config |= config;
                return binding.Vector;
            }

            MsiVector vector = Platform.AllocateMsiVector();
            Msix!.Connect(entry, vector);
            _bindings.Add(entry, new VectorBinding(vector) { Config = config });
            return vector;
        }
    }

    private async Task ServeAsync(VectorBinding binding, CancellationToken cancellationToken)
    {
        await foreach (long _ in binding.Vector.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            VirtioQueue[] queues;
            lock (_bindingSync)
            {
                queues = [.. binding.Queues];
            }

            ProcessUsed(queues);
            if (binding.Config)
            {
                OnConfigurationChanged();
            }
        }
    }

    private async Task PollIsrAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            byte isr = ReadIsr();
            if ((isr & VirtioIsr.Isr.QueueInterrupt.Mask) != 0)
            {
                ProcessUsed(Queues);
            }

            if ((isr & VirtioIsr.Isr.ConfigInterrupt.Mask) != 0)
            {
                OnConfigurationChanged();
            }

            await Task.Delay(Options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class VectorBinding(MsiVector vector)
    {
        public MsiVector Vector { get; } = vector;

        public List<VirtioQueue> Queues { get; } = [];

        public bool Config { get; set; }
    }

    /// <summary>Notifies one queue with a 16-bit write of its index (or queue_notify_data) at its address.</summary>
    private sealed class Notifier(Platform platform, ulong address, ushort value) : IQueueNotifier
    {
        public void Notify(SplitVirtqueue queue) => platform.Write16(address, value);
    }

    /// <summary>The structures a driver uses, chosen and checked from the function's capabilities.</summary>
    private sealed record Structures(
        VirtioPciCapabilityInfo Common, ulong CommonAddress,
        VirtioPciCapabilityInfo Notify, ulong NotifyAddress,
        VirtioPciCapabilityInfo Isr, ulong IsrAddress,
        VirtioPciCapabilityInfo? Device, ulong DeviceAddress,
        List<VirtioSharedMemoryRegion> Regions, List<string> Diagnostics)
    {
        public static Structures Find(PciFunction function)
        {
            var diagnostics = new List<string>();
            (VirtioPciCapabilityInfo Cap, ulong Address)? common = First(function, VirtioPciCfgType.CommonCfg, MinimumCommonLength, diagnostics);
            (VirtioPciCapabilityInfo Cap, ulong Address)? notify = First(function, VirtioPciCfgType.NotifyCfg, sizeof(ushort), diagnostics);
            (VirtioPciCapabilityInfo Cap, ulong Address)? isr = First(function, VirtioPciCfgType.IsrCfg, VirtioIsr.Isr.Width / 8, diagnostics);
            (VirtioPciCapabilityInfo Cap, ulong Address)? device = First(function, VirtioPciCfgType.DeviceCfg, 0, diagnostics);

            string? missing = common is null ? "common configuration" : notify is null ? "notification" : isr is null ? "ISR" : null;
            if (missing is not null)
            {
                string why = diagnostics.Count > 0 ? $" ({diagnostics[^1]})" : string.Empty;
                throw new VirtioException($"{function.Address} has no usable virtio {missing} structure{why}");
            }

            return new Structures(
                common!.Value.Cap, common.Value.Address,
                notify!.Value.Cap, notify.Value.Address,
                isr!.Value.Cap, isr.Value.Address,
                device?.Cap, device?.Address ?? 0,
                FindRegions(function, diagnostics), diagnostics);
        }

        // The first capability of a type whose structure lies inside a usable memory BAR; the
        // specification tells the driver to ignore reserved BAR values and to prefer the first.
        private static (VirtioPciCapabilityInfo Cap, ulong Address)? First(
            PciFunction function, VirtioPciCfgType type, uint minimumLength, List<string> diagnostics)
        {
            foreach (VirtioPciCapabilityInfo cap in function.VirtioCapabilities)
            {
                if (cap.CfgType != type)
                {
                    continue;
                }

                if (cap.Length < minimumLength)
                {
                    diagnostics.Add($"the virtio {VirtioPciCapabilityInfo.TypeName(type)} capability at 0x{cap.Position:x2} is {cap.Length} bytes long, less than the {minimumLength} the driver needs");
                    continue;
                }

                if (Locate(function, cap, diagnostics) is { } address)
                {
                    return (cap, address);
                }
            }

            return null;
        }

        private static ulong? Locate(PciFunction function, VirtioPciCapabilityInfo cap, List<string> diagnostics)
        {
            string what = $"the virtio {VirtioPciCapabilityInfo.TypeName(cap.CfgType)} capability at 0x{cap.Position:x2}";
            if (!cap.HasValidBar)
            {
                diagnostics.Add($"{what} names BAR {cap.Bar}, a reserved value");
                return null;
            }

            PciBar? bar = function.GetBar(cap.Bar);
            if (bar is null || !bar.IsMemory || !bar.IsAssigned)
            {
                diagnostics.Add($"{what} is in BAR {cap.Bar}, which is {(bar is null ? "not implemented" : bar.IsMemory ? "not assigned" : "an I/O BAR")}");
                return null;
            }

            if (cap.Offset > ulong.MaxValue - cap.Length)
            {
                diagnostics.Add($"{what}: offset 0x{cap.Offset:x} plus length 0x{cap.Length:x} overflows");
                return null;
            }

            if (!bar.Contains(cap.Offset, cap.Length))
            {
                diagnostics.Add($"{what}: offset 0x{cap.Offset:x} plus length 0x{cap.Length:x} runs past the end of BAR {cap.Bar} ({PciFormat.Size(bar.Size)})");
                return null;
            }

            return bar.Address + cap.Offset;
        }

        // The checks Linux's vp_get_shm_region makes: a valid BAR, no overflow, inside the BAR.
        private static List<VirtioSharedMemoryRegion> FindRegions(PciFunction function, List<string> diagnostics)
        {
            var regions = new List<VirtioSharedMemoryRegion>();
            foreach (VirtioPciCapabilityInfo cap in function.VirtioCapabilities)
            {
                if (cap.CfgType != VirtioPciCfgType.SharedMemoryCfg || Locate(function, cap, diagnostics) is not { } address)
                {
                    continue;
                }

                if (regions.Exists(r => r.Id == cap.Id))
                {
                    diagnostics.Add($"the shared memory capability at 0x{cap.Position:x2} repeats shmid {cap.Id}; the first one is used");
                    continue;
                }

                regions.Add(new VirtioSharedMemoryRegion(function.Platform, cap.Id, address, cap.Length, cap.Bar, cap.Offset));
            }

            regions.Sort((a, b) => a.Id.CompareTo(b.Id));
            return regions;
        }
    }
}
