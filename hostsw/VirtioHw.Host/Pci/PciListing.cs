using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Host.Pci;

/// <summary>How <see cref="PciListing"/> writes a listing, in lspci's terms. Immutable.</summary>
public sealed record PciListingOptions
{
    /// <summary>Builtin names, names only, no hex dump, virtio-mmio devices included.</summary>
    public static PciListingOptions Default { get; } = new();

    /// <summary><c>-v</c>: BARs, capabilities, virtio registers (read through the BARs) and diagnostics.</summary>
    public bool Verbose { get; init; }

    /// <summary><c>-n</c>/<c>-nn</c>: ids as names, numbers or both.</summary>
    public PciNumbers Numbers { get; init; }

    /// <summary>Where names come from.</summary>
    public PciNames Names { get; init; } = PciNames.Builtin;

    /// <summary><c>-x</c> (64), <c>-xxx</c> (256), <c>-xxxx</c> (4096): bytes of config space dumped, 0 for none.</summary>
    public int HexDumpBytes { get; init; }

    /// <summary>The PCI domain of the functions listed (a platform is one domain).</summary>
    public int Domain { get; init; }

    /// <summary>Write the domain in front of each address (<c>lspci -D</c>, or several domains listed).</summary>
    public bool ShowDomain { get; init; }

    /// <summary>List the platform's virtio-mmio devices after the PCI functions.</summary>
    public bool IncludeMmio { get; init; } = true;

    /// <summary>Read the shared memory registers of every virtio-mmio device, not only of types that have shared memory.</summary>
    public bool AllSharedMemory { get; init; }
}

/// <summary>
/// The text of <c>virtiohw lspci</c>: one line per PCI function and virtio-mmio device, in the
/// forms of pciutils' lspci, and with <c>verbose</c> what <c>lspci -vv</c> shows for a virtio
/// device and more: BARs, decoded capabilities, the virtio status, features and queues, the
/// shared memory regions by shmid, and every diagnostic of the enumeration. What config space
/// says is always listed; what can be read only through a BAR (the virtio registers) is marked
/// as not read when the platform cannot reach it.
/// </summary>
public static class PciListing
{
    /// <summary>
    /// Writes the listing of <paramref name="functions"/> and, unless <paramref name="includeMmio"/>
    /// is false, of the platform's virtio-mmio devices. A verbose listing reads a virtio-mmio
    /// device's shared memory registers (writing SHMSel) only when its type is known to have shared
    /// memory (<see cref="VirtioDeviceTypes.UsesSharedMemory"/>), or for every device with
    /// <paramref name="allSharedMemory"/>: "drivers not expecting shared memory MUST NOT use" them.
    /// </summary>
    public static void Write(TextWriter output, Platform platform, IReadOnlyList<PciFunction> functions, bool verbose, bool includeMmio = true, bool allSharedMemory = false) =>
        Write(output, platform, functions, new PciListingOptions { Verbose = verbose, IncludeMmio = includeMmio, AllSharedMemory = allSharedMemory });

    /// <summary>Writes the listing of <paramref name="functions"/> as <paramref name="options"/> say.</summary>
    public static void Write(TextWriter output, Platform platform, IReadOnlyList<PciFunction> functions, PciListingOptions options)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(functions);
        ArgumentNullException.ThrowIfNull(options);
        foreach (PciFunction function in functions)
        {
            WriteFunction(output, function, options);
        }

        foreach (MmioDeviceWindow window in options.IncludeMmio ? platform.VirtioMmioDevices : [])
        {
            WriteMmio(output, platform, window, options.Verbose, options.AllSharedMemory);
        }
    }

    /// <summary>The one-line summary of a function as <c>lspci -nn</c> prints it, with builtin names.</summary>
    public static string Summary(PciFunction function) => Summary(function, new PciListingOptions { Numbers = PciNumbers.Both });

    /// <summary>The one-line summary of a function, as lspci prints it with the same options.</summary>
    public static string Summary(PciFunction function, PciListingOptions options)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(options);
        PciIdentity id = function.Identity;
        PciNames names = options.Names;
        string slot = Slot(function.Address, options);
        string line = $"{slot} {names.ClassText(id.BaseClass, id.SubClass, options.Numbers)}: {names.DeviceText(id, options.Numbers)}";
        if (id.RevisionId != 0)
        {
            line += Invariant($" (rev {id.RevisionId:x2})");
        }

        // As lspci: the programming interface only in a verbose listing.
        string? progIf = names.Ids?.ProgIf(id.BaseClass, id.SubClass, id.ProgIf);
        if (options.Verbose && (id.ProgIf != 0 || progIf is not null))
        {
            line += Invariant($" (prog-if {id.ProgIf:x2}{(progIf is null || options.Numbers == PciNumbers.Numbers ? string.Empty : $" [{progIf}]")})");
        }

        return line;
    }

    /// <summary>The address as lspci writes it: <c>bb:dd.f</c>, or <c>dddd:bb:dd.f</c> with <see cref="PciListingOptions.ShowDomain"/>.</summary>
    public static string Slot(PciAddress address, PciListingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ShowDomain ? Invariant($"{options.Domain:x4}:{address}") : address.ToString();
    }

    /// <summary>
    /// Up to <paramref name="length"/> bytes of the function's config space, as far as the platform
    /// can read it (<see cref="Platform.ReadableConfigBytes"/>), in 4-byte reads.
    /// </summary>
    public static byte[] ReadConfigSpace(PciFunction function, int length)
    {
        ArgumentNullException.ThrowIfNull(function);
        int readable = Math.Min(length, function.Platform.ReadableConfigBytes(function.Address)) & ~3;
        byte[] bytes = new byte[Math.Max(readable, 0)];
        for (int offset = 0; offset < bytes.Length; offset += 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), function.Platform.ReadConfig32(function.Address, offset));
        }

        return bytes;
    }

    /// <summary>
    /// The virtio registers of a virtio function, read through its BARs; null with the reason when
    /// the platform cannot reach them (no mapping, no permission, no assigned BAR).
    /// </summary>
    public static VirtioDeviceInfo? InspectVirtio(PciFunction function, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(function);
        problem = null;
        try
        {
            return VirtioPciTransport.Inspect(function);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException or NotSupportedException or VirtioException)
        {
            problem = e.Message;
            return null;
        }
    }

    private static void WriteFunction(TextWriter output, PciFunction function, PciListingOptions options)
    {
        output.WriteLine(Summary(function, options));
        int readable = function.Platform.ReadableConfigBytes(function.Address);
        if (options.Verbose)
        {
            WriteDetails(output, function, options);
        }

        if ((options.Verbose || options.HexDumpBytes > readable) && readable < 256)
        {
            output.WriteLine(Invariant($"\tWarning: config space past byte {readable} could not be read (the platform shows no more of it; sysfs shows it only to root)"));
        }

        if (options.HexDumpBytes > 0)
        {
            WriteHexDump(output, ReadConfigSpace(function, options.HexDumpBytes), options.HexDumpBytes > 256);
        }

        if (options.Verbose || options.HexDumpBytes > 0)
        {
            output.WriteLine();
        }
    }

    private static void WriteHexDump(TextWriter output, byte[] bytes, bool extended)
    {
        var line = new StringBuilder();
        for (int offset = 0; offset < bytes.Length; offset += 16)
        {
            line.Clear();
            line.Append(extended ? Invariant($"{offset:x3}:") : Invariant($"{offset:x2}:"));
            for (int i = offset; i < Math.Min(offset + 16, bytes.Length); i++)
            {
                line.Append(Invariant($" {bytes[i]:x2}"));
            }

            output.WriteLine(line);
        }
    }

    private static void WriteDetails(TextWriter output, PciFunction function, PciListingOptions options)
    {
        PciIdentity id = function.Identity;
        Platform platform = function.Platform;
        if (id.HeaderLayout == (byte)PciHeader.PciHeaderType.Type0)
        {
            output.WriteLine($"\tSubsystem: {options.Names.SubsystemText(id, options.Numbers)}");
        }

        ushort command = function.Command;
        ushort status = function.Status;
        output.WriteLine($"\tControl: I/O{Flag(command, PciHeader.Command.IoSpace.Mask)} Mem{Flag(command, PciHeader.Command.MemorySpace.Mask)} BusMaster{Flag(command, PciHeader.Command.BusMaster.Mask)} DisINTx{Flag(command, PciHeader.Command.IntxDisable.Mask)}");
        output.WriteLine($"\tStatus: Cap{Flag(status, PciHeader.Status.CapabilitiesList.Mask)} INTx{Flag(status, PciHeader.Status.InterruptStatus.Mask)}");
        var pin = (PciHeader.PciInterruptPin)platform.ReadConfig8(function.Address, (int)PciHeader.InterruptPin.Offset);
        if (pin is >= PciHeader.PciInterruptPin.Inta and <= PciHeader.PciInterruptPin.Intd)
        {
            output.WriteLine($"\tInterrupt: pin {(char)('A' + (pin - PciHeader.PciInterruptPin.Inta))}");
        }

        foreach (PciBar bar in function.Bars)
        {
            output.WriteLine($"\tRegion {bar.Index}: {bar}");
        }

        foreach (PciCapability capability in function.Capabilities)
        {
            WriteCapability(output, function, capability);
        }

        if (function.IsVirtio)
        {
            if (InspectVirtio(function, out string? problem) is { } info)
            {
                WriteVirtio(output, info);
            }
            else
            {
                output.WriteLine($"\tVirtio: registers not read: {problem}");
            }
        }

        WriteDiagnostics(output, function.Diagnostics);
    }

    private static void WriteCapability(TextWriter output, PciFunction function, PciCapability capability)
    {
        switch (capability)
        {
            case MsixCapabilityInfo msix:
                ushort control = function.Platform.ReadConfig16(function.Address, msix.Position + (int)MsixCap.MessageControl.Offset);
                output.WriteLine(Invariant($"\tCapabilities: [{msix.Position:x2}] MSI-X: Enable{Flag(control, MsixCap.MessageControl.Enable.Mask)} Count={msix.TableSize} Masked{Flag(control, MsixCap.MessageControl.FunctionMask.Mask)}"));
                output.WriteLine(Invariant($"\t\tVector table: BAR={msix.TableBar} offset={msix.TableOffset:x8}"));
                output.WriteLine(Invariant($"\t\tPBA: BAR={msix.PbaBar} offset={msix.PbaOffset:x8}"));
                break;
            case VirtioPciCapabilityInfo virtio:
                output.WriteLine(Invariant($"\tCapabilities: [{virtio.Position:x2}] {virtio.Name}"));
                string bar = virtio.HasValidBar ? Invariant($"BAR={virtio.Bar}") : Invariant($"BAR={virtio.Bar} (reserved)");
                string line = virtio.CfgType switch
                {
                    VirtioPciCfgType.SharedMemoryCfg => Invariant($"{bar} offset={virtio.Offset:x16} size={virtio.Length:x16} id={virtio.Id}"),
                    VirtioPciCfgType.NotifyCfg => Invariant($"{bar} offset={virtio.Offset:x8} size={virtio.Length:x8} multiplier={virtio.NotifyOffMultiplier:x8}"),
                    _ => Invariant($"{bar} offset={virtio.Offset:x8} size={virtio.Length:x8}") + (virtio.Id != 0 ? Invariant($" id={virtio.Id}") : string.Empty),
                };
                output.WriteLine($"\t\t{line}");
                break;
            default:
                output.WriteLine(Invariant($"\tCapabilities: [{capability.Position:x2}] {capability.Name}"));
                break;
        }
    }

    private static void WriteMmio(TextWriter output, Platform platform, MmioDeviceWindow window, bool verbose, bool allSharedMemory)
    {
        VirtioMmioProbe probe = VirtioMmioTransport.Identify(platform, window.BaseAddress);
        string where = Invariant($"virtio-mmio@0x{window.BaseAddress:x}");
        if (probe.Problem is { } problem)
        {
            output.WriteLine($"{where}: {problem}");
            return;
        }

        output.WriteLine(Invariant($"{where} [size={PciFormat.Size(window.Length)}]: Virtio {VirtioDeviceTypes.Name((int)probe.DeviceId)} device [type {probe.DeviceId}, vendor {probe.VendorId:x8}] (version {probe.Version})"));
        if (verbose)
        {
            bool sharedMemory = allSharedMemory || VirtioDeviceTypes.UsesSharedMemory((int)probe.DeviceId);
            VirtioDeviceInfo info = VirtioMmioTransport.Inspect(platform, window, sharedMemory);
            WriteVirtio(output, info);
            if (!sharedMemory)
            {
                output.WriteLine("\t\tShared memory: not read (this device type has none; --shm-registers reads SHMSel/SHMLen/SHMBase anyway)");
            }

            WriteDiagnostics(output, info.Diagnostics);
        }
    }

    private static void WriteVirtio(TextWriter output, VirtioDeviceInfo info)
    {
        output.WriteLine(Invariant($"\tVirtio: {VirtioDeviceTypes.Name(info.DeviceType)} (type {info.DeviceType}), status 0x{(byte)info.Status:x2} ({info.Status}), config generation {info.ConfigGeneration}"));
        output.WriteLine(Invariant($"\t\tDevice features: 0x{info.DeviceFeatures:x16} ({VirtioFeatures.Describe(info.DeviceFeatures)})"));
        string queues = string.Join(", ", info.QueueMaxSizes.Select((size, index) => Invariant($"{index}: max {size}")));
        output.WriteLine(Invariant($"\t\tQueues: {info.QueueMaxSizes.Count}{(info.QueueMaxSizes.Count > 0 ? $" ({queues})" : string.Empty)}"));
        foreach (VirtioSharedMemoryRegion region in info.SharedMemory)
        {
            string bar = region.Bar is { } b ? Invariant($" (BAR {b} + 0x{region.BarOffset:x})") : string.Empty;
            string name = VirtioDeviceTypes.SharedMemoryName(info.DeviceType, region.Id) is { } n ? $" ({n})" : string.Empty;
            output.WriteLine(Invariant($"\t\tShared memory shmid {region.Id}{name}: at {region.PhysicalAddress:x} [size={PciFormat.Size(region.Length)}]{bar}"));
        }
    }

    private static void WriteDiagnostics(TextWriter output, IReadOnlyList<string> diagnostics)
    {
        foreach (string diagnostic in diagnostics.Distinct())
        {
            output.WriteLine($"\tWarning: {diagnostic}");
        }
    }

    private static string Flag(ushort value, ulong mask) => (value & mask) != 0 ? "+" : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
