namespace VirtioHw.Model;

/// <summary>A shared memory region mapped one to one onto backing memory, at the same offset it has in its BAR.</summary>
internal sealed class PlainWindow(SharedMemoryBacking backing, ulong backingOffset) : IMemoryTarget
{
    public ulong Read(ulong offset, int width) => backing.Read(backingOffset + offset, width);

    public void Write(ulong offset, int width, ulong value) => backing.Write(backingOffset + offset, width, value);
}
