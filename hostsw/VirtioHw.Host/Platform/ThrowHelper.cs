using System.Diagnostics.CodeAnalysis;

namespace VirtioHw.Host.Platforms;

/// <summary>
/// Throw sites kept out of line so the access paths that check their arguments stay small
/// enough to inline.
/// </summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowMemoryWidth(int width) =>
        throw new ArgumentOutOfRangeException(nameof(width), width, "a memory access is 1, 2, 4 or 8 bytes wide");

    [DoesNotReturn]
    public static void ThrowMisalignedAddress(ulong address, int width) =>
        throw new ArgumentOutOfRangeException(nameof(address), address,
            $"address 0x{address:x} is not aligned to the {width}-byte access width");

    [DoesNotReturn]
    public static void ThrowAddressRange(ulong address, int length) =>
        throw new ArgumentOutOfRangeException(nameof(address), address,
            $"{length} bytes from address 0x{address:x} run past the end of the address space");

    [DoesNotReturn]
    public static void ThrowConfigWidth(int width) =>
        throw new ArgumentOutOfRangeException(nameof(width), width, "a config access is 1, 2 or 4 bytes wide");

    [DoesNotReturn]
    public static void ThrowConfigOffset(int offset, int width) =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset,
            $"a {width}-byte config access at offset 0x{offset:x} is outside the 4 KiB config space or not aligned to its width");

    [DoesNotReturn]
    public static void ThrowRegionRange(int offset, int length, int regionLength) =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset,
            $"{length} bytes at offset {offset} do not fit in a {regionLength}-byte DMA region");

    [DoesNotReturn]
    public static void ThrowAlignment(int alignment) =>
        throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a power of two");

    [DoesNotReturn]
    public static void ThrowDisposed(object instance) =>
        throw new ObjectDisposedException(instance.GetType().Name);
}
