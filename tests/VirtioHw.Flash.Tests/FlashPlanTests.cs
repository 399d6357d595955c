using FsCheck;
using FsCheck.Fluent;
using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

[TestFixture]
public class FlashPlanTests
{
    private const int Page = 256;
    private const int Sector = 4096;
    private static readonly IReadOnlyList<EraseType> WinbondErases = PartTable.FindByName("W25Q128JV")!.EraseTypes;
    private static readonly IReadOnlyList<EraseType> MicronErases = PartTable.FindByName("N25Q032A")!.EraseTypes;

    private static FlashPlan Plan(byte[] current, byte[] desired, long start = 0, IReadOnlyList<EraseType>? erases = null) =>
        FlashPlan.Create(start, current, desired, Page, erases ?? WinbondErases);

    [Test]
    public void IdenticalContents_NeedNoWork()
    {
        byte[] data = TestData.Random(2 * Sector, 1);
        FlashPlan plan = Plan(data, (byte[])data.Clone());
        Assert.That(plan.IsEmpty, Is.True);
    }

    [Test]
    public void ChangeThatOnlyClearsBits_IsProgrammedWithoutErase()
    {
        byte[] current = TestData.Filled(Sector, 0xf0);
        byte[] desired = (byte[])current.Clone();
        desired[300] = 0x30;
        desired[301] = 0x00;
        FlashPlan plan = Plan(current, desired);
        Assert.Multiple(() =>
        {
            Assert.That(plan.Erases, Is.Empty);
            Assert.That(plan.Programs, Is.EqualTo(new[] { new ProgramStep(300, 2) }));
        });
    }

    [Test]
    public void OneByteThatNeedsABitSet_ErasesOneSectorAndReprogramsIt()
    {
        byte[] current = TestData.Random(16 * Sector, 2);
        byte[] desired = (byte[])current.Clone();
        desired[5 * Sector + 17] = (byte)(current[(5 * Sector) + 17] | 0x01 | ~current[(5 * Sector) + 17]);
        FlashPlan plan = Plan(current, desired);
        Assert.Multiple(() =>
        {
            Assert.That(plan.Erases, Has.Count.EqualTo(1));
            Assert.That(plan.Erases[0].Address, Is.EqualTo(5 * Sector));
            Assert.That(plan.Erases[0].Type.Size, Is.EqualTo(Sector));
            Assert.That(plan.Programs.All(p => p.Address >= 5 * Sector && p.Address < 6 * Sector), Is.True);
        });
    }

    [Test]
    public void FullyChangedAlignedBlock_UsesOne64KErase()
    {
        byte[] current = TestData.Filled(2 * 65536, 0x00);
        byte[] desired = (byte[])current.Clone();
        desired.AsSpan(65536, 65536).Fill(0x11);
        FlashPlan plan = Plan(current, desired);
        Assert.That(plan.Erases.Select(e => (e.Address, e.Type.Size)), Is.EqualTo(new[] { (65536L, 65536) }));
    }

    [Test]
    public void ChangedSectorsNotFillingABlock_UseTheLargestAlignedBlocksThatFit()
    {
        // Units 1-15 of a 64 KiB block: 4 KiB erases up to the 32 KiB boundary, then one 32 KiB erase.
        byte[] current = TestData.Filled(65536, 0x00);
        byte[] desired = (byte[])current.Clone();
        desired.AsSpan(Sector, 65536 - Sector).Fill(0x01);
        FlashPlan plan = Plan(current, desired);
        Assert.That(plan.Erases.Select(e => (e.Address, e.Type.Size)), Is.EqualTo(new[]
        {
            (4096L, 4096), (8192L, 4096), (12288L, 4096), (16384L, 4096), (20480L, 4096), (24576L, 4096), (28672L, 4096),
            (32768L, 32768),
        }));
    }

    [Test]
    public void PartWithout32KErase_FallsBackToSectors()
    {
        byte[] current = TestData.Filled(65536, 0x00);
        byte[] desired = (byte[])current.Clone();
        desired.AsSpan(32768, 32768).Fill(0x01);
        FlashPlan plan = Plan(current, desired, erases: MicronErases);
        Assert.That(plan.Erases.Select(e => e.Type.Size), Is.EqualTo(Enumerable.Repeat(Sector, 8)));
    }

    [Test]
    public void AfterErase_PagesThatShouldBeBlank_AreNotProgrammed()
    {
        byte[] current = TestData.Filled(Sector, 0x00);
        byte[] desired = TestData.Filled(Sector, 0xff);
        desired[0] = 0x12;
        FlashPlan plan = Plan(current, desired);
        Assert.That(plan.Programs, Is.EqualTo(new[] { new ProgramStep(0, 1) }));
    }

    [Test]
    public void ProgramSteps_AreTrimmedToTheChangedSpanOfEachPage()
    {
        byte[] current = TestData.Filled(Sector, 0xff);
        byte[] desired = (byte[])current.Clone();
        desired[10] = 0;
        desired[20] = 0;
        desired[Page + 5] = 0;
        FlashPlan plan = Plan(current, desired);
        Assert.That(plan.Programs, Is.EqualTo(new[] { new ProgramStep(10, 11), new ProgramStep(Page + 5, 1) }));
    }

    [Test]
    public void MisalignedRegion_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => Plan(new byte[Sector], new byte[Sector], start: 100));
    }

    [Test]
    public void DescribeOfWritePlan_ListsErasesAndPageRuns()
    {
        byte[] current = TestData.Filled(2 * Sector, 0xff);
        current.AsSpan(Sector, 2 * Page).Fill(0x00);
        byte[] desired = (byte[])current.Clone();
        desired.AsSpan(Sector, 2 * Page).Fill(0x0f);
        string text = new WritePlan([Plan(current, desired)]).Describe();
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("erase   0x001000-0x001fff (4 KiB block, opcode 0x20)"));
            Assert.That(text, Does.Contain("program 0x001000-0x0011ff (2 pages, 512 bytes)"));
        });
    }

    /// <summary>An old region and a new one made from it by overwrites, bit clears, blanking and copies.</summary>
    private static Arbitrary<(byte[] Old, byte[] New)> ImagePairs()
    {
        Gen<(byte[], byte[])> gen =
            from units in Gen.Choose(1, 24)
            from seed in Gen.Choose(0, int.MaxValue)
            from edits in Gen.ListOf(Gen.Zip(Gen.Choose(0, 3), Gen.Choose(0, int.MaxValue)), 6)
            select MakePair(units * Sector, seed, edits);
        return gen.ToArbitrary();
    }

    private static (byte[] Old, byte[] New) MakePair(int length, int seed, IEnumerable<(int Kind, int Seed)> edits)
    {
        var random = new Random(seed);
        byte[] old = new byte[length];
        // Half the regions start blank, as a fresh part does.
        if (random.Next(2) == 0)
        {
            random.NextBytes(old);
        }
        else
        {
            old.AsSpan().Fill(0xff);
        }

        byte[] updated = (byte[])old.Clone();
        foreach ((int kind, int editSeed) in edits)
        {
            var r = new Random(editSeed);
            int start = r.Next(length);
            int count = Math.Min(length - start, 1 + r.Next(kind == 3 ? 70000 : 600));
            Span<byte> span = updated.AsSpan(start, count);
            switch (kind)
            {
                case 0:
                    r.NextBytes(span);
                    break;
                case 1:
                    for (int i = 0; i < span.Length; i++)
                    {
                        span[i] &= (byte)r.Next(256);
                    }

                    break;
                case 2:
                    span.Fill(0xff);
                    break;
                default:
                    span.Fill((byte)r.Next(256));
                    break;
            }
        }

        return (old, updated);
    }

    [Test]
    public void Property_RunningThePlanOnTheOldContents_GivesTheNewContents()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), Prop.ForAll(ImagePairs(), pair =>
        {
            FlashPlan plan = Plan(pair.Old, pair.New);
            byte[] result = (byte[])pair.Old.Clone();
            plan.ApplyTo(result);
            return result.AsSpan().SequenceEqual(pair.New);
        }));
    }

    [Test]
    public void Property_EveryEraseCoversOnlyUnitsThatNeedAnErase()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), Prop.ForAll(ImagePairs(), pair =>
        {
            FlashPlan plan = Plan(pair.Old, pair.New);
            return plan.Erases.All(e =>
                e.Address % e.Type.Size == 0 &&
                Enumerable.Range(0, e.Type.Size / Sector).All(u =>
                {
                    int offset = (int)e.Address + (u * Sector);
                    return FlashPlan.NeedsErase(pair.Old.AsSpan(offset, Sector), pair.New.AsSpan(offset, Sector));
                }));
        }));
    }

    [Test]
    public void Property_ProgramsStayInsideOnePage_AndOnlyPagesThatDifferAreProgrammed()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), Prop.ForAll(ImagePairs(), pair =>
        {
            FlashPlan plan = Plan(pair.Old, pair.New);
            var erased = plan.Erases.Select(e => e.Range).ToList();
            return plan.Programs.All(p =>
            {
                long page = p.Address / Page * Page;
                bool inPage = p.Address + p.Length <= page + Page && p.Length > 0;
                ReadOnlySpan<byte> want = pair.New.AsSpan((int)page, Page);
                bool pageErased = erased.Any(r => r.Contains(page));
                bool differs = pageErased ? want.ContainsAnyExcept((byte)0xff) : !want.SequenceEqual(pair.Old.AsSpan((int)page, Page));
                return inPage && differs;
            });
        }));
    }

    [Test]
    public void Property_WhenNoBitMustBeSet_ThereIsNoErase()
    {
        Gen<(byte[], byte[])> clearsOnly =
            from units in Gen.Choose(1, 8)
            from seed in Gen.Choose(0, int.MaxValue)
            select ClearOnlyPair(units * Sector, seed);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(100), Prop.ForAll(clearsOnly.ToArbitrary(), pair =>
            Plan(pair.Item1, pair.Item2).Erases.Count == 0));
    }

    private static (byte[], byte[]) ClearOnlyPair(int length, int seed)
    {
        var random = new Random(seed);
        byte[] old = new byte[length];
        random.NextBytes(old);
        byte[] updated = old.Select(b => (byte)(b & random.Next(256))).ToArray();
        return (old, updated);
    }
}
