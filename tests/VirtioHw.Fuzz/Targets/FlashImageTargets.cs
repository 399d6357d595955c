using System.Buffers.Binary;
using System.Text;
using VirtioHw.Flash;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// Xilinx .bit files into the flasher: mutated valid files (header lengths, tags, the data
/// length) and random bytes. Parsed into one segment that lies inside the file, or a
/// <see cref="FlashException"/>; never another exception.
/// </summary>
public sealed class BitFileTarget : FuzzTarget
{
    private static readonly byte[][] Tokens = [[0x00, 0x09], [0x0f, 0xf0], [(byte)'a'], [(byte)'b'], [(byte)'e'], [0xff, 0xff, 0xff, 0xff], [0x00, 0x00], [0x00, 0x01]];

    public override string Name => "bit";

    public override string Description => "Xilinx .bit images into the flasher: an image, or a FlashException";

    /// <summary>A well-formed .bit file with <paramref name="payload"/> as its configuration data.</summary>
    public static byte[] Build(string design, string part, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var bytes = new List<byte> { 0x00, 0x09, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x00, 0x00, 0x01 };
        void Field(char tag, string value)
        {
            byte[] text = Encoding.ASCII.GetBytes(value + "\0");
            bytes.Add((byte)tag);
            bytes.Add((byte)(text.Length >> 8));
            bytes.Add((byte)text.Length);
            bytes.AddRange(text);
        }

        Field('a', design);
        Field('b', part);
        Field('c', "2026/11/21");
        Field('d', "12:00:00");
        bytes.Add((byte)'e');
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)payload.Length);
        bytes.AddRange(length);
        bytes.AddRange(payload);
        return [.. bytes];
    }

    public override byte[] Generate(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        byte[] payload = Mutator.RandomBytes(random, 64);
        byte[] seed = Build("top;UserID=0XFFFFFFFF", "7a35tcsg324", payload);
        return random.Next(10) == 0 ? Mutator.RandomBytes(random, 128) : Mutator.Mutate(random, seed, Tokens, []);
    }

    public override void Execute(byte[] input)
    {
        FlashImage image;
        try
        {
            image = XilinxBitFile.Parse("fuzz.bit", input);
        }
        catch (FlashException e)
        {
            FuzzFailure.Check(e.Message.StartsWith("fuzz.bit", StringComparison.Ordinal) && !e.Message.Contains('\n', StringComparison.Ordinal),
                $"the error does not name the file in one line: {e.Message}");
            return;
        }

        FuzzFailure.Check(image.Segments.Count == 1 && image.Segments[0].Offset == 0, "a .bit image is not one segment at offset 0");
        FuzzFailure.Check(image.DataLength > 0 && image.DataLength <= input.Length - 13, $"the image holds {image.DataLength} bytes from a {input.Length}-byte file");
        FuzzFailure.Check(image.BitHeader is not null, "a parsed .bit image has no header");
    }
}

/// <summary>
/// Intel HEX text into the flasher: mutated valid files (record types, lengths, checksums,
/// segment and linear bases, wrap-around) and random text. An image whose every byte is one a
/// data record gave, or a <see cref="FlashException"/> naming the line; never another exception.
/// </summary>
public sealed class IntelHexTarget : FuzzTarget
{
    private static readonly byte[][] Tokens =
        [.. new[] { ":", "\n", "\r\n", "00", "01", "02", "03", "04", "05", "FF", "10", ":00000001FF", ":020000021000EC", ":02000004FFFFFC", ":0400000300000000F9" }
            .Select(Encoding.ASCII.GetBytes)];

    public override string Name => "ihex";

    public override string Description => "Intel HEX images into the flasher: an image, or a FlashException naming the line";

    /// <summary>One record with its checksum.</summary>
    public static string Record(int type, int offset, ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder(":");
        int sum = data.Length + (offset >> 8) + (offset & 0xff) + type;
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{data.Length:X2}{offset & 0xffff:X4}{type:X2}");
        foreach (byte b in data)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{b:X2}");
            sum += b;
        }

        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{(byte)-sum:X2}");
        return sb.ToString();
    }

    public override byte[] Generate(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var text = new StringBuilder();
        int records = random.Next(1, 8);
        for (int i = 0; i < records; i++)
        {
            switch (random.Next(6))
            {
                case 0:
                    text.AppendLine(Record(2, 0, [(byte)random.Next(256), (byte)random.Next(256)]));
                    break;
                case 1:
                    text.AppendLine(Record(4, 0, [(byte)random.Next(4), (byte)random.Next(256)]));
                    break;
                default:
                    text.AppendLine(Record(0, random.Next(0x10000), Mutator.RandomBytes(random, 32)));
                    break;
            }
        }

        text.AppendLine(Record(1, 0, []));
        byte[] seed = Encoding.ASCII.GetBytes(text.ToString());
        return random.Next(4) == 0 ? seed : Mutator.Mutate(random, seed, Tokens, []);
    }

    public override void Execute(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        FlashImage image;
        try
        {
            image = IntelHexFile.Parse("fuzz.hex", text);
        }
        catch (FlashException e)
        {
            FuzzFailure.Check(e.Message.StartsWith("fuzz.hex", StringComparison.Ordinal) && !e.Message.Contains('\n', StringComparison.Ordinal),
                $"the error does not name the file in one line: {e.Message}");
            return;
        }

        // Every byte the image holds came from a data record: no more bytes than the data records carry.
        long carried = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length >= 11 && l[7..9] == "00").Sum(l => (long)Convert.ToByte(l[1..3], 16));
        FuzzFailure.Check(image.DataLength > 0 && image.DataLength <= carried, $"the image holds {image.DataLength} bytes but its data records carry {carried}");
        for (int i = 1; i < image.Segments.Count; i++)
        {
            FuzzFailure.Check(image.Segments[i].Offset > image.Segments[i - 1].End, "two segments of the image touch or overlap");
        }
    }
}

/// <summary>
/// SFDP tables as the chip answers them, into the flasher's parser and its part builder: mutated
/// JESD216 tables (revisions, header counts, pointers, densities, erase types, 4-byte methods)
/// and random bytes; addresses past the table read 0xff as on a chip. A part, or a
/// <see cref="FlashException"/>; never another exception.
/// </summary>
public sealed class SfdpTarget : FuzzTarget
{
    private static readonly byte[][] Tokens = [[0x53, 0x46, 0x44, 0x50], [0x00, 0x06, 0x01, 0x10], [0xff], [0x00], [0x80], [0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff]];

    public override string Name => "sfdp";

    public override string Description => "JESD216 SFDP answers into the flasher: a part, or a FlashException";

    /// <summary>A well-formed SFDP space: header, one parameter header, a 16-word basic table at 0x30.</summary>
    public static byte[] Build(int densityLog2, byte eraseOpcode, int eraseLog2, byte fourByteMethods)
    {
        byte[] sfdp = new byte[0x30 + 64];
        sfdp.AsSpan().Fill(0xff);
        BinaryPrimitives.WriteUInt32LittleEndian(sfdp, Sfdp.Signature);
        sfdp[4] = 6;
        sfdp[5] = 1;
        sfdp[6] = 0;
        sfdp[8] = 0x00;
        sfdp[9] = 6;
        sfdp[10] = 1;
        sfdp[11] = 16;
        sfdp[12] = 0x30;
        sfdp[13] = 0;
        sfdp[14] = 0;
        sfdp[15] = 0xff;
        Span<byte> table = sfdp.AsSpan(0x30);
        table.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(table, 0xff80_0000u | (1u << 17) | (0x20u << 8) | 0x05u);
        BinaryPrimitives.WriteUInt32LittleEndian(table[4..], 0x8000_0000u | (uint)densityLog2);
        BinaryPrimitives.WriteUInt32LittleEndian(table[28..], (uint)((eraseOpcode << 8) | eraseLog2) | (0xd810u << 16));
        BinaryPrimitives.WriteUInt32LittleEndian(table[40..], 8u << 4);
        BinaryPrimitives.WriteUInt32LittleEndian(table[60..], (uint)fourByteMethods << 24);
        return sfdp;
    }

    public override byte[] Generate(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        byte[] seed = Build(random.Next(16, 34), (byte)random.Next(256), random.Next(6, 20), (byte)random.Next(256));
        return random.Next(10) == 0 ? Mutator.RandomBytes(random, 128) : Mutator.Mutate(random, seed, Tokens, []);
    }

    public override void Execute(byte[] input)
    {
        int jedec = input.Length >= 3 ? (input[^3] << 16) | (input[^2] << 8) | input[^1] : 0xef4018;
        SfdpInfo info;
        FlashPart part;
        try
        {
            info = Sfdp.Parse((address, destination) =>
            {
                destination.Fill(0xff);
                if (address < input.Length)
                {
                    int length = Math.Min(destination.Length, input.Length - address);
                    input.AsSpan(address, length).CopyTo(destination);
                }
            });
            part = Sfdp.ToPart(info, jedec);
        }
        catch (FlashException e)
        {
            FuzzFailure.Check(!e.Message.Contains('\n', StringComparison.Ordinal), $"the error is more than one line: {e.Message}");
            return;
        }

        FuzzFailure.Check(part.Size == info.Size, $"the part is {part.Size} bytes but the table says {info.Size}");
        FuzzFailure.Check(!part.EraseTypes.IsEmpty, "the part has no erase type");
        FuzzFailure.Check(part.PageSize is >= 16 and <= 4096, $"page size {part.PageSize}");
    }
}
