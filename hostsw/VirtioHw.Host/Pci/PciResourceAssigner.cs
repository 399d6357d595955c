using System.Diagnostics;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Host.Pci;

/// <summary>
/// Places BARs in a platform's <see cref="Platform.MemoryWindows"/> and then turns decoding on.
/// Largest BAR first, each aligned to its size; a 64-bit prefetchable BAR goes to a window above
/// 4 GiB when there is one, a 32-bit BAR always below 4 GiB. A BAR that fits nowhere stays
/// unassigned with a diagnostic on its function, whose memory decoding then stays off.
/// </summary>
public static class PciResourceAssigner
{
    private const ulong FourGiB = 1UL << 32;

    /// <summary>
    /// Assigns every BAR of <paramref name="functions"/> and enables memory decoding (and bus
    /// mastering, unless <paramref name="enableBusMaster"/> is false) on each function whose memory
    /// BARs all got an address. With no windows given and none from the platform, BARs are kept
    /// where platform firmware put them.
    /// </summary>
    public static void Assign(Platform platform, IReadOnlyList<PciFunction> functions,
        IReadOnlyList<PciMemoryWindow>? windows = null, bool enableBusMaster = true)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(functions);
        windows ??= platform.MemoryWindows;

        if (windows.Count > 0)
        {
            Place(functions, windows);
        }

        foreach (PciFunction function in functions)
        {
            EnableDecoding(function, enableBusMaster);
        }
    }

    private static void Place(IReadOnlyList<PciFunction> functions, IReadOnlyList<PciMemoryWindow> windows)
    {
        // Next free address per window; UInt128 so a window at the top of the address space cannot wrap.
        var next = new UInt128[windows.Count];
        for (int w = 0; w < windows.Count; w++)
        {
            next[w] = windows[w].BaseAddress;
        }

        // Largest first: with power-of-two sizes, each BAR then starts where the previous one
        // ended, already aligned, and nothing is lost to padding.
        var pending = new List<(PciFunction Function, PciBar Bar)>();
        foreach (PciFunction function in functions)
        {
            foreach (PciBar bar in function.Bars)
            {
                pending.Add((function, bar));
            }
        }

        pending.Sort(static (a, b) =>
        {
            int bySize = b.Bar.Size.CompareTo(a.Bar.Size);
            int byFunction = Order(a.Function.Address).CompareTo(Order(b.Function.Address));
            return bySize != 0 ? bySize : byFunction != 0 ? byFunction : a.Bar.Index.CompareTo(b.Bar.Index);
        });

        foreach ((PciFunction function, PciBar bar) in pending)
        {
            ulong? address = Allocate(bar, windows, next);
            if (address is null)
            {
                function.AddDiagnostic($"{function.Address}: BAR {bar.Index} ({bar.Kind}, {PciFormat.Size(bar.Size)}) fits in none of the platform's windows; it stays unassigned");
                function.SetBar(bar with { Address = 0 });
                continue;
            }

            Program(function, bar, address.Value);
        }
    }

    private static ulong? Allocate(PciBar bar, IReadOnlyList<PciMemoryWindow> windows, UInt128[] next)
    {
        foreach (int w in Preference(bar, windows))
        {
            PciMemoryWindow window = windows[w];
            UInt128 limit = bar.Is64Bit || bar.Kind == PciBarKind.Io ? window.LastAddress : Math.Min(window.LastAddress, FourGiB - 1);
            UInt128 mask = (UInt128)bar.Size - 1;
            UInt128 start = (next[w] + mask) & ~mask;
            if (start + bar.Size - 1 > limit)
            {
                continue;
            }

            next[w] = start + bar.Size;
            Debug.Assert((start & mask) == 0, "a BAR is aligned to its size");
            return (ulong)start;
        }

        return null;
    }

    // Window indices in the order a BAR tries them.
    private static IEnumerable<int> Preference(PciBar bar, IReadOnlyList<PciMemoryWindow> windows)
    {
        IEnumerable<int> Where(Func<PciMemoryWindow, bool> predicate) =>
            Enumerable.Range(0, windows.Count).Where(i => predicate(windows[i]));

        if (bar.Kind == PciBarKind.Io)
        {
            return Where(w => w.Kind == PciWindowKind.Io);
        }

        IEnumerable<int> low(PciWindowKind kind) => Where(w => w.Kind == kind && w.BaseAddress < FourGiB);
        IEnumerable<int> high(PciWindowKind kind) => Where(w => w.Kind == kind && w.Is64Bit);

        if (bar.Is64Bit && bar.Prefetchable)
        {
            return high(PciWindowKind.PrefetchableMemory).Concat(high(PciWindowKind.Memory))
                .Concat(low(PciWindowKind.PrefetchableMemory)).Concat(low(PciWindowKind.Memory)).Distinct();
        }

        if (bar.Is64Bit)
        {
            // Non-prefetchable: below 4 GiB, where a bridge could forward it too.
            return low(PciWindowKind.Memory).Concat(high(PciWindowKind.Memory)).Distinct();
        }

        return bar.Prefetchable
            ? low(PciWindowKind.PrefetchableMemory).Concat(low(PciWindowKind.Memory)).Distinct()
            : low(PciWindowKind.Memory);
    }

    private static void Program(PciFunction function, PciBar bar, ulong address)
    {
        Platform platform = function.Platform;
        int offset = (int)PciHeader.Bar.OffsetOf(bar.Index);
        platform.WriteConfig32(function.Address, offset, (uint)address);
        ulong readBack;
        if (bar.Is64Bit)
        {
            int high = (int)PciHeader.Bar.OffsetOf(bar.Index + 1);
            platform.WriteConfig32(function.Address, high, (uint)(address >> 32));
            readBack = (platform.ReadConfig32(function.Address, offset) & PciHeader.Bar.Address.Mask)
                | ((ulong)platform.ReadConfig32(function.Address, high) << 32);
        }
        else
        {
            uint low = platform.ReadConfig32(function.Address, offset);
            readBack = bar.Kind == PciBarKind.Io ? low & ~PciBarEncoding.IoFlagBits : low & PciHeader.Bar.Address.Mask;
        }

        if (readBack != address)
        {
            function.AddDiagnostic($"{function.Address}: BAR {bar.Index} was written 0x{address:x} but reads 0x{readBack:x}; it stays unassigned");
            function.SetBar(bar with { Address = 0 });
            return;
        }

        function.SetBar(bar with { Address = address });
    }

    private static void EnableDecoding(PciFunction function, bool enableBusMaster)
    {
        bool memoryReady = true, ioReady = true, hasIo = false;
        foreach (PciBar bar in function.Bars)
        {
            if (bar.Kind == PciBarKind.Io)
            {
                hasIo = true;
                ioReady &= bar.IsAssigned;
            }
            else
            {
                memoryReady &= bar.IsAssigned;
            }
        }

        ushort command = function.Command;
        if (memoryReady)
        {
            command |= (ushort)PciHeader.Command.MemorySpace.Mask;
            if (enableBusMaster)
            {
                command |= (ushort)PciHeader.Command.BusMaster.Mask;
            }
        }
        else
        {
            function.AddDiagnostic($"{function.Address}: memory decoding stays off because a memory BAR has no address");
        }

        if (hasIo && ioReady)
        {
            command |= (ushort)PciHeader.Command.IoSpace.Mask;
        }

        function.Command = command;
    }

    private static int Order(PciAddress address) => (address.Bus << 8) | (address.Device << 3) | address.Function;
}
