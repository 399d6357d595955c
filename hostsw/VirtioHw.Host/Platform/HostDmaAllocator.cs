using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VirtioHw.Host.Platforms;

/// <summary>
/// Hands out <see cref="HostDmaRegion"/>s at unique bus addresses inside a window, and resolves a
/// device's DMA at a bus address back to the region behind it. A platform whose devices live in
/// this process (the model, co-simulation) implements <see cref="Platform.AllocateDma"/> with
/// <see cref="Allocate"/> and serves device DMA with <see cref="TryRead"/> and <see cref="TryWrite"/>.
/// </summary>
public sealed unsafe partial class HostDmaAllocator : IDisposable
{
    private readonly Lock _sync = new();

    // One block behind the whole window (CreateContiguous), or null: each region owns its memory.
    private byte* _backing;

    // Live regions by bus address. Invariant: the ranges are disjoint and inside the window.
    private readonly SortedList<ulong, HostDmaRegion> _live = [];

    /// <summary>
    /// An allocator with nothing allocated. Callers own the regions it hands out; disposing the
    /// allocator disposes those still alive.
    /// </summary>
    /// <param name="windowBase">First bus address regions may use.</param>
    /// <param name="windowLength">Size of the window in bytes.</param>
    public HostDmaAllocator(ulong windowBase, ulong windowLength)
    {
        ArgumentOutOfRangeException.ThrowIfZero(windowLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(windowLength - 1, ulong.MaxValue - windowBase, nameof(windowLength));
        WindowBase = windowBase;
        WindowLast = windowBase + (windowLength - 1);
    }

    /// <summary>
    /// An allocator whose regions are carved out of one block of host memory behind the whole
    /// window, so that a device that reaches system memory on its own (a co-simulated DMA master)
    /// can be handed the window once (<see cref="BackingAddress"/>). The block is reserved, not
    /// committed: a page costs memory once something touches it. Linux only.
    /// </summary>
    /// <exception cref="InvalidOperationException">The address space could not be reserved.</exception>
    public static HostDmaAllocator CreateContiguous(ulong windowBase, ulong windowLength)
    {
        var allocator = new HostDmaAllocator(windowBase, windowLength);
        nint block = Mmap(0, (nuint)windowLength, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        if (block == -1)
        {
            throw new InvalidOperationException(
                $"could not reserve {windowLength} bytes of host memory for the DMA window (errno {Marshal.GetLastPInvokeError()})");
        }

        allocator._backing = (byte*)block;
        return allocator;
    }

    public ulong WindowBase { get; }

    /// <summary>Host address of the window's first byte for a <see cref="CreateContiguous"/> allocator, else 0.</summary>
    public nint BackingAddress => (nint)_backing;

    /// <summary>The last bus address inside the window.</summary>
    public ulong WindowLast { get; }

    /// <summary>
    /// Allocates zeroed host memory at the lowest free bus address aligned to
    /// <paramref name="alignment"/>. The caller owns the region and disposes it, which returns
    /// its bus range here.
    /// </summary>
    /// <exception cref="InvalidOperationException">The window has no free range that large.</exception>
    public HostDmaRegion Allocate(int length, int alignment = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (alignment <= 0 || !int.IsPow2(alignment))
        {
            ThrowHelper.ThrowAlignment(alignment);
        }

        lock (_sync)
        {
            // First fit: walk the live regions in address order and take the first gap that holds
            // it. 128-bit arithmetic keeps a window at the top of the address space from wrapping.
            UInt128 mask = (UInt128)(uint)alignment - 1;
            UInt128 candidate = (WindowBase + mask) & ~mask;
            foreach (KeyValuePair<ulong, HostDmaRegion> live in _live)
            {
                if (live.Key >= candidate && live.Key - candidate >= (ulong)length)
                {
                    break;
                }

                candidate = UInt128.Max(candidate, (live.Key + (UInt128)(uint)live.Value.Length + mask) & ~mask);
            }

            if (candidate + (uint)length - 1 > WindowLast)
            {
                throw new InvalidOperationException(
                    $"the DMA window 0x{WindowBase:x}-0x{WindowLast:x} has no free {length}-byte range aligned to {alignment}");
            }

            HostDmaRegion region = _backing == null
                ? new HostDmaRegion((ulong)candidate, length, alignment, Release)
                : new HostDmaRegion((ulong)candidate, length, _backing + (ulong)(candidate - WindowBase), Release);
            _live.Add(region.BusAddress, region);
            return region;
        }
    }

    /// <summary>
    /// Device-side read: copies <c>destination.Length</c> bytes at <paramref name="busAddress"/>;
    /// false, copying nothing, unless the whole range lies inside one live region.
    /// </summary>
    public bool TryRead(ulong busAddress, Span<byte> destination)
    {
        lock (_sync)
        {
            if (!TryFind(busAddress, destination.Length, out HostDmaRegion? region, out int offset))
            {
                return false;
            }

            region.CopyOut(offset, destination);
            return true;
        }
    }

    /// <summary>Device-side write: the counterpart of <see cref="TryRead"/>.</summary>
    public bool TryWrite(ulong busAddress, ReadOnlySpan<byte> source)
    {
        lock (_sync)
        {
            if (!TryFind(busAddress, source.Length, out HostDmaRegion? region, out int offset))
            {
                return false;
            }

            region.CopyIn(offset, source);
            return true;
        }
    }

    /// <summary>
    /// A host read of <paramref name="width"/> bytes (1 to 8) that no device claimed: the value in
    /// host memory, or all-ones (a master abort) where nothing is allocated.
    /// </summary>
    public ulong ReadValue(ulong busAddress, int width)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        bytes.Clear();
        return TryRead(busAddress, bytes[..width])
            ? BinaryPrimitives.ReadUInt64LittleEndian(bytes)
            : ulong.MaxValue >> (64 - (8 * width));
    }

    /// <summary>The write counterpart of <see cref="ReadValue"/>: dropped where nothing is allocated.</summary>
    public void WriteValue(ulong busAddress, int width, ulong value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        TryWrite(busAddress, bytes[..width]);
    }

    /// <summary>Disposes every region still allocated.</summary>
    public void Dispose()
    {
        HostDmaRegion[] regions;
        lock (_sync)
        {
            regions = [.. _live.Values];
        }

        foreach (HostDmaRegion region in regions)
        {
            region.Dispose();
        }

        if (_backing != null)
        {
            _ = Munmap((nint)_backing, (nuint)(WindowLast - WindowBase + 1));
            _backing = null;
        }
    }

    private bool TryFind(ulong busAddress, int length, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HostDmaRegion? region, out int offset)
    {
        Debug.Assert(_sync.IsHeldByCurrentThread);
        region = null;
        offset = 0;

        // The last region starting at or below the address is the only one that can hold it.
        IList<ulong> starts = _live.Keys;
        int low = 0, high = starts.Count - 1, found = -1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            if (starts[middle] <= busAddress)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        if (found < 0)
        {
            return false;
        }

        HostDmaRegion candidate = _live.Values[found];
        ulong start = busAddress - starts[found];
        if (start > (ulong)candidate.Length || (ulong)length > (ulong)candidate.Length - start)
        {
            return false;
        }

        region = candidate;
        offset = (int)start;
        return true;
    }

    private void Release(HostDmaRegion region)
    {
        lock (_sync)
        {
            _live.Remove(region.BusAddress);
        }
    }

    private const int ProtRead = 0x1, ProtWrite = 0x2;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20, MapNoReserve = 0x4000;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);
}
