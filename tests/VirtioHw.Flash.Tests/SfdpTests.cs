using System.Buffers.Binary;
using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

[TestFixture]
public class SfdpTests
{
    private static SfdpInfo ParseBytes(byte[] space) =>
        Sfdp.Parse((address, destination) =>
        {
            destination.Fill(0xff);
            if (address < space.Length)
            {
                space.AsSpan(address, Math.Min(destination.Length, space.Length - address)).CopyTo(destination);
            }
        });

    private static SfdpInfo ParseModel(SimulatedChipSpec spec)
    {
        using var h = new ModelHarness(spec);
        return Sfdp.Parse((address, destination) =>
            h.Bus.CommandRead([0x5a, (byte)(address >> 16), (byte)(address >> 8), (byte)address, 0], destination));
    }

    /// <summary>A JESD216 (revision 1.0) table as early parts carry it: 9 words, typed by hand.</summary>
    private static byte[] HandBuiltTable(uint density, uint dw8, uint dw9, int dwords = 9, uint dw16 = 0)
    {
        byte[] space = new byte[0x40 + (dwords * 4)];
        space.AsSpan().Fill(0xff);
        "SFDP"u8.CopyTo(space);
        space[4] = 0; // minor
        space[5] = 1; // major
        space[6] = 1; // two parameter headers
        space[7] = 0xff;
        // A vendor table first (ID 0xc2ff), then the basic table at 0x40.
        byte[] vendor = [0xc2, 0x00, 0x01, 0x04, 0x30, 0x00, 0x00, 0xff];
        byte[] basic = [0x00, 0x00, 0x01, (byte)dwords, 0x40, 0x00, 0x00, 0xff];
        vendor.CopyTo(space, 8);
        basic.CopyTo(space, 16);
        uint[] words = new uint[dwords];
        words[0] = 0xfff120e5; // 4 KiB erase 0x20, 3-byte addressing
        words[1] = density;
        words[7] = dw8;
        words[8] = dw9;
        if (dwords >= 16)
        {
            words[15] = dw16;
        }

        for (int i = 0; i < dwords; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(space.AsSpan(0x40 + (4 * i)), words[i]);
        }

        return space;
    }

    [Test]
    public void ModelTable_DescribesTheW25Q128JV()
    {
        SfdpInfo info = ParseModel(SimulatedChipSpec.W25Q128JV);
        Assert.Multiple(() =>
        {
            Assert.That(info.Size, Is.EqualTo(16 * PartTable.MiB));
            Assert.That(info.PageSize, Is.EqualTo(256));
            Assert.That(info.EraseTypes, Is.EqualTo(new[] { (4096, (byte)0x20), (32768, (byte)0x52), (65536, (byte)0xd8) }));
            Assert.That(info.AddressBytesField, Is.Zero);
            Assert.That((info.MajorRevision, info.MinorRevision), Is.EqualTo((1, 6)));
            Assert.That(info.TableDwords, Is.EqualTo(16));
        });
    }

    [Test]
    public void ModelTable_OfTheW25Q256JV_OffersFourByteInstructions()
    {
        SfdpInfo info = ParseModel(SimulatedChipSpec.W25Q256JV);
        FlashPart part = Sfdp.ToPart(info, 0xef4019);
        Assert.Multiple(() =>
        {
            Assert.That(info.Size, Is.EqualTo(32 * PartTable.MiB));
            Assert.That(info.AddressBytesField, Is.EqualTo(1));
            Assert.That(info.HasFourByteInstructions, Is.True);
            Assert.That(part.Addressing, Is.EqualTo(FourByteAddressing.DedicatedOpcodes));
            Assert.That(part.EraseTypes.Select(e => (e.Size, e.Opcode4Byte)), Is.EqualTo(new[] { (4096, (byte)0x21), (32768, (byte)0x5c), (65536, (byte)0xdc) }));
        });
    }

    [Test]
    public void HandBuiltTable_WithBitCountDensity_IsParsed()
    {
        // 64 Mbit written as bits - 1; erase types 4 KiB (0x20) and 64 KiB (0xd8).
        SfdpInfo info = ParseBytes(HandBuiltTable(0x03ffffff, 0x0000_200c | (0xd810u << 16), 0));
        Assert.Multiple(() =>
        {
            Assert.That(info.Size, Is.EqualTo(8 * PartTable.MiB));
            Assert.That(info.EraseTypes, Is.EqualTo(new[] { (4096, (byte)0x20), (65536, (byte)0xd8) }));
            Assert.That(info.PageSize, Is.EqualTo(256), "a 9-word table has no page size; 256 is assumed");
            Assert.That(info.EnterFourByteMethods, Is.Zero);
        });
    }

    [Test]
    public void HandBuiltTable_WithPowerOfTwoDensity_IsParsed()
    {
        // Bit 31 set: 2^30 bits = 128 MiB.
        SfdpInfo info = ParseBytes(HandBuiltTable(0x8000_001e, 0x520f_200c, 0x0000_d810, dwords: 16, dw16: 0x01u << 24));
        FlashPart part = Sfdp.ToPart(info, 0x123456);
        Assert.Multiple(() =>
        {
            Assert.That(info.Size, Is.EqualTo(128 * PartTable.MiB));
            Assert.That(part.Addressing, Is.EqualTo(FourByteAddressing.EnterMode));
            Assert.That(part.Protection.Layout, Is.EqualTo(ProtectionLayout.WholePartIfAnySet));
        });
    }

    [Test]
    public void LargePartWithoutAFourByteMethod_IsRefused()
    {
        SfdpInfo info = ParseBytes(HandBuiltTable(0x8000_001e, 0x520f_200c, 0x0000_d810));
        var e = Assert.Throws<FlashException>(() => Sfdp.ToPart(info, 0x123456));
        Assert.That(e!.Message, Does.Contain("4-byte"));
    }

    [Test]
    public void WrongSignature_SaysThereIsNoTable()
    {
        byte[] space = HandBuiltTable(0x03ffffff, 0x200c, 0);
        space[0] = 0x00;
        var e = Assert.Throws<FlashException>(() => ParseBytes(space));
        Assert.That(e!.Message, Does.Contain("no SFDP table"));
    }

    [Test]
    public void NoBasicTableHeader_IsReported()
    {
        byte[] space = HandBuiltTable(0x03ffffff, 0x200c, 0);
        space[16 + 7] = 0x01;
        var e = Assert.Throws<FlashException>(() => ParseBytes(space));
        Assert.That(e!.Message, Does.Contain("no basic flash parameter table"));
    }

    [Test]
    public void ShortBasicTable_IsReported()
    {
        byte[] space = HandBuiltTable(0x03ffffff, 0x200c, 0);
        space[16 + 3] = 4;
        var e = Assert.Throws<FlashException>(() => ParseBytes(space));
        Assert.That(e!.Message, Does.Contain("4 words"));
    }

    [Test]
    public void ImplausibleDensity_IsReported()
    {
        var e = Assert.Throws<FlashException>(() => ParseBytes(HandBuiltTable(0x8000_0050, 0x200c, 0)));
        Assert.That(e!.Message, Does.Contain("plausible"));
    }

    [Test]
    public void PartMissingFromTheTable_IsDescribedFromSfdp_AndProgrammed()
    {
        var spec = new SimulatedChipSpec
        {
            Part = SimulatedChipSpec.W25Q32JV.Part with { JedecId = 0xef4716 },
            DeviceId = 0x15,
        };
        using var h = new ModelHarness(spec);
        using SpiNorFlash flash = SpiNorFlash.Open(h.Bus);
        byte[] image = TestData.Random(5000, 11);
        new FlashProgrammer(flash).Write(FlashImage.FromBytes("x.bin", image), 0x3000);
        Assert.Multiple(() =>
        {
            Assert.That(flash.Part.Source, Is.EqualTo("SFDP 1.6"));
            Assert.That(flash.Part.Size, Is.EqualTo(4 * PartTable.MiB));
            Assert.That(h.Model.Contents.Slice(0x3000, image.Length).ToArray(), Is.EqualTo(image));
        });
    }
}
