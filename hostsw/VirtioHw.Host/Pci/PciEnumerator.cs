using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Host.Pci;

/// <summary>How <see cref="PciEnumerator"/> and <see cref="PciBus.Scan"/> work. Immutable.</summary>
public sealed class PciScanOptions
{
    private readonly int _lastBus;

    /// <summary>Defaults: bus 0 only, resources assigned, bus mastering enabled.</summary>
    public static PciScanOptions Default { get; } = new();

    /// <summary>The last bus number probed, 0-255; default 0.</summary>
    public int LastBus
    {
        get => _lastBus;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 255);
            _lastBus = value;
        }
    }

    /// <summary>Place the BARs in the platform's memory windows and turn decoding on; default true.</summary>
    public bool AssignResources { get; init; } = true;

    /// <summary>Turn bus mastering (DMA, MSI-X) on with memory decoding; default true.</summary>
    public bool EnableBusMaster { get; init; } = true;
}

/// <summary>
/// Finds the functions on buses 0 to <see cref="PciScanOptions.LastBus"/>: reads their identity,
/// sizes their BARs and walks their capability lists. It changes nothing it does not restore;
/// placing the BARs is <see cref="PciResourceAssigner"/>'s job.
/// </summary>
public static class PciEnumerator
{
    // Bit 7 of the header type says a device has more functions than function 0; bits 6:0 are the layout.
    private const byte MultiFunctionBit = (byte)PciHeader.PciHeaderType.Type0Multifunction;
    private const byte LayoutMask = unchecked((byte)~MultiFunctionBit);

    private const uint IoBarFlagBits = PciBarEncoding.IoFlagBits;
    private const uint MemType64 = PciBarEncoding.MemType64;
    private const int DevicesPerBus = 32;
    private const int FunctionsPerDevice = 8;

    /// <summary>Every function present, in bus, device, function order.</summary>
    public static IReadOnlyList<PciFunction> Enumerate(Platform platform, PciScanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(platform);
        options ??= PciScanOptions.Default;
        var functions = new List<PciFunction>();
        for (int bus = 0; bus <= options.LastBus; bus++)
        {
            for (int device = 0; device < DevicesPerBus; device++)
            {
                PciFunction? first = Probe(platform, new PciAddress(bus, device, 0));
                if (first is null)
                {
                    continue;
                }

                functions.Add(first);

                // Functions 1-7 exist only when function 0 says so; probing them otherwise can
                // find aliases of function 0 on devices that decode only the device number.
                if (!first.Identity.IsMultiFunction)
                {
                    continue;
                }

                for (int function = 1; function < FunctionsPerDevice; function++)
                {
                    if (Probe(platform, new PciAddress(bus, device, function)) is { } found)
                    {
                        functions.Add(found);
                    }
                }
            }
        }

        return functions;
    }

    /// <summary>Reads one function: identity, BAR sizes and capabilities; null when it is absent.</summary>
    public static PciFunction? Probe(Platform platform, PciAddress address)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ushort vendor = platform.ReadConfig16(address, (int)PciHeader.VendorId.Offset);
        if (vendor == (ushort)PciHeader.VendorId.ResetValue || vendor == 0)
        {
            return null;
        }

        byte headerType = platform.ReadConfig8(address, (int)PciHeader.HeaderType.Offset);
        byte layout = (byte)(headerType & LayoutMask);
        bool type0 = layout == (byte)PciHeader.PciHeaderType.Type0;
        var identity = new PciIdentity(
            vendor,
            platform.ReadConfig16(address, (int)PciHeader.DeviceId.Offset),
            platform.ReadConfig8(address, (int)PciHeader.RevisionId.Offset),
            platform.ReadConfig8(address, (int)PciHeader.BaseClass.Offset),
            platform.ReadConfig8(address, (int)PciHeader.Subclass.Offset),
            platform.ReadConfig8(address, (int)PciHeader.ProgIf.Offset),
            layout,
            (headerType & MultiFunctionBit) != 0,
            type0 ? platform.ReadConfig16(address, (int)PciHeader.SubsystemVendorId.Offset) : (ushort)0,
            type0 ? platform.ReadConfig16(address, (int)PciHeader.SubsystemId.Offset) : (ushort)0);

        var diagnostics = new List<string>();

        // A type-1 header (bridge) has two BARs; other layouts are not understood here.
        int barCount = type0 ? PciHeader.Bar.Count : layout == (byte)PciHeader.PciHeaderType.Type1 ? 2 : 0;
        if (!type0 && layout != (byte)PciHeader.PciHeaderType.Type1)
        {
            diagnostics.Add($"{address}: header layout 0x{layout:x2} is not a type-0 or type-1 header; its BARs are not sized");
        }

        PciBar?[] bars = SizeBars(platform, address, barCount, diagnostics);
        PciCapabilityWalk capabilities = PciCapabilityWalker.Walk(platform, address, identity.IsVirtio);
        return new PciFunction(platform, address, identity, bars, capabilities, diagnostics);
    }

    /// <summary>
    /// Sizes the BARs the classic way: with memory and I/O decoding off, write all-ones, read back
    /// the bits that stuck, restore the original value, then restore the command register.
    /// </summary>
    private static PciBar?[] SizeBars(Platform platform, PciAddress address, int count, List<string> diagnostics)
    {
        var bars = new PciBar?[PciHeader.Bar.Count];
        if (count == 0)
        {
            return bars;
        }

        int commandOffset = (int)PciHeader.Command.Offset;
        ushort command = platform.ReadConfig16(address, commandOffset);
        ushort decodeBits = (ushort)(PciHeader.Command.MemorySpace.Mask | PciHeader.Command.IoSpace.Mask);
        platform.WriteConfig16(address, commandOffset, (ushort)(command & ~decodeBits));
        try
        {
            for (int index = 0; index < count; index++)
            {
                PciBar? bar = SizeBar(platform, address, index, count, diagnostics);
                if (bar is null)
                {
                    continue;
                }

                bars[index] = bar;
                if (bar.Is64Bit)
                {
                    index++;  // the upper half lives in the next slot
                }
            }
        }
        finally
        {
            platform.WriteConfig16(address, commandOffset, command);
        }

        return bars;
    }

    private static PciBar? SizeBar(Platform platform, PciAddress address, int index, int count, List<string> diagnostics)
    {
        int offset = (int)PciHeader.Bar.OffsetOf(index);
        uint original = platform.ReadConfig32(address, offset);
        platform.WriteConfig32(address, offset, uint.MaxValue);
        uint sized = platform.ReadConfig32(address, offset);
        platform.WriteConfig32(address, offset, original);

        if ((original & PciHeader.Bar.Io.Mask) != 0)
        {
            uint ioMask = sized & ~IoBarFlagBits;
            if (ioMask == 0)
            {
                return null;
            }

            // A device that decodes only 16 port bits reads 0 above them.
            if ((ioMask & 0xffff_0000) == 0)
            {
                ioMask |= 0xffff_0000;
            }

            return new PciBar(index, PciBarKind.Io, false, LowestSetBit(ioMask), original & ~IoBarFlagBits);
        }

        uint type = (uint)((original & PciHeader.Bar.MemType.Mask) >> PciHeader.Bar.MemType.Shift);
        bool prefetchable = (original & PciHeader.Bar.Prefetchable.Mask) != 0;
        ulong mask = sized & PciHeader.Bar.Address.Mask;
        ulong current = original & PciHeader.Bar.Address.Mask;
        if (type != MemType64)
        {
            if (mask == 0)
            {
                return null;
            }

            if (type != PciBarEncoding.MemType32)
            {
                diagnostics.Add($"{address}: BAR {index} has memory type {type}, which is reserved; it is treated as a 32-bit BAR");
            }

            return new PciBar(index, PciBarKind.Memory32, prefetchable, LowestSetBit(mask), current);
        }

        if (index + 1 >= count)
        {
            diagnostics.Add($"{address}: BAR {index} is 64-bit but is the last BAR, so it has no upper half; it is ignored");
            return null;
        }

        int highOffset = (int)PciHeader.Bar.OffsetOf(index + 1);
        uint originalHigh = platform.ReadConfig32(address, highOffset);
        platform.WriteConfig32(address, highOffset, uint.MaxValue);
        uint sizedHigh = platform.ReadConfig32(address, highOffset);
        platform.WriteConfig32(address, highOffset, originalHigh);

        mask |= (ulong)sizedHigh << 32;
        if (mask == 0)
        {
            return null;
        }

        return new PciBar(index, PciBarKind.Memory64, prefetchable, LowestSetBit(mask), current | ((ulong)originalHigh << 32));
    }

    // The size is the lowest address bit that stuck: bits below it are hardwired to 0.
    private static ulong LowestSetBit(ulong mask) => mask & (0 - mask);
}
