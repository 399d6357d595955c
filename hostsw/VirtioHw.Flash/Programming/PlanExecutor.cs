namespace VirtioHw.Flash;

/// <summary>
/// Carries out plans on the part: erase, program, read back every range a plan touched, plan a
/// range that does not match again from what it holds and redo it, and name the addresses that
/// still differ in a <see cref="FlashVerifyException"/>.
/// </summary>
internal sealed class PlanExecutor
{
    private readonly SpiNorFlash _flash;
    private readonly IFlashProgress _progress;
    private readonly Action<int> _advance;
    private readonly int _retries;

    public PlanExecutor(SpiNorFlash flash, IFlashProgress progress, int retries)
    {
        _flash = flash;
        _progress = progress;
        _advance = n => progress.Advance(n);
        _retries = retries;
    }

    private int Unit => _flash.UsableEraseTypes[0].Size;

    /// <summary>Runs <paramref name="plans"/> and verifies what they touched; returns the number of ranges that needed a retry.</summary>
    /// <param name="plans">The plans, in address order.</param>
    /// <param name="what">The step's name in an error (for instance "verify after programming").</param>
    public int Run(IReadOnlyList<FlashPlan> plans, string what)
    {
        long eraseTotal = plans.Sum(p => p.EraseBytes);
        if (eraseTotal > 0)
        {
            _progress.Begin(FlashPhase.Erase, eraseTotal);
            foreach (EraseStep erase in plans.SelectMany(p => p.Erases))
            {
                _flash.Erase(erase.Address, erase.Type);
                _progress.Advance(erase.Type.Size);
            }

            _progress.End();
        }

        long programTotal = plans.Sum(p => p.ProgramBytes);
        if (programTotal > 0)
        {
            _progress.Begin(FlashPhase.Program, programTotal);
            foreach (FlashPlan plan in plans)
            {
                foreach (ProgramStep step in plan.Programs)
                {
                    _flash.ProgramPage(step.Address, plan.DesiredAt(step.Range));
                    _progress.Advance(step.Length);
                }
            }

            _progress.End();
        }

        var touched = plans.SelectMany(p => p.TouchedRanges().Select(r => (Plan: p, Range: r))).ToList();
        _progress.Begin(FlashPhase.Verify, touched.Sum(t => t.Range.Length));
        List<(FlashPlan Plan, AddressRange Range)> failed = touched.Where(t => !Matches(t.Plan, t.Range, _advance)).ToList();
        _progress.End();

        int retried = 0;
        for (int attempt = 0; attempt < _retries && failed.Count > 0; attempt++)
        {
            var stillFailed = new List<(FlashPlan Plan, AddressRange Range)>();
            foreach ((FlashPlan plan, AddressRange range) in failed)
            {
                // Plan the failed range again from what it holds now: a read glitch needs nothing,
                // a byte that did not take is programmed again, erased first if it has to be.
                AddressRange hull = range.AlignedTo(Unit);
                FlashPlan again = FlashPlan.Create(hull.Start, Read(hull), plan.DesiredAt(hull), _flash.Part.PageSize, _flash.UsableEraseTypes);
                foreach (EraseStep erase in again.Erases)
                {
                    _flash.Erase(erase.Address, erase.Type);
                }

                foreach (ProgramStep step in again.Programs)
                {
                    _flash.ProgramPage(step.Address, again.DesiredAt(step.Range));
                }

                if (Matches(plan, hull, null))
                {
                    retried++;
                }
                else
                {
                    stillFailed.Add((plan, hull));
                }
            }

            failed = stillFailed;
        }

        if (failed.Count > 0)
        {
            ThrowMismatches(failed.Select(f => f.Range).ToList(),
                a => failed.First(f => f.Range.Contains(a)).Plan.DesiredAt(new AddressRange(a, 1))[0], what);
        }

        return retried;
    }

    /// <summary>Reads <paramref name="range"/>, advancing <paramref name="progress"/> if given.</summary>
    public byte[] Read(AddressRange range, Action<int>? progress = null)
    {
        byte[] data = new byte[range.Length];
        _flash.Read(range.Start, data, progress);
        return data;
    }

    /// <summary>Reads the failed ranges once more and throws with the exact differing addresses.</summary>
    /// <param name="ranges">The ranges that failed.</param>
    /// <param name="expected">The byte each address should hold.</param>
    /// <param name="what">The step that failed, for the message.</param>
    public void ThrowMismatches(List<AddressRange> ranges, Func<long, byte> expected, string what)
    {
        var listed = new List<long>();
        var runs = new List<AddressRange>();
        long total = 0, totalRuns = 0, runStart = -1, previous = -2;
        void CloseRun()
        {
            if (runStart >= 0)
            {
                totalRuns++;
                if (runs.Count < FlashVerifyException.MaxListed)
                {
                    runs.Add(new AddressRange(runStart, previous - runStart + 1));
                }
            }
        }

        foreach (AddressRange range in ranges)
        {
            byte[] actual = Read(range);
            for (int i = 0; i < actual.Length; i++)
            {
                long address = range.Start + i;
                if (actual[i] == expected(address))
                {
                    continue;
                }

                total++;
                if (listed.Count < FlashVerifyException.MaxListed)
                {
                    listed.Add(address);
                }

                if (address != previous + 1)
                {
                    CloseRun();
                    runStart = address;
                }

                previous = address;
            }
        }

        CloseRun();

        // A range can read right on this last pass (an intermittent fault); it still failed
        // every verify, so the run is not reported as a success.
        if (total == 0)
        {
            throw new FlashVerifyException(
                $"{what} failed for {string.Join(", ", ranges)} and the range reads differently each time: check the wiring and lower the SPI clock");
        }

        throw new FlashVerifyException(listed, runs, total, totalRuns, what);
    }

    private bool Matches(FlashPlan plan, AddressRange range, Action<int>? progress) =>
        Read(range, progress).AsSpan().SequenceEqual(plan.DesiredAt(range));
}
