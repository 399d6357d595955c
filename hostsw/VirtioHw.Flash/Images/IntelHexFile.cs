using System.Globalization;

namespace VirtioHw.Flash;

/// <summary>
/// Intel HEX: lines <c>:LLAAAATT&lt;data&gt;CC</c> where the bytes sum to zero modulo 256. Record
/// types: 00 data, 01 end of file, 02 extended segment address (base = value * 16, offsets wrap
/// inside the 64 KiB segment), 03 start segment address, 04 extended linear address (upper 16 bits),
/// 05 start linear address. Start addresses mean nothing to a flash and are checked, then ignored.
/// </summary>
public static class IntelHexFile
{
    /// <summary>Parses HEX text; errors name <paramref name="source"/> and the line number.</summary>
    public static FlashImage Parse(string source, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chunks = new List<Chunk>();
        long linearBase = 0;
        long segmentBase = 0;
        bool segmentMode = false;
        bool ended = false;
        int lineNumber = 0;
        byte[] record = new byte[255 + 5];

        foreach (string rawLine in text.Split('\n'))
        {
            lineNumber++;
            string line = rawLine.TrimEnd('\r', ' ', '\t');
            if (line.Length == 0)
            {
                continue;
            }

            string Where() => $"{source} line {lineNumber}";
            if (ended)
            {
                throw new FlashException($"{Where()}: data after the end-of-file record");
            }

            if (line[0] != ':')
            {
                throw new FlashException($"{Where()}: a record must start with ':'");
            }

            int hexLength = line.Length - 1;
            if (hexLength % 2 != 0 || hexLength < 10)
            {
                throw new FlashException($"{Where()}: a record needs an even number of hex digits, at least 10");
            }

            int count = hexLength / 2;
            if (count > record.Length)
            {
                throw new FlashException($"{Where()}: the record is longer than 255 data bytes");
            }

            for (int i = 0; i < count; i++)
            {
                // byte.TryParse lets a trailing NUL through, so each character is checked first.
                if (!char.IsAsciiHexDigit(line[1 + (2 * i)]) || !char.IsAsciiHexDigit(line[2 + (2 * i)])
                    || !byte.TryParse(line.AsSpan(1 + (2 * i), 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out record[i]))
                {
                    throw new FlashException($"{Where()}: '{line.Substring(1 + (2 * i), 2)}' at column {2 + (2 * i)} is not a hex byte");
                }
            }

            int dataLength = record[0];
            if (count != dataLength + 5)
            {
                throw new FlashException($"{Where()}: the length field says {dataLength} data bytes but the record holds {count - 5}");
            }

            byte sum = 0;
            for (int i = 0; i < count; i++)
            {
                sum += record[i];
            }

            if (sum != 0)
            {
                byte expected = (byte)(record[count - 1] - sum);
                throw new FlashException(
                    $"{Where()}: checksum error (the record has 0x{record[count - 1]:x2}, its bytes need 0x{expected:x2})");
            }

            int offset = (record[1] << 8) | record[2];
            int type = record[3];
            ReadOnlySpan<byte> data = record.AsSpan(4, dataLength);
            switch (type)
            {
                case 0x00:
                    if (segmentMode && offset + dataLength > 0x10000)
                    {
                        // Segment addressing wraps inside the 64 KiB segment; linear addressing carries on.
                        int head = 0x10000 - offset;
                        chunks.Add(new Chunk(segmentBase + offset, data[..head].ToArray(), lineNumber));
                        chunks.Add(new Chunk(segmentBase, data[head..].ToArray(), lineNumber));
                    }
                    else if (dataLength > 0)
                    {
                        chunks.Add(new Chunk((segmentMode ? segmentBase : linearBase) + offset, data.ToArray(), lineNumber));
                    }

                    break;
                case 0x01:
                    RequireLength(Where(), type, dataLength, 0);
                    ended = true;
                    break;
                case 0x02:
                    RequireLength(Where(), type, dataLength, 2);
                    segmentBase = ((data[0] << 8) | data[1]) * 16L;
                    segmentMode = true;
                    break;
                case 0x04:
                    RequireLength(Where(), type, dataLength, 2);
                    linearBase = (long)((data[0] << 8) | data[1]) << 16;
                    segmentMode = false;
                    break;
                case 0x03 or 0x05:
                    RequireLength(Where(), type, dataLength, 4);
                    break;
                default:
                    throw new FlashException($"{Where()}: unknown record type 0x{type:x2}");
            }
        }

        if (!ended)
        {
            throw new FlashException($"{source}: no end-of-file record (type 01); the file may be truncated");
        }

        if (chunks.Count == 0)
        {
            throw new FlashException($"{source} holds no data records");
        }

        return new FlashImage(source, ImageFormat.IntelHex, Segments(source, chunks));
    }

    private static void RequireLength(string where, int type, int actual, int expected)
    {
        if (actual != expected)
        {
            throw new FlashException($"{where}: a type 0x{type:x2} record has {expected} data bytes, not {actual}");
        }
    }

    private sealed record Chunk(long Address, byte[] Data, int Line)
    {
        public long End => Address + Data.Length;
    }

    /// <summary>Joins records into contiguous segments; a byte given two different values is an error.</summary>
    private static List<ImageSegment> Segments(string source, List<Chunk> chunks)
    {
        chunks.Sort((a, b) => a.Address != b.Address ? a.Address.CompareTo(b.Address) : a.Line.CompareTo(b.Line));
        var segments = new List<ImageSegment>();
        var run = new List<byte>();
        long runStart = chunks[0].Address;
        foreach (Chunk chunk in chunks)
        {
            long runEnd = runStart + run.Count;
            if (chunk.Address > runEnd)
            {
                segments.Add(new ImageSegment(runStart, [.. run]));
                run.Clear();
                runStart = chunk.Address;
                runEnd = runStart;
            }

            // Bytes this record shares with earlier ones must agree with them.
            int overlap = (int)Math.Min(runEnd - chunk.Address, chunk.Data.Length);
            for (int i = 0; i < overlap; i++)
            {
                if (run[(int)(chunk.Address - runStart) + i] != chunk.Data[i])
                {
                    throw new FlashException(
                        $"{source} line {chunk.Line}: address 0x{chunk.Address + i:x} is given a second, different value");
                }
            }

            run.AddRange(chunk.Data.AsSpan(overlap));
        }

        segments.Add(new ImageSegment(runStart, [.. run]));
        return segments;
    }
}
