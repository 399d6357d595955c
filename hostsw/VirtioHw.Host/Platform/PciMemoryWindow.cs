namespace VirtioHw.Host.Platforms;

/// <summary>What a <see cref="PciMemoryWindow"/> may hold.</summary>
public enum PciWindowKind
{
    /// <summary>Memory BARs of any kind (non-prefetchable memory, as a host bridge forwards it).</summary>
    Memory,

    /// <summary>Prefetchable memory BARs only.</summary>
    PrefetchableMemory,

    /// <summary>I/O BARs.</summary>
    Io,
}

/// <summary>
/// A range of bus addresses the root complex forwards to its endpoints, where host software may
/// place BARs. A platform lists its windows in <see cref="Platform.MemoryWindows"/>; a window that
/// reaches above 4 GiB is a 64-bit window and takes 64-bit BARs first.
/// </summary>
public sealed record PciMemoryWindow
{
    /// <param name="baseAddress">First bus address of the window.</param>
    /// <param name="length">Size in bytes, at least 1.</param>
    /// <param name="kind">What the window may hold.</param>
    /// <exception cref="ArgumentOutOfRangeException">The window is empty or runs past the address space.</exception>
    public PciMemoryWindow(ulong baseAddress, ulong length, PciWindowKind kind = PciWindowKind.Memory)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length - 1, ulong.MaxValue - baseAddress, nameof(length));
        BaseAddress = baseAddress;
        Length = length;
        Kind = kind;
    }

    public ulong BaseAddress { get; }

    public ulong Length { get; }

    public PciWindowKind Kind { get; }

    /// <summary>The last bus address inside the window.</summary>
    public ulong LastAddress => BaseAddress + (Length - 1);

    /// <summary>The window reaches above 4 GiB, so only 64-bit BARs can use all of it.</summary>
    public bool Is64Bit => LastAddress > uint.MaxValue;

    public override string ToString() =>
        $"{Kind} 0x{BaseAddress:x}-0x{LastAddress:x}";
}
