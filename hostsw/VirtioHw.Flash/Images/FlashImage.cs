namespace VirtioHw.Flash;

/// <summary>Bytes to place at <see cref="Offset"/> from the image's base address.</summary>
public sealed record ImageSegment(long Offset, byte[] Data)
{
    public long End => Offset + Data.Length;
}

/// <summary>Image file formats the programmer reads.</summary>
public enum ImageFormat
{
    /// <summary>Pick from the file name and contents.</summary>
    Auto,

    /// <summary>Bytes written as they are.</summary>
    Raw,

    /// <summary>Xilinx .bit: a header of tagged fields, then the configuration payload.</summary>
    XilinxBit,

    /// <summary>Intel HEX (also Xilinx .mcs): text records with addresses and checksums.</summary>
    IntelHex,
}

/// <summary>
/// What to write: one or more segments, offsets relative to the write's base address (the board's
/// flash offset or <c>--offset</c>). Raw and .bit images are one segment at 0; HEX images keep
/// their record addresses, and the gaps between segments are left as the flash holds them.
/// </summary>
public sealed class FlashImage
{
    public FlashImage(string source, ImageFormat format, IReadOnlyList<ImageSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        Source = source;
        Format = format;
        Segments = [.. segments.OrderBy(s => s.Offset)];
        for (int i = 1; i < Segments.Count; i++)
        {
            if (Segments[i].Offset < Segments[i - 1].End)
            {
                throw new ArgumentException("image segments overlap", nameof(segments));
            }
        }
    }

    /// <summary>File the image came from, for messages.</summary>
    public string Source { get; }

    public ImageFormat Format { get; }

    public IReadOnlyList<ImageSegment> Segments { get; }

    /// <summary>Header fields of a .bit file, null for other formats.</summary>
    public XilinxBitHeader? BitHeader { get; init; }

    /// <summary>Bytes of data in all segments.</summary>
    public long DataLength => Segments.Sum(s => (long)s.Data.Length);

    /// <summary>One past the highest offset any segment reaches.</summary>
    public long End => Segments.Count == 0 ? 0 : Segments[^1].End;

    public static FlashImage FromBytes(string source, byte[] data) =>
        new(source, ImageFormat.Raw, [new ImageSegment(0, data)]);
}
