using System.Diagnostics;

namespace VirtioHw.Host.Virtio;

/// <summary>
/// First-fit allocator of byte ranges inside a queue's staging memory. Buffers come back in
/// whatever order the device returns them, so freed ranges are merged with their neighbours.
/// Not thread-safe: the queue calls it under its lock.
/// </summary>
internal sealed class StagingAllocator
{
    /// <summary>Every range starts and ends on this boundary, which is what a descriptor table needs.</summary>
    public const int Granule = 16;

    // Free ranges. Invariant: sorted by offset, disjoint, never adjacent (adjacent ones are merged).
    private readonly List<(int Offset, int Length)> _free = [];

    public StagingAllocator(int capacity)
    {
        Capacity = capacity & ~(Granule - 1);
        Debug.Assert(Capacity > 0);
        Reset();
    }

    /// <summary>Usable bytes: the staging memory rounded down to the granule.</summary>
    public int Capacity { get; }

    /// <summary><paramref name="length"/> rounded up to the granule.</summary>
    public static long RoundUp(long length) => (length + Granule - 1) & ~(long)(Granule - 1);

    /// <summary>Forgets every allocation.</summary>
    public void Reset()
    {
        _free.Clear();
        _free.Add((0, Capacity));
    }

    public bool TryAllocate(int length, out int offset)
    {
        Debug.Assert(length > 0 && length <= Capacity);
        int size = (int)RoundUp(length);
        for (int i = 0; i < _free.Count; i++)
        {
            (int start, int available) = _free[i];
            if (available < size)
            {
                continue;
            }

            if (available == size)
            {
                _free.RemoveAt(i);
            }
            else
            {
                _free[i] = (start + size, available - size);
            }

            offset = start;
            return true;
        }

        offset = 0;
        return false;
    }

    public void Free(int offset, int length)
    {
        int size = (int)RoundUp(length);

        // Index of the first free range after the one being returned.
        int low = 0, high = _free.Count;
        while (low < high)
        {
            int middle = (low + high) >> 1;
            if (_free[middle].Offset < offset)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        Debug.Assert(low == _free.Count || offset + size <= _free[low].Offset, "freed range overlaps a free one");
        Debug.Assert(low == 0 || _free[low - 1].Offset + _free[low - 1].Length <= offset, "freed range overlaps a free one");

        bool joinsPrevious = low > 0 && _free[low - 1].Offset + _free[low - 1].Length == offset;
        bool joinsNext = low < _free.Count && offset + size == _free[low].Offset;
        if (joinsPrevious && joinsNext)
        {
            _free[low - 1] = (_free[low - 1].Offset, _free[low - 1].Length + size + _free[low].Length);
            _free.RemoveAt(low);
        }
        else if (joinsPrevious)
        {
            _free[low - 1] = (_free[low - 1].Offset, _free[low - 1].Length + size);
        }
        else if (joinsNext)
        {
            _free[low] = (offset, size + _free[low].Length);
        }
        else
        {
            _free.Insert(low, (offset, size));
        }
    }
}
