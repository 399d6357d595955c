using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

[TestFixture]
public class XilinxBitFileTests
{
    /// <summary>A .bit file as Vivado writes it: preamble, fields a-d as strings, e as the payload.</summary>
    internal static byte[] MakeBit(string part, byte[] payload, string design = "top;UserID=0XFFFFFFFF;Version=2023.2")
    {
        var bytes = new List<byte> { 0x00, 0x09, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x0f, 0xf0, 0x00, 0x00, 0x01 };
        void Field(char key, string value)
        {
            byte[] text = Encoding.ASCII.GetBytes(value + "\0");
            bytes.Add((byte)key);
            bytes.Add((byte)(text.Length >> 8));
            bytes.Add((byte)text.Length);
            bytes.AddRange(text);
        }

        Field('a', design);
        Field('b', part);
        Field('c', "2024/05/01");
        Field('d', "12:34:56");
        bytes.Add((byte)'e');
        byte[] length = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)payload.Length);
        bytes.AddRange(length);
        bytes.AddRange(payload);
        return [.. bytes];
    }

    [Test]
    public void Parse_ReadsHeaderFieldsAndExtractsThePayload()
    {
        byte[] payload = TestData.Random(1000, 31);
        FlashImage image = XilinxBitFile.Parse("top.bit", MakeBit("7a35tcsg324", payload));
        Assert.Multiple(() =>
        {
            Assert.That(image.BitHeader, Is.EqualTo(new XilinxBitHeader("top;UserID=0XFFFFFFFF;Version=2023.2", "7a35tcsg324", "2024/05/01", "12:34:56")));
            Assert.That(image.Segments.Single().Data, Is.EqualTo(payload));
            Assert.That(image.Segments.Single().Offset, Is.Zero);
        });
    }

    [Test]
    public void Parse_BadPreamble_IsNotABitFile()
    {
        byte[] data = MakeBit("7a35t", [1, 2, 3]);
        data[3] = 0x00;
        var e = Assert.Throws<FlashException>(() => XilinxBitFile.Parse("x.bit", data));
        Assert.That(e!.Message, Does.StartWith("x.bit is not a Xilinx .bit file"));
    }

    [Test]
    public void Parse_PayloadLongerThanTheFile_NamesTheOffset()
    {
        byte[] data = MakeBit("7a35t", new byte[100]);
        data = data[..^10];
        var e = Assert.Throws<FlashException>(() => XilinxBitFile.Parse("x.bit", data));
        Assert.That(e!.Message, Does.Contain("claims 100 bytes but only 90 follow"));
    }

    [Test]
    public void Parse_TruncatedInsideTheHeader_IsReported()
    {
        byte[] data = MakeBit("7a35t", new byte[100])[..30];
        var e = Assert.Throws<FlashException>(() => XilinxBitFile.Parse("x.bit", data));
        Assert.That(e!.Message, Does.StartWith("x.bit: "));
    }

    [Test]
    public void Parse_UnknownField_IsReported()
    {
        byte[] data = MakeBit("7a35t", new byte[4]);
        int fieldA = 13;
        data[fieldA] = (byte)'z';
        var e = Assert.Throws<FlashException>(() => XilinxBitFile.Parse("x.bit", data));
        Assert.That(e!.Message, Does.Contain("unknown .bit header field 0x7a at offset 0xd"));
    }

    [Test]
    public void Parse_EmptyPayload_IsRefused()
    {
        var e = Assert.Throws<FlashException>(() => XilinxBitFile.Parse("x.bit", MakeBit("7a35t", [])));
        Assert.That(e!.Message, Does.Contain("empty"));
    }

    [TestCase("7a35tcsg324", "xc7a35t", true)]
    [TestCase("7a35tcsg324", "7A35TCSG324", true)]
    [TestCase("xc7a35tcsg324", "xc7a35t", true)]
    [TestCase("7a100tcsg324", "xc7a35t", false)]
    [TestCase("7k325tffg900", "xc7a35t", false)]
    public void PartMatches_IgnoresXcPrefixAndPackage(string bitPart, string boardPart, bool expected)
    {
        Assert.That(XilinxBitFile.PartMatches(bitPart, boardPart), Is.EqualTo(expected));
    }
}

[TestFixture]
public class IntelHexFileTests
{
    private static string Record(int type, int address, params byte[] data)
    {
        var bytes = new List<byte> { (byte)data.Length, (byte)(address >> 8), (byte)address, (byte)type };
        bytes.AddRange(data);
        byte sum = 0;
        foreach (byte b in bytes)
        {
            sum += b;
        }

        bytes.Add((byte)-sum);
        return ":" + Convert.ToHexString([.. bytes]);
    }

    private static FlashImage Parse(params string[] lines) => IntelHexFile.Parse("t.hex", string.Join("\n", lines) + "\n");

    [Test]
    public void DataAndEndRecords_GiveOneSegment()
    {
        FlashImage image = Parse(Record(0, 0x0010, 1, 2, 3), Record(0, 0x0013, 4), Record(1, 0));
        Assert.Multiple(() =>
        {
            Assert.That(image.Segments.Single().Offset, Is.EqualTo(0x10));
            Assert.That(image.Segments.Single().Data, Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
        });
    }

    [Test]
    public void ExtendedLinearAddress_SetsTheUpperSixteenBits()
    {
        FlashImage image = Parse(Record(4, 0, 0x00, 0x12), Record(0, 0x3456, 0xaa), Record(1, 0));
        Assert.That(image.Segments.Single().Offset, Is.EqualTo(0x123456));
    }

    [Test]
    public void ExtendedSegmentAddress_MultipliesBySixteen_AndWrapsInsideTheSegment()
    {
        FlashImage image = Parse(Record(2, 0, 0x10, 0x00), Record(0, 0xfffe, 1, 2, 3, 4), Record(1, 0));
        Assert.Multiple(() =>
        {
            Assert.That(image.Segments.Select(s => s.Offset), Is.EqualTo(new long[] { 0x10000, 0x1fffe }));
            Assert.That(image.Segments[0].Data, Is.EqualTo(new byte[] { 3, 4 }));
            Assert.That(image.Segments[1].Data, Is.EqualTo(new byte[] { 1, 2 }));
        });
    }

    [Test]
    public void LinearRecordCrossingSixtyFourKiB_CarriesOn()
    {
        FlashImage image = Parse(Record(0, 0xfffe, 1, 2, 3, 4), Record(1, 0));
        Assert.That(image.Segments.Single().Offset, Is.EqualTo(0xfffe));
    }

    [Test]
    public void StartAddressRecords_AreAcceptedAndIgnored()
    {
        FlashImage image = Parse(Record(3, 0, 0, 0, 0x12, 0x34), Record(5, 0, 0, 0, 0, 0x80), Record(0, 0, 9), Record(1, 0));
        Assert.That(image.DataLength, Is.EqualTo(1));
    }

    [Test]
    public void GapsBecomeSeparateSegments()
    {
        FlashImage image = Parse(Record(0, 0x0000, 1), Record(0, 0x1000, 2), Record(1, 0));
        Assert.That(image.Segments.Select(s => s.Offset), Is.EqualTo(new long[] { 0, 0x1000 }));
    }

    [Test]
    public void ChecksumError_NamesTheLine()
    {
        string bad = Record(0, 0x10, 1, 2);
        bad = bad[..^2] + "00";
        var e = Assert.Throws<FlashException>(() => Parse(Record(0, 0, 5), bad, Record(1, 0)));
        Assert.That(e!.Message, Does.StartWith("t.hex line 2: checksum error"));
    }

    [TestCase("0200000001FE", "must start with ':'")]
    [TestCase(":02000000F", "even number of hex digits")]
    [TestCase(":0200000001ZZFC", "is not a hex byte")]
    [TestCase(":0300000001FE", "length field says 3 data bytes but the record holds 1")]
    [TestCase(":00000007F9", "unknown record type 0x07")]
    [TestCase(":0100000400FB", "type 0x04 record has 2 data bytes, not 1")]
    public void MalformedRecord_IsReportedWithItsLineNumber(string line, string reason)
    {
        var e = Assert.Throws<FlashException>(() => Parse(Record(0, 0, 1), line, Record(1, 0)));
        Assert.That(e!.Message, Does.StartWith("t.hex line 2: ").And.Contain(reason));
    }

    [Test]
    public void MissingEndRecord_IsReported()
    {
        var e = Assert.Throws<FlashException>(() => Parse(Record(0, 0, 1)));
        Assert.That(e!.Message, Does.Contain("no end-of-file record"));
    }

    [Test]
    public void DataAfterTheEndRecord_IsReported()
    {
        var e = Assert.Throws<FlashException>(() => Parse(Record(1, 0), Record(0, 0, 1)));
        Assert.That(e!.Message, Does.StartWith("t.hex line 2: data after the end-of-file record"));
    }

    [Test]
    public void ConflictingValuesForOneAddress_AreReported()
    {
        var e = Assert.Throws<FlashException>(() => Parse(Record(0, 0x20, 1, 2), Record(0, 0x21, 3), Record(1, 0)));
        Assert.That(e!.Message, Does.StartWith("t.hex line 2: address 0x21 is given a second, different value"));
    }

    [Test]
    public void CarriageReturnsAndBlankLines_AreAccepted()
    {
        FlashImage image = IntelHexFile.Parse("t.hex", Record(0, 0, 7) + "\r\n\r\n" + Record(1, 0) + "\r\n");
        Assert.That(image.DataLength, Is.EqualTo(1));
    }

    /// <summary>Writes segments as HEX with extended linear address records, 16 bytes a line.</summary>
    private static string ToHex(IEnumerable<(long Address, byte[] Data)> segments)
    {
        var lines = new List<string>();
        long upper = -1;
        foreach ((long address, byte[] data) in segments)
        {
            for (int i = 0; i < data.Length; i += 16)
            {
                long a = address + i;
                if (a >> 16 != upper)
                {
                    upper = a >> 16;
                    lines.Add(Record(4, 0, (byte)(upper >> 8), (byte)upper));
                }

                int n = (int)Math.Min(Math.Min(16, data.Length - i), 0x10000 - (a & 0xffff));
                lines.Add(Record(0, (int)(a & 0xffff), data.AsSpan(i, n).ToArray()));
                i -= 16 - n;
            }
        }

        lines.Add(Record(1, 0));
        return string.Join("\n", lines);
    }

    [Test]
    public void Property_WrittenHexParsesBackToTheSameBytes()
    {
        Gen<(long, byte[])[]> segments =
            from count in Gen.Choose(1, 4)
            from seeds in Gen.ArrayOf(Gen.Choose(0, int.MaxValue), count)
            select seeds.Select((seed, i) =>
            {
                var r = new Random(seed);
                byte[] data = new byte[1 + r.Next(300)];
                r.NextBytes(data);
                return ((long)(i * 0x18000) + r.Next(0x8000), data);
            }).ToArray();
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(100), Prop.ForAll(segments.ToArbitrary(), segs =>
        {
            FlashImage image = IntelHexFile.Parse("p.hex", ToHex(segs));
            byte[] expected = segs.SelectMany(s => s.Item2).ToArray();
            byte[] actual = image.Segments.SelectMany(s => s.Data).ToArray();
            return image.Segments[0].Offset == segs[0].Item1 && actual.SequenceEqual(expected);
        }));
    }
}

[TestFixture]
public class ImageLoaderTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = TestData.TempDirectory();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void BinFile_IsRaw()
    {
        string path = Path.Combine(_dir, "a.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        FlashImage image = ImageLoader.Load(path);
        Assert.Multiple(() =>
        {
            Assert.That(image.Format, Is.EqualTo(ImageFormat.Raw));
            Assert.That(image.Segments.Single().Data, Is.EqualTo(new byte[] { 1, 2, 3 }));
        });
    }

    [Test]
    public void BitFileUnderAnotherName_IsStillParsedAsBit()
    {
        string path = Path.Combine(_dir, "renamed.bin");
        File.WriteAllBytes(path, XilinxBitFileTests.MakeBit("7a35t", [9, 9]));
        Assert.That(ImageLoader.Load(path).Format, Is.EqualTo(ImageFormat.XilinxBit));
    }

    [Test]
    public void McsFile_IsIntelHex()
    {
        string path = Path.Combine(_dir, "a.mcs");
        File.WriteAllText(path, ":0100000001FE\n:00000001FF\n");
        Assert.That(ImageLoader.Load(path).Format, Is.EqualTo(ImageFormat.IntelHex));
    }

    [Test]
    public void ForcedRawFormat_KeepsABitHeader()
    {
        string path = Path.Combine(_dir, "a.bit");
        byte[] bit = XilinxBitFileTests.MakeBit("7a35t", [9, 9]);
        File.WriteAllBytes(path, bit);
        Assert.That(ImageLoader.Load(path, ImageFormat.Raw).DataLength, Is.EqualTo(bit.Length));
    }

    [Test]
    public void MissingFile_IsOneSentenceNamingIt()
    {
        string path = Path.Combine(_dir, "nope.bin");
        var e = Assert.Throws<FlashException>(() => ImageLoader.Load(path));
        Assert.That(e!.Message, Is.EqualTo($"image {path} does not exist"));
    }

    [Test]
    public void EmptyFile_IsRefused()
    {
        string path = Path.Combine(_dir, "empty.bin");
        File.WriteAllBytes(path, []);
        var e = Assert.Throws<FlashException>(() => ImageLoader.Load(path));
        Assert.That(e!.Message, Is.EqualTo($"image {path} is empty"));
    }

    [Test]
    public void BinaryFileNamedHex_IsRefusedAsNotText()
    {
        string path = Path.Combine(_dir, "b.hex");
        File.WriteAllBytes(path, [0xff, 0xfe, 0x80]);
        var e = Assert.Throws<FlashException>(() => ImageLoader.Load(path));
        Assert.That(e!.Message, Does.Contain("not a text file"));
    }

    [TestCase("auto", ImageFormat.Auto)]
    [TestCase("BIN", ImageFormat.Raw)]
    [TestCase("bit", ImageFormat.XilinxBit)]
    [TestCase("mcs", ImageFormat.IntelHex)]
    public void ParseFormat_AcceptsTheNames(string text, ImageFormat expected)
    {
        Assert.That(ImageLoader.ParseFormat(text), Is.EqualTo(expected));
    }

    [Test]
    public void ParseFormat_UnknownName_NamesTheOption()
    {
        var e = Assert.Throws<FlashException>(() => ImageLoader.ParseFormat("elf"));
        Assert.That(e!.Message, Does.StartWith("--format elf"));
    }
}
