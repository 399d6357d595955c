using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>
/// The flash record: written after a verified run, trusted by the next one (which then reads only
/// the record and what it changes), withdrawn before the first change so a cut run leaves no record
/// that claims what the part does not hold, and set aside when it is missing, damaged, about other
/// addresses, switched off or overruled.
/// </summary>
[TestFixture]
public class FlashRecordTests
{
    private const int Sector = 4096;
    private const long Base = 0x40000;
    private const int ImageLength = 16 * Sector;

    private static readonly SimulatedChipSpec Spec = SimulatedChipSpec.W25Q128JV;

    private static readonly AddressRange DefaultArea = new(Spec.Part.Size - (64 * 1024), 64 * 1024);

    /// <summary>A chip model on a bus that logs the address and length of every read command.</summary>
    private sealed class ReadLoggingBus : SpiBus
    {
        private readonly SimulatedFlash _model;
        private readonly List<byte> _header = [];
        private long _bytes;

        public ReadLoggingBus(SimulatedFlash model)
            : base(new SpiBusSettings(SpiBusSettings.SimBackend) { ClockHz = 10_000_000, Simulation = model })
        {
            _model = model;
            _model.BusClockHz = 10_000_000;
        }

        public List<AddressRange> Reads { get; } = [];

        public override TimeProvider Time => _model.Clock;

        public override void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read)
        {
            for (int i = 0; i < write.Length; i++)
            {
                read[i] = Exchange(write[i]);
            }
        }

        public override void Wait(TimeSpan duration) => _model.Clock.Advance(duration);

        protected override void AssertChipSelect()
        {
            _model.Select();
            _header.Clear();
            _bytes = 0;
        }

        protected override void ReleaseChipSelect()
        {
            _model.Deselect();
            // Fast read (0x0b): opcode, a 3-byte address, a dummy byte, then the data.
            if (_header.Count >= 5 && _header[0] == SpiNorOpcodes.FastRead && _bytes > 5)
            {
                long address = (_header[1] << 16) | (_header[2] << 8) | _header[3];
                Reads.Add(new AddressRange(address, _bytes - 5));
            }
        }

        private byte Exchange(byte mosi)
        {
            if (_header.Count < 5)
            {
                _header.Add(mosi);
            }

            _bytes++;
            return _model.Exchange(mosi);
        }
    }

    private static byte[] Image(int seed) => TestData.Random(ImageLength, seed);

    private static WriteOutcome Write(SimulatedFlash model, byte[] image, FlashRecordSettings? record = null,
        bool fullCompare = false, ReadLoggingBus? bus = null, long address = Base)
    {
        using SpiBus spi = bus ?? new ReadLoggingBus(model);
        using SpiNorFlash flash = SpiNorFlash.Open(spi);
        return new FlashProgrammer(flash, record: record ?? FlashRecordSettings.LastBlock)
            .Write(FlashImage.FromBytes("image.bin", image), address, new WriteOptions { FullCompare = fullCompare });
    }

    private static FlashRecord? StandingRecord(SimulatedFlash model, AddressRange? area = null)
    {
        using var bus = new ReadLoggingBus(model);
        using SpiNorFlash flash = SpiNorFlash.Open(bus);
        var records = new FlashRecordArea(flash, area ?? DefaultArea);
        return records.Scan();
    }

    private static bool Holds(SimulatedFlash model, byte[] image, long address = Base) =>
        model.Contents.Slice((int)address, image.Length).SequenceEqual(image);

    [Test]
    public void OneByteChange_AfterARecordedRun_ProgramsOneSectorAndReadsOnlyTheRecordAndThatSector()
    {
        var model = new SimulatedFlash(Spec);
        byte[] image = Image(1);
        WriteOutcome first = Write(model, image);
        Assert.That(first.Plan.FromRecord, Is.False, "a blank part has no record");
        Assert.That(first.RecordAddress, Is.EqualTo(DefaultArea.Start), "the first record starts the area");
        FlashRecord record = StandingRecord(model) ?? throw new AssertionException("no record after a verified run");
        Assert.That(record.Regions, Is.EqualTo(new[] { new AddressRange(Base, ImageLength) }));
        Assert.That(record.ImageLength, Is.EqualTo(ImageLength));
        Assert.That(record.SectorSize, Is.EqualTo(Sector));

        int changed = (5 * Sector) + 123;
        image[changed] = (byte)~image[changed];
        var bus = new ReadLoggingBus(model);
        long programmedBefore = model.ProgrammedBytes;
        WriteOutcome second = Write(model, image, bus: bus);

        Assert.That(Holds(model, image), Is.True);
        Assert.That(second.Plan.FromRecord, Is.True, second.Plan.Basis);
        Assert.That(second.Plan.ReadBytes, Is.Zero, "a sector-aligned image reads nothing to plan");
        var changedSector = new AddressRange(Base + (5 * Sector), Sector);
        Assert.That(second.Plan.Erases.Select(e => e.Range), Is.EqualTo(new[] { changedSector }));
        Assert.That(second.Plan.ProgramBytes, Is.EqualTo(Sector));

        List<AddressRange> outsideArea = bus.Reads.Where(r => !DefaultArea.Overlaps(r)).ToList();
        Assert.That(outsideArea, Is.EqualTo(new[] { changedSector }), "only the changed sector is read, by the verify");
        Assert.That(bus.Reads.Where(r => DefaultArea.Overlaps(r)).All(r => r.Start >= DefaultArea.Start && r.End <= DefaultArea.End), Is.True);
        long recordReads = bus.Reads.Where(r => DefaultArea.Overlaps(r)).Sum(r => r.Length);
        Assert.That(recordReads, Is.LessThanOrEqualTo((2 * record.Length) + (3 * FlashRecord.HeaderLength)),
            "the area is read for the headers, the standing record and the new record's read-back");
        Assert.That(model.ProgrammedBytes - programmedBefore, Is.EqualTo(Sector + record.Length + 2),
            "the sector, the new record and its commit byte, and the flag byte that withdrew the old one");

        Assert.That(second.RecordAddress, Is.EqualTo(DefaultArea.Start + 512), "appended on the next page after the first record");
        Assert.That(model.Contents[(int)DefaultArea.Start + FlashRecord.FlagOffset], Is.Zero, "the first record is withdrawn");
        Assert.That(model.Operations.Count(o => o.Kind != SimOperationKind.PageProgram && DefaultArea.Contains(o.Address)), Is.Zero,
            "appending costs page programs, not an erase");

        WriteOutcome third = Write(model, image);
        Assert.That(third.Plan.FromRecord && third.Plan.IsEmpty, Is.True, "the same image again: nothing to do");
        Assert.That(third.RecordAddress, Is.Null, "the standing record already describes it");
    }

    [Test]
    public void NoRecord_PlansByReadingTheWholeRange()
    {
        var model = new SimulatedFlash(Spec);
        byte[] image = Image(2);
        model.Load(Base, image);
        image[100] ^= 0x0f;
        var bus = new ReadLoggingBus(model);
        WriteOutcome outcome = Write(model, image, bus: bus);
        Assert.That(outcome.Plan.FromRecord, Is.False);
        Assert.That(outcome.Plan.Basis, Does.Contain("no flash record"));
        Assert.That(outcome.Plan.ReadBytes, Is.EqualTo(ImageLength));
        Assert.That(bus.Reads.Where(r => !DefaultArea.Overlaps(r)).Sum(r => r.Length), Is.GreaterThanOrEqualTo(ImageLength));
        Assert.That(Holds(model, image), Is.True);
        Assert.That(StandingRecord(model), Is.Not.Null, "the run leaves a record for the next");
    }

    [Test]
    public void CorruptedRecord_FailsItsCrc_AndTheNextRunComparesEverything()
    {
        var model = new SimulatedFlash(Spec);
        byte[] image = Image(3);
        Write(model, image);
        // One bit of a sector hash cleared, as a disturbed cell would.
        int hashByte = (int)DefaultArea.Start + FlashRecord.HeaderLength + 16 + 40;
        while (model.Contents[hashByte] == 0)
        {
            hashByte++;
        }

        byte value = model.Contents[hashByte];
        model.Load(hashByte, [(byte)(value & (value - 1))]);
        Assert.That(StandingRecord(model), Is.Null, "the CRC no longer matches");

        image[7 * Sector] ^= 0xff;
        WriteOutcome outcome = Write(model, image);
        Assert.That(outcome.Plan.FromRecord, Is.False);
        Assert.That(outcome.Plan.ReadBytes, Is.EqualTo(ImageLength));
        Assert.That(Holds(model, image), Is.True);
        Assert.That(StandingRecord(model), Is.Not.Null);
    }

    [Test]
    public void RecordOfOtherAddresses_IsNotUsed()
    {
        var model = new SimulatedFlash(Spec);
        byte[] image = Image(4);
        Write(model, image);
        long elsewhere = Base + (8 * Sector); // overlaps half of the recorded range
        WriteOutcome outcome = Write(model, image, address: elsewhere);
        Assert.That(outcome.Plan.FromRecord, Is.False);
        Assert.That(outcome.Plan.Basis, Does.Contain("other addresses"));
        Assert.That(Holds(model, image, elsewhere), Is.True);
        FlashRecord record = StandingRecord(model) ?? throw new AssertionException("no record");
        Assert.That(record.Regions, Is.EqualTo(new[] { new AddressRange(elsewhere, ImageLength) }), "the record now describes the new range only");
    }

    [Test]
    public void SwitchedOff_NoRecordIsReadOrWritten()
    {
        var model = new SimulatedFlash(Spec);
        byte[] image = Image(5);
        Write(model, image, FlashRecordSettings.Off);
        image[3] ^= 0x80;
        var bus = new ReadLoggingBus(model);
        WriteOutcome outcome = Write(model, image, FlashRecordSettings.Off, bus: bus);
        Assert.That(outcome.Plan.FromRecord, Is.False);
        Assert.That(outcome.Plan.Basis, Does.Contain("switched off"));
        Assert.That(outcome.RecordAddress, Is.Null);
        Assert.That(bus.Reads.Any(r => r.Overlaps(DefaultArea)), Is.False, "the area is not read");
        Assert.That(model.Contents.Slice((int)DefaultArea.Start, (int)DefaultArea.Length).ContainsAnyExcept((byte)0xff), Is.False, "nor written");
        Assert.That(Holds(model, image), Is.True);
    }

    /// <summary>The part holds an image with its record; the next run changes two sectors.</summary>
    [Test]
    public void RunWithTheRecordOffOrMoved_WithdrawsTheOneLeftInTheReservedArea()
    {
        var moved = new AddressRange(DefaultArea.Start - (64 * 1024), 64 * 1024);
        foreach (FlashRecordSettings elsewhere in new[]
        {
            new FlashRecordSettings { Enabled = false, WithdrawFrom = FlashRecordSettings.LastBlock },
            new FlashRecordSettings { AreaStart = moved.Start, WithdrawFrom = FlashRecordSettings.LastBlock },
        })
        {
            var model = new SimulatedFlash(Spec);
            byte[] first = Image(10);
            Write(model, first);
            Assert.That(StandingRecord(model), Is.Not.Null);

            // Another image where the default record would still vouch for the first one.
            byte[] second = Image(11);
            Write(model, second, elsewhere);
            Assert.That(StandingRecord(model), Is.Null, "the reserved area's record describes what the part no longer holds");
            Assert.That(Holds(model, second), Is.True);

            // Back to the default: the first image again must be written, not trusted to be there.
            WriteOutcome back = Write(model, first);
            Assert.That(back.Plan.FromRecord, Is.False, back.Plan.Basis);
            Assert.That(Holds(model, first), Is.True);
        }
    }

    private static SimulatedFlash Recorded(byte[] old)
    {
        var model = new SimulatedFlash(Spec) { TraceTransactions = true };
        Write(model, old);
        return model;
    }

    /// <summary>Whether every sector a standing record covers holds what its hash says.</summary>
    private static bool RecordIsTrue(SimulatedFlash model)
    {
        if (StandingRecord(model) is not FlashRecord record)
        {
            return true;
        }

        return record.Regions.All(r =>
        {
            for (long a = r.Start; a < r.End; a += record.SectorSize)
            {
                if (!FlashRecord.HashOf(model.Contents.Slice((int)a, record.SectorSize)).AsSpan().SequenceEqual(record.HashAt(a)))
                {
                    return false;
                }
            }

            return true;
        });
    }

    [Test]
    public void CutAtEveryStepOfARecordedRun_NoRecordClaimsWhatThePartDoesNotHold_AndTheNextRunFinishes()
    {
        byte[] old = Image(10);
        byte[] image = (byte[])old.Clone();
        image[(3 * Sector) + 5] ^= 0xff;
        image[(9 * Sector) + 700] ^= 0xff;

        SimulatedFlash baseline = Recorded(old);
        long start = baseline.BusBytes;
        int firstOperation = baseline.Operations.Count;
        Write(baseline, image);
        Assert.That(Holds(baseline, image), Is.True);
        long[] ends = baseline.TransactionEnds.Where(e => e > start).ToArray();
        var cuts = new SortedSet<long>();
        long previous = start;
        foreach (long end in ends)
        {
            cuts.Add(end);
            cuts.Add((previous + end) / 2);
            previous = end;
        }

        var arms = cuts.Where(c => c < baseline.BusBytes)
            .Select(c => (Name: $"cut after {c - start} bus bytes of the run", Arm: (Action<SimulatedFlash>)(m => m.SchedulePowerLossAfterBusBytes(c))))
            .Concat(Enumerable.Range(firstOperation, baseline.Operations.Count - firstOperation)
                .Select(op => (Name: $"cut half-way through {baseline.Operations[op].Kind} at 0x{baseline.Operations[op].Address:x}",
                    Arm: (Action<SimulatedFlash>)(m => m.SchedulePowerLossDuringOperation(op - firstOperation, 0.5)))))
            .ToList();
        Assert.That(arms, Has.Count.GreaterThan(50), "the run has enough steps to be worth cutting");

        int withoutRecord = 0;
        foreach ((string name, Action<SimulatedFlash> arm) in arms)
        {
            SimulatedFlash model = Recorded(old);
            arm(model);
            Assert.Throws<SimulatedPowerLossException>(() => Write(model, image), $"{name}: the cut run did not fail");
            model.RestorePower();
            Assert.That(RecordIsTrue(model), Is.True, $"{name}: a standing record claims content the part does not hold");
            bool standing = StandingRecord(model) is not null;
            WriteOutcome next = Write(model, image);
            Assert.That(Holds(model, image), Is.True, $"{name}: the next run did not leave the image in place");
            Assert.That(StandingRecord(model), Is.Not.Null, $"{name}: the next run left no record");
            if (!standing)
            {
                withoutRecord++;
                Assert.That(next.Plan.FromRecord, Is.False, name);
                Assert.That(next.Plan.ReadBytes, Is.EqualTo(ImageLength), $"{name}: the next run compares the whole range");
            }
        }

        Assert.That(withoutRecord, Is.GreaterThan(arms.Count / 2), "most cuts fall between the withdrawal and the new record");
    }

    [Test]
    public void SectorsTheImageFillsInPart_AreRead_AndTheBytesAroundTheImageKept()
    {
        var model = new SimulatedFlash(Spec);
        byte[] around = TestData.Random(3 * Sector, 12);
        model.Load(Base, around);
        byte[] image = TestData.Random(10_000, 13); // 0x064 .. 0x2774: sectors 0 and 2 in part, 1 whole
        Write(model, image, address: Base + 100);
        image[5000] ^= 0xff;
        image[9000] ^= 0xff;
        var bus = new ReadLoggingBus(model);
        WriteOutcome outcome = Write(model, image, bus: bus, address: Base + 100);

        Assert.That(outcome.Plan.FromRecord, Is.True, outcome.Plan.Basis);
        Assert.That(outcome.Plan.ReadBytes, Is.EqualTo(2 * Sector));
        Assert.That(outcome.Plan.Basis, Does.Contain("1 of 3 sector(s) differ").And.Contain("2 read"));
        Assert.That(Holds(model, image, Base + 100), Is.True);
        Assert.That(model.Contents.Slice((int)Base, 100).SequenceEqual(around.AsSpan(0, 100)), Is.True, "the bytes before the image");
        Assert.That(model.Contents.Slice((int)Base + 10_100, (3 * Sector) - 10_100).SequenceEqual(around.AsSpan(10_100)), Is.True, "the bytes after it");
        var whole = new AddressRange(Base + Sector, Sector);
        Assert.That(bus.Reads.Where(r => r.Overlaps(whole)).Sum(r => Math.Min(r.End, whole.End) - Math.Max(r.Start, whole.Start)), Is.EqualTo(Sector),
            "the sector the image fills whole is read once, by the verify, not to plan");
    }

    [Test]
    public void WriteProtectedRecordArea_IsRefusedNamingTheRecord_UnlessUnprotected()
    {
        var model = new SimulatedFlash(Spec);
        model.SetStatusRegisters(0x04); // BP0: the upper 256 KiB, where the record goes
        byte[] image = Image(14);
        FlashException e = Assert.Throws<FlashException>(() => Write(model, image))!;
        Assert.That(e.Message, Does.Contain("flash record").And.Contain("--no-record").And.Contain("--unprotect"));
        Assert.That(model.Operations, Is.Empty);

        using (var bus = new ReadLoggingBus(model))
        using (SpiNorFlash flash = SpiNorFlash.Open(bus))
        {
            new FlashProgrammer(flash, record: FlashRecordSettings.LastBlock).Write(FlashImage.FromBytes("image.bin", image), Base, new WriteOptions { Unprotect = true });
        }

        Assert.That(Holds(model, image), Is.True);
        Assert.That(StandingRecord(model), Is.Not.Null);
    }

    [Test]
    public void ExternalWrite_IsRepairedOnlyByAFullCompare()
    {
        var model = new SimulatedFlash(Spec);
        byte[] image = Image(6);
        Write(model, image);
        // Another tool writes a sector of the range; the record cannot know.
        model.Load(Base + (2 * Sector), TestData.Random(Sector, 60));

        WriteOutcome trusting = Write(model, image);
        Assert.That(trusting.Plan.FromRecord && trusting.Plan.IsEmpty, Is.True, "the record is trusted: the promise is that nothing else writes the range");
        Assert.That(Holds(model, image), Is.False);

        WriteOutcome forced = Write(model, image, fullCompare: true);
        Assert.That(forced.Plan.FromRecord, Is.False);
        Assert.That(forced.Plan.Basis, Does.Contain("full compare"));
        Assert.That(forced.Plan.Erases.Select(e => e.Address), Is.EqualTo(new[] { Base + (2 * Sector) }));
        Assert.That(Holds(model, image), Is.True);
        Assert.That(Write(model, image).Plan is { FromRecord: true, IsEmpty: true }, Is.True, "and the new record stands");
    }

    [Test]
    public void FullArea_IsErasedAndTheRecordWrittenAtItsStart()
    {
        var model = new SimulatedFlash(Spec);
        var area = new FlashRecordSettings { AreaStart = 0x200000, AreaLength = Sector };
        var areaRange = new AddressRange(0x200000, Sector);
        byte[] image = Image(7);
        int recordSlot = 512; // a 16-sector record takes two pages
        int perArea = Sector / recordSlot;
        for (int run = 0; run <= perArea; run++)
        {
            image[run * Sector / 2] ^= 0xff;
            WriteOutcome outcome = Write(model, image, area);
            Assert.That(Holds(model, image), Is.True, $"run {run}");
            Assert.That(outcome.Plan.FromRecord, Is.EqualTo(run > 0), $"run {run}");
            int areaErases = model.Operations.Count(o => o.Kind != SimOperationKind.PageProgram && areaRange.Contains(o.Address));
            Assert.That(outcome.RecordAddress, Is.EqualTo(areaRange.Start + (run % perArea * recordSlot)), $"run {run}");
            Assert.That(areaErases, Is.EqualTo(run / perArea), $"run {run}: an erase only when the area is full");
        }

        Assert.That(StandingRecord(model, areaRange), Is.Not.Null);
        image[1] ^= 0x01;
        Assert.That(Write(model, image, area).Plan.FromRecord, Is.True, "the rewritten record is used");
    }

    [Test]
    public void ImageOverlappingTheArea_IsRefusedInOneLineBeforeAnythingChanges()
    {
        var model = new SimulatedFlash(Spec);
        byte[] image = Image(8);
        long address = DefaultArea.Start - Sector;
        FlashException e = Assert.Throws<FlashException>(() => Write(model, image, address: address))!;
        Assert.That(e.Message, Does.Contain("overlaps the flash record area").And.Contain("--no-record").And.Not.Contain("\n"));
        Assert.That(model.Operations, Is.Empty);

        WriteOutcome placed = Write(model, image, new FlashRecordSettings { AreaStart = 0 }, address: address);
        Assert.That(placed.RecordAddress, Is.Zero, "placed elsewhere, the record is kept there");
        Assert.That(Holds(model, image, address), Is.True);
    }

    [Test]
    public void EraseWithdrawsTheRecord_AndDryRunChangesNothing()
    {
        var model = new SimulatedFlash(Spec);
        byte[] image = Image(9);
        Write(model, image);
        image[0] ^= 0xff;
        int operations = model.Operations.Count;
        using (var bus = new ReadLoggingBus(model))
        using (SpiNorFlash flash = SpiNorFlash.Open(bus))
        {
            var programmer = new FlashProgrammer(flash, record: FlashRecordSettings.LastBlock);
            WriteOutcome dry = programmer.Write(FlashImage.FromBytes("image.bin", image), Base, new WriteOptions { DryRun = true });
            Assert.That(dry.Plan.FromRecord, Is.True);
            Assert.That(dry.Plan.Describe(), Does.Contain("from the flash record"));
            Assert.That(model.Operations, Has.Count.EqualTo(operations), "a dry run changes nothing");

            programmer.Erase(new AddressRange(Base, Sector));
        }

        Assert.That(StandingRecord(model), Is.Null, "an erase withdraws the record");
        Assert.That(Write(model, image).Plan.FromRecord, Is.False);
        Assert.That(Holds(model, image), Is.True);
    }

    [Test]
    public void Record_RoundTripsAndRejectsAnUncommittedWithdrawnOrDamagedCopy()
    {
        var region = new AddressRange(0x10000, 2 * Sector);
        byte[] contents = TestData.Random(2 * Sector, 11);
        FlashRecord record = FlashRecord.Describe(Sector, 5000, [(region, contents)]);
        byte[] bytes = record.ToBytes();
        Assert.That(bytes, Has.Length.EqualTo(FlashRecord.HeaderLength + 16 + (2 * FlashRecord.HashLength) + 4));
        Assert.That(FlashRecord.Parse(bytes), Is.Null, "written but not yet committed");
        bytes[FlashRecord.CommitOffset] = 0x00;
        FlashRecord parsed = FlashRecord.Parse(bytes) ?? throw new AssertionException("the record does not parse");
        Assert.That(parsed.Regions, Is.EqualTo(new[] { region }));
        Assert.That(parsed.ImageLength, Is.EqualTo(5000));
        Assert.That(parsed.HashAt(0x11000), Is.EqualTo(FlashRecord.HashOf(contents.AsSpan(Sector))));
        Assert.That(parsed.HashAt(0x12000), Is.Null);

        byte[] withdrawn = (byte[])bytes.Clone();
        withdrawn[FlashRecord.FlagOffset] = 0;
        Assert.That(FlashRecord.Parse(withdrawn), Is.Null);
        for (int i = 0; i < bytes.Length; i++)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x10;
            Assert.That(FlashRecord.Parse(damaged), Is.Null, $"byte {i} changed");
        }

        Assert.That(Crc32.Of("123456789"u8), Is.EqualTo(0xcbf43926u), "the IEEE CRC-32 check value");
    }
}
