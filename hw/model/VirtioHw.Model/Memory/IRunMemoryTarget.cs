namespace VirtioHw.Model;

/// <summary>
/// A target that is ordinary memory (no side effects, the access width does not matter), so a block
/// can be copied a run at a time instead of one 8-byte access after another.
/// </summary>
internal interface IRunMemoryTarget : IMemoryTarget
{
    /// <summary>Reads from <paramref name="offset"/> as far as one contiguous run goes; the bytes read (at least 1).</summary>
    int ReadRun(ulong offset, Span<byte> destination);

    /// <summary>Writes from <paramref name="offset"/> as far as one contiguous run goes; the bytes consumed (at least 1).</summary>
    int WriteRun(ulong offset, ReadOnlySpan<byte> source);
}
