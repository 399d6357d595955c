using System.Diagnostics;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Platforms.Qemu;

/// <summary>
/// DMA memory inside the QEMU guest's RAM: devices reach it at its guest-physical address, and the
/// host reads and writes it through qtest, so <see cref="DmaRegion.TryGetSpan"/> is false.
/// </summary>
internal sealed class GuestDmaRegion : DmaRegion
{
    private readonly QemuPlatform _platform;
    private readonly Action<GuestDmaRegion> _released;

    public GuestDmaRegion(QemuPlatform platform, ulong guestAddress, int length, Action<GuestDmaRegion> released)
        : base(guestAddress, length)
    {
        _platform = platform;
        _released = released;
    }

    public override void Read(int offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        if (!destination.IsEmpty)
        {
            _platform.ReadGuest(BusAddress + (ulong)offset, destination);
        }
    }

    public override void Write(int offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        if (!source.IsEmpty)
        {
            _platform.WriteGuest(BusAddress + (ulong)offset, source);
        }
    }

    public override void Clear(int offset, int length)
    {
        CheckRange(offset, length);
        _platform.FillGuest(BusAddress + (ulong)offset, length, 0);
    }

    protected override void Dispose(bool disposing) => _released(this);
}

/// <summary>
/// Hands out aligned, disjoint ranges of a guest-physical window, lowest first fit; the
/// counterpart, for guest RAM, of <see cref="HostDmaAllocator"/> for host memory.
/// </summary>
internal sealed class GuestRangeAllocator
{
    private readonly Lock _sync = new();

    // Live ranges: start to length. Invariant: disjoint and inside the window.
    private readonly SortedList<ulong, ulong> _live = [];

    public GuestRangeAllocator(ulong windowBase, ulong windowLength)
    {
        Debug.Assert(windowLength > 0 && windowBase + windowLength > windowBase);
        WindowBase = windowBase;
        WindowEnd = windowBase + windowLength;
    }

    public ulong WindowBase { get; }

    /// <summary>The first address after the window.</summary>
    public ulong WindowEnd { get; }

    /// <summary>The start of a free range of <paramref name="length"/> bytes aligned to <paramref name="alignment"/>.</summary>
    /// <exception cref="InvalidOperationException">No free range is that large.</exception>
    public ulong Allocate(ulong length, ulong alignment)
    {
        Debug.Assert(length > 0 && ulong.IsPow2(alignment));
        lock (_sync)
        {
            ulong mask = alignment - 1;
            ulong candidate = (WindowBase + mask) & ~mask;
            foreach ((ulong start, ulong size) in _live)
            {
                if (start >= candidate && start - candidate >= length)
                {
                    break;
                }

                candidate = Math.Max(candidate, (start + size + mask) & ~mask);
            }

            if (candidate > WindowEnd || WindowEnd - candidate < length)
            {
                throw new InvalidOperationException(
                    $"guest RAM 0x{WindowBase:x}-0x{WindowEnd - 1:x} has no free {length}-byte range aligned to {alignment}; give QEMU more memory");
            }

            _live.Add(candidate, length);
            return candidate;
        }
    }

    public void Release(ulong start)
    {
        lock (_sync)
        {
            _live.Remove(start);
        }
    }
}
