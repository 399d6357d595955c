using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>Block-protect decoding against the protection tables of the datasheets.</summary>
[TestFixture]
public class ProtectionTests
{
    private const long MiB = PartTable.MiB;
    private const long KiB = 1024;

    // W25Q128JV (16 MiB), CMP = 0: SR1 = SEC(6) TB(5) BP2-0(4-2).
    [TestCase(0b000_000_00, 0L, 0L)]
    [TestCase(0b000_001_00, 16 * MiB - (256 * KiB), 256 * KiB)] // upper 1/64
    [TestCase(0b000_110_00, 8 * MiB, 8 * MiB)] // upper 1/2
    [TestCase(0b001_001_00, 0L, 256 * KiB)] // TB: lower 1/64
    [TestCase(0b001_101_00, 0L, 4 * MiB)] // lower 1/4
    [TestCase(0b010_001_00, 16 * MiB - (4 * KiB), 4 * KiB)] // SEC: upper 4 KiB
    [TestCase(0b010_011_00, 16 * MiB - (16 * KiB), 16 * KiB)] // upper 16 KiB
    [TestCase(0b011_101_00, 0L, 32 * KiB)] // SEC + TB: lower 32 KiB
    [TestCase(0b000_111_00, 0L, 16 * MiB)] // all
    [TestCase(0b011_111_00, 0L, 16 * MiB)] // all, whatever SEC and TB say
    public void WinbondW25Q128_DecodesLikeTheDatasheetTable(int status1, long start, long length)
    {
        AddressRange range = ProtectionScheme.WinbondSecTb.Decode((byte)status1, 0, 16 * MiB);
        Assert.That(range, Is.EqualTo(new AddressRange(start, length)));
    }

    [TestCase(0b000_000_00, 0L, 16 * MiB)] // CMP with nothing selected protects everything
    [TestCase(0b000_001_00, 0L, 16 * MiB - (256 * KiB))] // everything but the upper 1/64
    [TestCase(0b001_001_00, 256 * KiB, 16 * MiB - (256 * KiB))] // everything but the lower 1/64
    [TestCase(0b000_111_00, 0L, 0L)] // nothing
    public void WinbondCmp_ComplementsTheRange(int status1, long start, long length)
    {
        AddressRange range = ProtectionScheme.WinbondSecTb.Decode((byte)status1, 0x40, 16 * MiB);
        Assert.That(range, Is.EqualTo(new AddressRange(start, length)));
    }

    // W25Q256JV (32 MiB): SR1 = TB(6) BP3-0(5-2); BP = n protects 2^(n-1) 64 KiB blocks.
    [TestCase(0b0_0001_00, 32 * MiB - (64 * KiB), 64 * KiB)]
    [TestCase(0b0_0100_00, 32 * MiB - (512 * KiB), 512 * KiB)]
    [TestCase(0b1_0010_00, 0L, 128 * KiB)]
    [TestCase(0b0_1001_00, 16 * MiB, 16 * MiB)]
    [TestCase(0b0_1010_00, 0L, 32 * MiB)]
    [TestCase(0b0_1111_00, 0L, 32 * MiB)]
    public void WinbondW25Q256_CountsBlocks(int status1, long start, long length)
    {
        AddressRange range = ProtectionScheme.WinbondBp4.Decode((byte)status1, 0, 32 * MiB);
        Assert.That(range, Is.EqualTo(new AddressRange(start, length)));
    }

    // Micron N25Q128 (16 MiB): SR1 = BP3(6) TB(5) BP2-0(4-2).
    [TestCase(0b0_0_001_00, 16 * MiB - (64 * KiB), 64 * KiB)]
    [TestCase(0b0_1_011_00, 0L, 256 * KiB)]
    [TestCase(0b1_0_000_00, 16 * MiB - (8 * MiB), 8 * MiB)] // BP3 alone = 8: 128 blocks
    [TestCase(0b1_0_001_00, 0L, 16 * MiB)]
    public void Micron_HasBp3AboveTb(int status1, long start, long length)
    {
        AddressRange range = ProtectionScheme.Micron.Decode((byte)status1, 0, 16 * MiB);
        Assert.That(range, Is.EqualTo(new AddressRange(start, length)));
    }

    [Test]
    public void PartsWhoseTbIsNotInTheStatusRegister_CountAnyBpBitAsTheWholePart()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ProtectionScheme.Bp4TopBottomUnknown.Decode(0x04, 0, 16 * MiB), Is.EqualTo(new AddressRange(0, 16 * MiB)));
            Assert.That(ProtectionScheme.Bp4TopBottomUnknown.Decode(0x40, 0, 16 * MiB).IsEmpty, Is.True, "bit 6 is QE there, not protection");
        });
    }

    [Test]
    public void ClearMask_CoversBpTbAndSec_ButNotSrpOrQe()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ProtectionScheme.WinbondSecTb.Status1ClearMask, Is.EqualTo(0x7c));
            Assert.That(ProtectionScheme.Micron.Status1ClearMask, Is.EqualTo(0x7c));
            Assert.That(ProtectionScheme.Bp4TopBottomUnknown.Status1ClearMask, Is.EqualTo(0x3c));
        });
    }
}
