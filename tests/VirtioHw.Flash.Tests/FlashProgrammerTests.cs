using FsCheck;
using FsCheck.Fluent;
using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>The programmer against the chip model, once with 3-byte and once with 4-byte addressing.</summary>
[TestFixture("W25Q32JV")]
[TestFixture("W25Q256JV")]
public class FlashProgrammerTests
{
    private readonly SimulatedChipSpec _spec;
    private ModelHarness _h = null!;

    public FlashProgrammerTests(string chip) => _spec = SimulatedChipSpec.ForName(chip);

    /// <summary>Where images go: above 16 MiB on the 32 MiB part, so 4-byte addresses are exercised.</summary>
    private long Base => _spec.Part.Size > 16 * PartTable.MiB ? 0x1800000 : 0x100000;

    [SetUp]
    public void SetUp() => _h = new ModelHarness(_spec);

    [TearDown]
    public void TearDown() => _h.Dispose();

    private WriteOutcome Write(byte[] image, long? at = null, bool unprotect = false, bool dryRun = false)
    {
        using SpiNorFlash flash = SpiNorFlash.Open(_h.Bus);
        return new FlashProgrammer(flash).Write(FlashImage.FromBytes("image.bin", image), at ?? Base, new WriteOptions { DryRun = dryRun, Unprotect = unprotect });
    }

    private byte[] FlashAt(long address, int length) => _h.Model.Contents.Slice((int)address, length).ToArray();

    private int OperationsSince(int start, SimOperationKind kind) =>
        _h.Model.Operations.Skip(start).Count(o => o.Kind == kind);

    [Test]
    public void Write_BlankFlash_ProgramsEveryPageAndVerifies()
    {
        byte[] image = TestData.Random(20_000, 1);
        WriteOutcome outcome = Write(image);
        Assert.Multiple(() =>
        {
            Assert.That(FlashAt(Base, image.Length), Is.EqualTo(image));
            Assert.That(outcome.Plan.Erases, Is.Empty, "a blank part needs no erase");
            Assert.That(outcome.Plan.PageCount, Is.EqualTo((20_000 + 255) / 256));
            Assert.That(_h.Model.ProgrammedBytes, Is.EqualTo(20_000));
        });
    }

    [Test]
    public void Write_OneByteChange_ErasesAtMostOneSector()
    {
        byte[] image = TestData.Random(64 * 1024, 2);
        Write(image);
        image[40_000] = (byte)~image[40_000];
        int before = _h.Model.Operations.Count;
        Write(image);
        Assert.Multiple(() =>
        {
            Assert.That(FlashAt(Base, image.Length), Is.EqualTo(image));
            Assert.That(OperationsSince(before, SimOperationKind.SectorErase), Is.LessThanOrEqualTo(1));
            Assert.That(OperationsSince(before, SimOperationKind.BlockErase32K) + OperationsSince(before, SimOperationKind.BlockErase64K), Is.Zero);
            Assert.That(OperationsSince(before, SimOperationKind.PageProgram), Is.LessThanOrEqualTo(16), "only the erased sector's pages");
        });
    }

    [Test]
    public void Write_ImageThatOnlyClearsBits_DoesNotErase()
    {
        byte[] image = TestData.Filled(8192, 0xf7);
        Write(image);
        for (int i = 0; i < image.Length; i += 3)
        {
            image[i] &= 0x31;
        }

        int before = _h.Model.Operations.Count;
        WriteOutcome outcome = Write(image);
        Assert.Multiple(() =>
        {
            Assert.That(FlashAt(Base, image.Length), Is.EqualTo(image));
            Assert.That(outcome.Plan.Erases, Is.Empty);
            Assert.That(_h.Model.Operations.Skip(before).All(o => o.Kind == SimOperationKind.PageProgram), Is.True);
        });
    }

    [Test]
    public void Write_SameImageAgain_ChangesNothing()
    {
        byte[] image = TestData.Random(5000, 3);
        Write(image);
        int before = _h.Model.Operations.Count;
        WriteOutcome outcome = Write(image);
        Assert.Multiple(() =>
        {
            Assert.That(outcome.Plan.IsEmpty, Is.True);
            Assert.That(_h.Model.Operations, Has.Count.EqualTo(before));
        });
    }

    [Test]
    public void Write_KeepsBytesOutsideTheImageInsideAnErasedSector()
    {
        byte[] old = TestData.Random(4096, 4);
        _h.Model.Load(Base, old);
        byte[] image = TestData.Filled(100, 0xff);
        Write(image, Base + 1000);
        byte[] expected = (byte[])old.Clone();
        image.CopyTo(expected, 1000);
        Assert.That(FlashAt(Base, 4096), Is.EqualTo(expected));
    }

    [Test]
    public void Write_ImageLargerThanTheFlash_IsRefusedBeforeAnythingIsTouched()
    {
        var image = new byte[(int)Math.Min(_spec.Part.Size + 1, int.MaxValue)];
        var e = Assert.Throws<FlashException>(() => Write(image, 0));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("image.bin").And.Contain("past the end"));
            Assert.That(_h.Model.Operations, Is.Empty);
        });
    }

    [Test]
    public void Write_OffsetPastTheEnd_IsRefused()
    {
        var e = Assert.Throws<FlashException>(() => Write([1, 2, 3], _spec.Part.Size));
        Assert.That(e!.Message, Does.StartWith($"offset 0x{_spec.Part.Size:x} is past the end"));
    }

    [Test]
    public void Write_IntoProtectedRange_IsRefusedAndNamesUnprotect()
    {
        // Everything protected: BP bits all set.
        _h.Model.SetStatusRegisters(_spec.Part.Protection.Status1ClearMask);
        var e = Assert.Throws<FlashException>(() => Write(TestData.Random(300, 5)));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("write-protected").And.Contain("--unprotect"));
            Assert.That(_h.Model.Operations, Is.Empty);
            Assert.That(FlashAt(Base, 300).All(b => b == 0xff), Is.True);
        });
    }

    [Test]
    public void Write_IntoProtectedRange_WithUnprotect_ClearsTheBitsThenWrites()
    {
        _h.Model.SetStatusRegisters(_spec.Part.Protection.Status1ClearMask);
        byte[] image = TestData.Random(300, 6);
        WriteOutcome outcome = Write(image, unprotect: true);
        Assert.Multiple(() =>
        {
            Assert.That(outcome.ProtectionCleared, Is.True);
            Assert.That(_h.Model.StatusRegister1 & _spec.Part.Protection.Status1ClearMask, Is.Zero);
            Assert.That(FlashAt(Base, image.Length), Is.EqualTo(image));
        });
    }

    [Test]
    public void Write_OutsideTheProtectedRange_IsAllowed()
    {
        // BP0 alone: the top of the part only (1/64 or one 64 KiB block).
        _h.Model.SetStatusRegisters(0x04);
        byte[] image = TestData.Random(300, 7);
        Write(image, 0);
        Assert.That(FlashAt(0, image.Length), Is.EqualTo(image));
    }

    [Test]
    public void Write_WithStatusRegisterLocked_Unprotect_ExplainsTheLock()
    {
        _h.Model.SetStatusRegisters((byte)(0x80 | _spec.Part.Protection.Status1ClearMask));
        _h.Model.WriteProtectPinHigh = false;
        var e = Assert.Throws<FlashException>(() => Write(TestData.Random(10, 8), unprotect: true));
        Assert.That(e!.Message, Does.Contain("locked"));
    }

    [Test]
    public void Write_CorruptedReadBack_FailsNamingTheAddress()
    {
        byte[] image = TestData.Filled(1024, 0x00);
        _h.Model.CorruptReads(Base + 777, 0x10);
        var e = Assert.Throws<FlashVerifyException>(() => Write(image));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Mismatches, Is.EqualTo(new[] { Base + 777 }));
            Assert.That(e.Message, Is.EqualTo($"verify after programming failed: 1 byte(s) differ from the image, at 0x{Base + 777:x6}"));
            Assert.That(e.ExitCode, Is.EqualTo(FlashVerifyException.VerifyExitCode));
        });
    }

    [Test]
    public void Write_ReadGlitchDuringVerify_IsRetriedAndSucceeds()
    {
        byte[] image = TestData.Filled(1024, 0x00);
        _h.Model.CorruptReads(Base + 5, 0x01, times: 2);
        WriteOutcome outcome = Write(image);
        Assert.Multiple(() =>
        {
            Assert.That(outcome.RetriedRanges, Is.EqualTo(1));
            Assert.That(FlashAt(Base, image.Length), Is.EqualTo(image));
        });
    }

    [Test]
    public void DryRun_PlansButChangesNothing()
    {
        _h.Model.Load(Base, TestData.Filled(4096, 0x00));
        WriteOutcome outcome = Write(TestData.Random(4096, 9), dryRun: true);
        Assert.Multiple(() =>
        {
            Assert.That(outcome.DryRun, Is.True);
            Assert.That(outcome.Plan.Erases.Count(), Is.EqualTo(1));
            Assert.That(_h.Model.Operations, Is.Empty);
        });
    }

    [Test]
    public void Verify_Mismatch_NamesEveryDifferingAddressUpToTheLimit()
    {
        byte[] image = TestData.Filled(64, 0x00);
        using SpiNorFlash flash = SpiNorFlash.Open(_h.Bus);
        var e = Assert.Throws<FlashVerifyException>(() =>
            new FlashProgrammer(flash).Verify(FlashImage.FromBytes("x.bin", image), Base));
        Assert.Multiple(() =>
        {
            Assert.That(e!.TotalMismatches, Is.EqualTo(64));
            Assert.That(e.Mismatches, Has.Count.EqualTo(FlashVerifyException.MaxListed));
            Assert.That(e.Mismatches[0], Is.EqualTo(Base));
            Assert.That(e.Message, Does.EndWith($"at 0x{Base:x6}-0x{Base + 63:x6}"));
        });
    }

    [Test]
    public void EraseRange_SkipsBlankSectors_AndLeavesTheRangeBlank()
    {
        _h.Model.Load(Base + 8192, TestData.Filled(10, 0x00));
        using SpiNorFlash flash = SpiNorFlash.Open(_h.Bus);
        new FlashProgrammer(flash).Erase(new AddressRange(Base, 65536));
        Assert.Multiple(() =>
        {
            Assert.That(_h.Model.Operations.Select(o => (o.Kind, o.Address)), Is.EqualTo(new[] { (SimOperationKind.SectorErase, Base + 8192) }));
            Assert.That(FlashAt(Base, 65536).All(b => b == 0xff), Is.True);
        });
    }

    [Test]
    public void EraseRange_Unaligned_IsRefusedNamingTheOptions()
    {
        using SpiNorFlash flash = SpiNorFlash.Open(_h.Bus);
        var e = Assert.Throws<FlashException>(() => new FlashProgrammer(flash).Erase(new AddressRange(Base + 1, 4096)));
        Assert.That(e!.Message, Does.Contain("--offset").And.Contain("4 KiB"));
    }

    [Test]
    public void EraseAll_UsesChipErase_AndChecksBlank()
    {
        _h.Model.Load(12345, [0x00]);
        using SpiNorFlash flash = SpiNorFlash.Open(_h.Bus);
        new FlashProgrammer(flash).EraseAll();
        Assert.Multiple(() =>
        {
            Assert.That(_h.Model.Operations.Single().Kind, Is.EqualTo(SimOperationKind.ChipErase));
            Assert.That(_h.Model.Contents.ContainsAnyExcept((byte)0xff), Is.False);
        });
    }

    [Test]
    public void Property_AnyImageOverAnyContents_LeavesTheImageAndKeepsEverythingElse()
    {
        Gen<(int Seed, int Offset, int Length, int Fill)> cases =
            from seed in Gen.Choose(0, int.MaxValue)
            from offset in Gen.Choose(0, 3 * 65536)
            from length in Gen.Choose(1, 40_000)
            from fill in Gen.Choose(0, 3)
            select (seed, offset, length, fill);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(25), Prop.ForAll(cases.ToArbitrary(), c =>
        {
            using var h = new ModelHarness(_spec);
            var random = new Random(c.Seed);
            byte[] old = new byte[4 * 65536];
            random.NextBytes(old);
            h.Model.Load(Base, old);
            byte[] image = new byte[c.Length];
            switch (c.Fill)
            {
                case 0:
                    random.NextBytes(image);
                    break;
                case 1:
                    // Only clears bits of what is there.
                    for (int i = 0; i < image.Length; i++)
                    {
                        image[i] = (byte)(old[c.Offset + i] & random.Next(256));
                    }

                    break;
                case 2:
                    image.AsSpan().Fill(0xff);
                    break;
                default:
                    old.AsSpan(c.Offset, c.Length).CopyTo(image);
                    break;
            }

            using (SpiNorFlash flash = SpiNorFlash.Open(h.Bus))
            {
                new FlashProgrammer(flash).Write(FlashImage.FromBytes("p.bin", image), Base + c.Offset);
            }

            byte[] expected = (byte[])old.Clone();
            image.CopyTo(expected, c.Offset);
            bool erasedOnlyWhereNeeded = h.Model.Operations
                .Where(o => o.Kind != SimOperationKind.PageProgram)
                .All(o => Enumerable.Range(0, o.Length / 4096).All(u =>
                {
                    int unit = (int)(o.Address - Base) + (u * 4096);
                    return FlashPlan.NeedsErase(old.AsSpan(unit, 4096), expected.AsSpan(unit, 4096));
                }));
            return h.Model.Contents.Slice((int)Base, old.Length).SequenceEqual(expected) && erasedOnlyWhereNeeded;
        }));
    }

    [Test]
    public void Open_IdentifiesThePartFromTheTable()
    {
        using SpiNorFlash flash = SpiNorFlash.Open(_h.Bus);
        Assert.Multiple(() =>
        {
            Assert.That(flash.Part.Name, Is.EqualTo(_spec.Part.Name));
            Assert.That(flash.AddressBytes, Is.EqualTo(_spec.Part.Size > 16 * PartTable.MiB ? 4 : 3));
        });
    }
}

/// <summary>Programmer behaviour that does not depend on the part.</summary>
[TestFixture]
public class FlashDriverTests
{
    [Test]
    public void Open_WithNothingOnTheBus_SaysNoFlashAnswered()
    {
        using var bus = new FloatingBus();
        var e = Assert.Throws<FlashException>(() => SpiNorFlash.Open(bus));
        Assert.That(e!.Message, Does.StartWith("no flash answered on the SPI bus (JEDEC ID reads ff ff ff)"));
    }

    [Test]
    public void Open_LetsAnOperationLeftByAnEarlierRunFinishFirst()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q32JV);
        h.Erase(0xd8, 0);
        Assert.That(h.Model.IsBusy, Is.True);
        using SpiNorFlash flash = SpiNorFlash.Open(h.Bus);
        Assert.That(h.Model.IsBusy, Is.False);
        Assert.That(h.Model.Operations, Has.Count.EqualTo(1), "the erase ran to its end rather than being reset away");
    }

    [Test]
    public void Open_WakesAPartLeftInPowerDown()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q32JV);
        h.Command(0xb9);
        using SpiNorFlash flash = SpiNorFlash.Open(h.Bus);
        Assert.That(flash.Part.Name, Is.EqualTo("W25Q32JV"));
    }

    [Test]
    public void Program_AcrossAPageBoundary_IsAProgrammingError()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q32JV);
        using SpiNorFlash flash = SpiNorFlash.Open(h.Bus);
        Assert.Throws<ArgumentException>(() => flash.ProgramPage(250, new byte[10]));
    }

    /// <summary>A bus with no device: MISO floats high.</summary>
    private sealed class FloatingBus() : SpiBus(new SpiBusSettings("floating"))
    {
        public override void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read)
        {
            RequireSelected();
            read.Fill(0xff);
        }

        public override void Wait(TimeSpan duration)
        {
        }

        protected override void AssertChipSelect()
        {
        }

        protected override void ReleaseChipSelect()
        {
        }
    }
}
