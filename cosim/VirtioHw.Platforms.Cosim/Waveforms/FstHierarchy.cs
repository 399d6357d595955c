using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace VirtioHw.Platforms.Cosim.Waveforms;

/// <summary>One signal of an FST waveform: its scope path, name and width in bits.</summary>
/// <param name="Scope">The scopes from the root, joined with dots (<c>TOP</c>, <c>TOP.ism_endpoint_top</c>).</param>
/// <param name="Name">The signal's name as the writer gave it, with a vector's range (<c>cfg_awaddr_i [11:0]</c>).</param>
/// <param name="Width">Bits.</param>
public sealed record FstSignal(string Scope, string Name, int Width)
{
    /// <summary>The name GTKWave shows and save files use: scope, dot, name, the range without the blank.</summary>
    public string FullName => Scope + "." + Name.Replace(" [", "[", StringComparison.Ordinal);

    /// <summary>The name without its range.</summary>
    public string BaseName => Name.Split(' ', 2)[0];
}

/// <summary>
/// The signal hierarchy of an FST file (GTKWave's format, which Verilator writes): the hierarchy
/// block only, gzip- or LZ4-compressed as the writer chose; value changes are not read.
/// </summary>
public static class FstHierarchy
{
    private const byte BlockHierarchyGzip = 4;
    private const byte BlockHierarchyLz4 = 6;
    private const byte BlockHierarchyLz4Twice = 7;
    private const byte TagScope = 254;
    private const byte TagUpScope = 255;
    private const byte TagAttributeBegin = 252;
    private const byte TagAttributeEnd = 253;
    private const byte LastVariableType = 29;

    /// <summary>Every signal of <paramref name="path"/>, in the order the file declares them.</summary>
    /// <exception cref="InvalidDataException">The file is not an FST file with a hierarchy; the message names it.</exception>
    public static IReadOnlyList<FstSignal> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] file = File.ReadAllBytes(path);
        int position = 0;
        while (position + 9 <= file.Length)
        {
            byte type = file[position];
            long length = (long)BinaryPrimitives.ReadUInt64BigEndian(file.AsSpan(position + 1));
            if (length < 8 || position + 1 + length > file.Length)
            {
                break;
            }

            ReadOnlySpan<byte> section = file.AsSpan(position + 9, (int)length - 8);
            if (type is BlockHierarchyGzip or BlockHierarchyLz4 or BlockHierarchyLz4Twice)
            {
                return Parse(Inflate(type, section), path);
            }

            position += 1 + (int)length;
        }

        throw new InvalidDataException($"{path} has no FST hierarchy block (not an FST file, or not closed)");
    }

    private static byte[] Inflate(byte type, ReadOnlySpan<byte> section)
    {
        int length = checked((int)BinaryPrimitives.ReadUInt64BigEndian(section));
        ReadOnlySpan<byte> packed = section[8..];
        switch (type)
        {
            case BlockHierarchyGzip:
                using (var gzip = new GZipStream(new MemoryStream(packed.ToArray()), CompressionMode.Decompress))
                {
                    byte[] bytes = new byte[length];
                    gzip.ReadExactly(bytes);
                    return bytes;
                }

            case BlockHierarchyLz4:
                return Lz4Block.Decode(packed, length);
            default:
                // Packed twice: the length after the first pass, then that pass packed again.
                int once = (int)ReadVarint(packed, out int used);
                return Lz4Block.Decode(Lz4Block.Decode(packed[used..], once), length);
        }
    }

    private static List<FstSignal> Parse(byte[] hierarchy, string path)
    {
        var signals = new List<FstSignal>();
        var scopes = new List<string>();
        int at = 0;
        while (at < hierarchy.Length)
        {
            byte tag = hierarchy[at++];
            switch (tag)
            {
                case TagScope:
                    at++;  // scope type
                    scopes.Add(CString(hierarchy, ref at));
                    CString(hierarchy, ref at);  // component
                    break;
                case TagUpScope:
                    if (scopes.Count > 0)
                    {
                        scopes.RemoveAt(scopes.Count - 1);
                    }

                    break;
                case TagAttributeBegin:
                    at += 2;  // attribute type and subtype
                    CString(hierarchy, ref at);
                    ReadVarint(hierarchy.AsSpan(at), out int argument);
                    at += argument;
                    break;
                case TagAttributeEnd:
                    break;
                case <= LastVariableType:
                    at++;  // direction
                    string name = CString(hierarchy, ref at);
                    int width = (int)ReadVarint(hierarchy.AsSpan(at), out int widthBytes);
                    at += widthBytes;
                    ReadVarint(hierarchy.AsSpan(at), out int aliasBytes);
                    at += aliasBytes;
                    signals.Add(new FstSignal(string.Join('.', scopes), name, width));
                    break;
                default:
                    throw new InvalidDataException($"{path}: unknown hierarchy entry 0x{tag:x2} at byte {at - 1} of the hierarchy");
            }
        }

        return signals;
    }

    private static string CString(byte[] bytes, ref int at)
    {
        int end = Array.IndexOf(bytes, (byte)0, at);
        if (end < 0)
        {
            throw new InvalidDataException("an FST hierarchy name runs past the end of the block");
        }

        string text = Encoding.UTF8.GetString(bytes, at, end - at);
        at = end + 1;
        return text;
    }

    // Little-endian base-128, as fstapi writes varints.
    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, out int used)
    {
        ulong value = 0;
        for (used = 0; used < bytes.Length && used < 10; used++)
        {
            value |= (ulong)(bytes[used] & 0x7f) << (7 * used);
            if ((bytes[used] & 0x80) == 0)
            {
                used++;
                return value;
            }
        }

        throw new InvalidDataException("an FST varint runs past the end of its block");
    }
}
