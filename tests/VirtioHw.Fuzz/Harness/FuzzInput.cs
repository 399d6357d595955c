namespace VirtioHw.Fuzz;

/// <summary>
/// Reads the choices of one execution from the input bytes, front to back. Past the end every
/// read returns zero, so any prefix of an input is an input too, which is what lets the minimiser
/// cut bytes away freely.
/// </summary>
public sealed class FuzzInput(byte[] data)
{
    private int _position;

    public bool IsEmpty => _position >= data.Length;

    public byte Byte() => _position < data.Length ? data[_position++] : (byte)0;

    public ushort UInt16() => (ushort)(Byte() | (Byte() << 8));

    public uint UInt32() => UInt16() | ((uint)UInt16() << 16);

    public ulong UInt64() => UInt32() | ((ulong)UInt32() << 32);

    /// <summary>A value in [0, <paramref name="count"/>).</summary>
    public int Choose(int count) => count <= 1 ? 0 : (count <= 256 ? Byte() : UInt16()) % count;

    public T Choose<T>(IReadOnlyList<T> items) => items[Choose(items.Count)];

    /// <summary>Up to <paramref name="max"/> bytes: a length byte (or word), then that many bytes.</summary>
    public byte[] Bytes(int max)
    {
        int length = Choose(max + 1);
        int available = Math.Min(length, Math.Max(0, data.Length - _position));
        byte[] bytes = new byte[length];
        data.AsSpan(_position, available).CopyTo(bytes);
        _position += available;
        return bytes;
    }

    /// <summary>A 64-bit value biased towards the edges that break size arithmetic.</summary>
    public ulong Edgy(ulong typical)
    {
        return Choose(8) switch
        {
            0 => 0,
            1 => 1,
            2 => typical,
            3 => typical - 1,
            4 => typical + 1,
            5 => ulong.MaxValue,
            6 => 1UL << Choose(64),
            _ => UInt64(),
        };
    }
}
