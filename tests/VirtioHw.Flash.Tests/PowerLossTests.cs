using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>
/// Power cut at every step of a programming run: at every command boundary, in the middle of
/// every command, and part-way through every erase, program and status write. After each cut
/// the next run must finish and verify, and no interrupted run may report success.
/// </summary>
[TestFixture("W25Q32JV")]
[TestFixture("W25Q256JV")]
public class PowerLossTests
{
    private readonly SimulatedChipSpec _spec;

    public PowerLossTests(string chip) => _spec = SimulatedChipSpec.ForName(chip);

    private long Base => _spec.Part.Size > 16 * PartTable.MiB ? 0x1ff0000 : 0x30000;

    /// <summary>
    /// Old contents and a new image over three sectors: one that needs an erase, one that only
    /// clears bits, one that is rewritten from blank. Whole sectors, so every byte's outcome is known.
    /// </summary>
    private (byte[] Old, byte[] Image) Scenario()
    {
        byte[] old = TestData.Filled(3 * 4096, 0xff);
        TestData.Random(4096, 21).CopyTo(old, 0);
        TestData.Filled(4096, 0xf0).CopyTo(old, 4096);
        byte[] image = (byte[])old.Clone();
        TestData.Random(600, 22).CopyTo(image, 100);
        for (int i = 4096; i < 8192; i += 7)
        {
            image[i] = 0x30;
        }

        TestData.Random(700, 23).CopyTo(image, 8192 + 2000);
        return (old, image);
    }

    private SimulatedFlash NewModel(byte[] old, bool unprotected = true)
    {
        var model = new SimulatedFlash(_spec);
        model.Load(Base, old);
        if (!unprotected)
        {
            model.SetStatusRegisters(_spec.Part.Protection.Status1ClearMask);
        }

        return model;
    }

    private static SimulatedSpiBus BusFor(SimulatedFlash model) =>
        new(new SpiBusSettings(SpiBusSettings.SimBackend) { ClockHz = 20_000_000, Simulation = model });

    /// <summary>One run of the programmer; returns normally only if it reported success.</summary>
    private void Run(SimulatedFlash model, byte[] image, bool unprotect)
    {
        using SimulatedSpiBus bus = BusFor(model);
        using SpiNorFlash flash = SpiNorFlash.Open(bus);
        new FlashProgrammer(flash).Write(FlashImage.FromBytes("image.bin", image), Base, new WriteOptions { Unprotect = unprotect });
    }

    /// <summary>Runs with power lost by <paramref name="arm"/>, then again with power; checks both runs.</summary>
    private void CutThenRecover(byte[] old, byte[] image, Action<SimulatedFlash> arm, string step, bool unprotect = false)
    {
        SimulatedFlash model = NewModel(old, unprotected: !unprotect);
        arm(model);
        // Every cut lands inside the run (the run is deterministic up to it), so the run must fail.
        Assert.Throws<SimulatedPowerLossException>(() => Run(model, image, unprotect), $"{step}: the interrupted run did not report the failure");
        Assert.That(model.IsPoweredOff, Is.True, step);

        model.RestorePower();
        Run(model, image, unprotect);
        Assert.That(model.Contents.Slice((int)Base, image.Length).SequenceEqual(image), Is.True, $"{step}: the next run did not leave the image in place");
    }

    private (long BusBytes, IReadOnlyList<long> Boundaries, int Operations) Baseline(byte[] old, byte[] image, bool unprotect)
    {
        SimulatedFlash model = NewModel(old, unprotected: !unprotect);
        model.TraceTransactions = true;
        Run(model, image, unprotect);
        Assert.That(model.Contents.Slice((int)Base, image.Length).SequenceEqual(image), Is.True, "the uninterrupted run works");
        return (model.BusBytes, model.TransactionEnds, model.Operations.Count);
    }

    [Test]
    public void PowerLostAtEveryCommandBoundaryAndMidCommand_NextRunCompletes()
    {
        (byte[] old, byte[] image) = Scenario();
        (long total, IReadOnlyList<long> boundaries, _) = Baseline(old, image, unprotect: false);
        var cuts = new SortedSet<long>();
        long previous = 0;
        foreach (long end in boundaries)
        {
            cuts.Add(end);
            cuts.Add(previous + 1);
            cuts.Add((previous + end) / 2);
            previous = end;
        }

        Assert.That(cuts, Has.Count.GreaterThan(300), "the run has enough steps to be worth cutting");
        foreach (long cut in cuts.Where(c => c < total))
        {
            CutThenRecover(old, image, m => m.SchedulePowerLossAfterBusBytes(cut), $"cut after {cut} of {total} bus bytes");
        }
    }

    [Test]
    public void PowerLostPartWayThroughEveryBusyOperation_NextRunCompletes()
    {
        (byte[] old, byte[] image) = Scenario();
        (_, _, int operations) = Baseline(old, image, unprotect: false);
        Assert.That(operations, Is.GreaterThan(10));
        for (int op = 0; op < operations; op++)
        {
            foreach (double fraction in new[] { 0.0, 0.3, 0.7, 0.999 })
            {
                int index = op;
                CutThenRecover(old, image, m => m.SchedulePowerLossDuringOperation(index, fraction), $"cut in operation {op} at {fraction:P0}");
            }
        }
    }

    [Test]
    public void PowerLostWhileClearingProtection_NextRunCompletes()
    {
        (byte[] old, byte[] image) = Scenario();
        (_, _, int operations) = Baseline(old, image, unprotect: true);
        // The first operation of an unprotecting run is the status register write.
        for (int op = 0; op < Math.Min(operations, 3); op++)
        {
            int index = op;
            CutThenRecover(old, image, m => m.SchedulePowerLossDuringOperation(index, 0.5), $"cut in operation {op}", unprotect: true);
        }
    }
}
