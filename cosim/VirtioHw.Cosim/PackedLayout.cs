using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace VirtioHw.Cosim;

/// <summary>
/// A leaf member of a packed struct port, such as <c>strobes.modified.swmod</c> of a register
/// block's <c>reg2hw_o</c>: element <c>i</c> of a packed array <c>[Count-1:0][Width-1:0]</c> sits at
/// bits <c>[Lsb + i * Width +: Width]</c> of the port; a plain member has <c>Count</c> 1.
/// </summary>
public sealed record PackedField(string Path, int Lsb, int Width, int Count)
{
    /// <summary>Element <paramref name="element"/> from the port's 32-bit words (word 0 holds bits 31:0).</summary>
    public ulong Get(ReadOnlySpan<uint> words, int element = 0)
    {
        int lsb = BitOf(element);
        ulong value = 0;
        for (int done = 0; done < Width;)
        {
            int bit = lsb + done;
            int take = Math.Min(32 - bit % 32, Width - done);
            ulong chunk = (words[bit / 32] >> (bit % 32)) & Ones(take);
            value |= chunk << done;
            done += take;
        }
        return value;
    }

    /// <summary>Writes element <paramref name="element"/> into the port's words; the value must fit the width.</summary>
    public void Set(Span<uint> words, ulong value, int element = 0)
    {
        if (Width < 64 && value >> Width != 0) ThrowTooWide(value);
        int lsb = BitOf(element);
        for (int done = 0; done < Width;)
        {
            int bit = lsb + done;
            int take = Math.Min(32 - bit % 32, Width - done);
            uint mask = (uint)Ones(take) << (bit % 32);
            words[bit / 32] = (words[bit / 32] & ~mask) | ((uint)(value >> done) << (bit % 32) & mask);
            done += take;
        }
    }

    private int BitOf(int element)
    {
        if (Width > 64) ThrowWide();
        if ((uint)element >= (uint)Count) ThrowElement(element);
        return Lsb + element * Width;
    }

    private static ulong Ones(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    [DoesNotReturn]
    private void ThrowWide() => throw new NotSupportedException($"'{Path}' is {Width} bits wide; only members of up to 64 bits are read and written as numbers");

    [DoesNotReturn]
    private void ThrowElement(int element) => throw new ArgumentOutOfRangeException(nameof(element), element, $"'{Path}' has {Count} element(s)");

    [DoesNotReturn]
    private void ThrowTooWide(ulong value) => throw new ArgumentOutOfRangeException(nameof(value), value, $"'{Path}' is {Width} bits wide");
}

/// <summary>The members of a packed struct port, by path (<c>reg.field.q</c>, <c>arr[2].x</c>).</summary>
public sealed class PackedLayout
{
    private readonly Dictionary<string, PackedField> _byPath;

    public PackedLayout(int width, IReadOnlyList<PackedField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        Width = width;
        Fields = fields;
        _byPath = fields.ToDictionary(f => f.Path, StringComparer.Ordinal);
        Debug.Assert(fields.All(f => f.Lsb + f.Width * f.Count <= width), "every member lies inside the port");
    }

    public int Width { get; }

    /// <summary>32-bit words that hold the port.</summary>
    public int Words => (Width + 31) / 32;

    public IReadOnlyList<PackedField> Fields { get; }

    public PackedField this[string path] =>
        _byPath.TryGetValue(path, out PackedField? f) ? f : throw new KeyNotFoundException($"the struct has no member '{path}'");

    public bool TryFind(string path, [NotNullWhen(true)] out PackedField? field) => _byPath.TryGetValue(path, out field);
}

/// <summary>A port of a Verilated top: its width, direction and, for a packed struct, its layout.</summary>
public sealed record CosimPort(string Name, PortDirection Direction, int Width, PackedLayout? Layout)
{
    /// <summary>32-bit words that hold the port.</summary>
    public int Words => (Width + 31) / 32;
}
