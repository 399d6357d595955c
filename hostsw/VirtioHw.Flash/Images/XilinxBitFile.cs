using System.Buffers.Binary;
using System.Text;

namespace VirtioHw.Flash;

/// <summary>The text fields of a .bit header: design (a), part (b), date (c), time (d).</summary>
public sealed record XilinxBitHeader(string Design, string Part, string Date, string Time);

/// <summary>
/// Xilinx .bit files: a 2-byte length and a 9-byte preamble, then fields tagged 'a' to 'e'. Fields
/// a-d are a big-endian 16-bit length and a NUL-terminated string; 'e' is a 32-bit length and the
/// configuration data, which goes into SPI flash as it is.
/// </summary>
public static class XilinxBitFile
{
    private static ReadOnlySpan<byte> Preamble => [0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x00];

    /// <summary>Whether <paramref name="data"/> starts like a .bit file.</summary>
    public static bool LooksLikeBit(ReadOnlySpan<byte> data) =>
        data.Length >= 13 && data[0] == 0x00 && data[1] == 0x09 && data.Slice(2, 9).SequenceEqual(Preamble);

    /// <summary>Parses a .bit file; <paramref name="source"/> names it in error messages.</summary>
    public static FlashImage Parse(string source, ReadOnlySpan<byte> data)
    {
        if (!LooksLikeBit(data))
        {
            throw new FlashException($"{source} is not a Xilinx .bit file (its first 13 bytes are not the .bit preamble)");
        }

        // After the preamble comes a 16-bit field holding 1, then the tagged fields.
        int pos = 11;
        if (data.Length < pos + 2 || BinaryPrimitives.ReadUInt16BigEndian(data[pos..]) != 1)
        {
            throw new FlashException($"{source}: the .bit header is malformed at offset 0x{pos:x} (expected the field count 0x0001)");
        }

        pos += 2;
        var fields = new Dictionary<char, string>();
        while (true)
        {
            if (pos >= data.Length)
            {
                throw new FlashException($"{source}: the .bit file ends at offset 0x{pos:x} before its data field 'e'");
            }

            char key = (char)data[pos];
            pos++;
            if (key == 'e')
            {
                if (data.Length < pos + 4)
                {
                    throw new FlashException($"{source}: the .bit data length at offset 0x{pos:x} is truncated");
                }

                uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
                pos += 4;
                if (length > (uint)(data.Length - pos))
                {
                    throw new FlashException(
                        $"{source}: the .bit data field at offset 0x{pos:x} claims {length} bytes but only {data.Length - pos} follow");
                }

                if (length == 0)
                {
                    throw new FlashException($"{source}: the .bit data field at offset 0x{pos:x} is empty");
                }

                foreach (char required in "ab")
                {
                    if (!fields.ContainsKey(required))
                    {
                        throw new FlashException($"{source}: the .bit header has no '{required}' field");
                    }
                }

                var header = new XilinxBitHeader(fields['a'], fields['b'], fields.GetValueOrDefault('c', ""), fields.GetValueOrDefault('d', ""));
                return new FlashImage(source, ImageFormat.XilinxBit, [new ImageSegment(0, data.Slice(pos, (int)length).ToArray())])
                {
                    BitHeader = header,
                };
            }

            if (key is < 'a' or > 'd')
            {
                throw new FlashException($"{source}: unknown .bit header field 0x{(byte)key:x2} at offset 0x{pos - 1:x}");
            }

            if (data.Length < pos + 2)
            {
                throw new FlashException($"{source}: the .bit field '{key}' at offset 0x{pos - 1:x} is truncated");
            }

            int fieldLength = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            pos += 2;
            if (fieldLength > data.Length - pos)
            {
                throw new FlashException(
                    $"{source}: the .bit field '{key}' at offset 0x{pos - 3:x} claims {fieldLength} bytes but only {data.Length - pos} follow");
            }

            ReadOnlySpan<byte> text = data.Slice(pos, fieldLength);
            int nul = text.IndexOf((byte)0);
            fields[key] = Encoding.ASCII.GetString(nul >= 0 ? text[..nul] : text);
            pos += fieldLength;
        }
    }

    /// <summary>
    /// Whether the part named in a .bit header (<c>7a35tcsg324</c>) is the board's part
    /// (<c>xc7a35t</c>): the "xc" prefix is optional and the package may be left off either side.
    /// </summary>
    public static bool PartMatches(string bitPart, string boardPart)
    {
        static string Normalize(string p)
        {
            string s = p.Trim().ToLowerInvariant();
            return s.StartsWith("xc", StringComparison.Ordinal) ? s[2..] : s;
        }

        string a = Normalize(bitPart);
        string b = Normalize(boardPart);
        return a.Length > 0 && b.Length > 0 &&
            (a.StartsWith(b, StringComparison.Ordinal) || b.StartsWith(a, StringComparison.Ordinal));
    }
}
