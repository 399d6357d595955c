using System.Globalization;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Host.Pci;

/// <summary>
/// The text of <c>virtiohw lspci</c>: one line per PCI function and virtio-mmio device, and with
/// <c>verbose</c> what <c>lspci -vv</c> shows for a virtio device and more: BARs, decoded
/// capabilities, the virtio status, features and queues, the shared memory regions by shmid, and
/// every diagnostic of the enumeration.
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
    public static void Write(TextWriter output, Platform platform, IReadOnlyList<PciFunction> functions, bool verbose, bool includeMmio = true, bool allSharedMemory = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(functions);
        foreach (PciFunction function in functions)
        {
            WriteFunction(output, function, verbose);
        }

        foreach (MmioDeviceWindow window in includeMmio ? platform.VirtioMmioDevices : [])
        {
            WriteMmio(output, platform, window, verbose, allSharedMemory);
        }
    }

    /// <summary>The one-line summary of a function, as lspci prints it.</summary>
    public static string Summary(PciFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        PciIdentity id = function.Identity;
        string progIf = id.ProgIf != 0 ? $" (prog-if {id.ProgIf:x2})" : string.Empty;
        return Invariant($"{function.Address} {PciNames.Class(id.BaseClass, id.SubClass)} [{id.BaseClass:x2}{id.SubClass:x2}]{progIf}: {PciNames.Vendor(id.VendorId)} {PciNames.Device(id)} [{id.VendorId:x4}:{id.DeviceId:x4}] (rev {id.RevisionId:x2})");
    }

    private static void WriteFunction(TextWriter output, PciFunction function, bool verbose)
    {
        output.WriteLine(Summary(function));
        if (!verbose)
        {
            return;
        }

        PciIdentity id = function.Identity;
        Platform platform = function.Platform;
        output.WriteLine(Invariant($"\tSubsystem: {PciNames.Vendor(id.SubsystemVendorId)} Device [{id.SubsystemVendorId:x4}:{id.SubsystemId:x4}]"));
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
            WriteVirtio(output, VirtioPciTransport.Inspect(function));
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
