namespace VirtioHw.Model;

/// <summary>A shared memory region mapped one to one onto backing memory, at the same offset it has in its BAR.</summary>
internal sealed class PlainWindow(SharedMemoryBacking backing, ulong backingOffset) : IRunMemoryTarget
{
    public ulong Read(ulong offset, int width) => backing.Read(backingOffset + offset, width);

    public void Write(ulong offset, int width, ulong value) => backing.Write(backingOffset + offset, width, value);

    public int ReadRun(ulong offset, Span<byte> destination)
    {
        backing.Read(backingOffset + offset, destination);
        return destination.Length;
    }

    public int WriteRun(ulong offset, ReadOnlySpan<byte> source)
    {
        backing.Write(backingOffset + offset, source);
        return source.Length;
    }
}
