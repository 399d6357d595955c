using System.Diagnostics;
using VirtioHw.Flash;

namespace VirtioHw.Benchmarks.Flashing;

/// <summary>
/// <c>vhw-bench flash</c>: a 1 MiB image on the chip model of a W25Q128JV (datasheet typical times,
/// model clock, 10 MHz SPI) through <see cref="FlashProgrammer"/> as <c>virtiohw flash write</c> runs it,
/// with the flash record where the CLI keeps it by default (the part's last 64 KiB).
/// Timed: the second of two successive runs, after a one-byte change (the whole run: find the
/// record, plan, withdraw the record, erase, program, verify, write and read back the new record);
/// the first run wrote the image and the record. The alternative is a full erase-and-program of the
/// same image by a programmer that keeps no record; only its erase, program and verify phases
/// count, not the reads it makes to plan, so the ratio is not flattered. Bus bytes per programmed
/// byte are taken over the program phase of the full run, and over the whole run as well.
/// </summary>
public static class FlashCommand
{
    private const int ImageSize = 1024 * 1024;
    private const int SpiClockHz = 10_000_000;

    public static ResultFile Run(BenchOptions options)
    {
        var chip = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        var bus = new SimulatedSpiBus(new SpiBusSettings(SpiBusSettings.SimBackend) { ClockHz = SpiClockHz, Simulation = chip });
        var meter = new PhaseMeter(chip);
        byte[] image = new byte[ImageSize];
        new Random(5).NextBytes(image);
        var wall = Stopwatch.StartNew();
        using SpiNorFlash flash = SpiNorFlash.Open(bus);
        var programmer = new FlashProgrammer(flash, meter, record: FlashRecordSettings.LastBlock);

        // The first run: the part holds the image and its record, as after an earlier flashing.
        programmer.Write(FlashImage.FromBytes("image.bin", image), 0);

        // One byte changes (its inverse: some bit goes 0 -> 1, so its sector needs an erase).
        image[ImageSize / 3] = (byte)~image[ImageSize / 3];
        meter.Clear();
        (long ns, long bus) start = (chip.Clock.Nanoseconds, chip.BusBytes);
        long programmed = chip.ProgrammedBytes;
        WriteOutcome second = programmer.Write(FlashImage.FromBytes("image.bin", image), 0);
        double deltaSeconds = (chip.Clock.Nanoseconds - start.ns) / 1e9;
        long deltaBus = chip.BusBytes - start.bus;
        long deltaProgrammed = chip.ProgrammedBytes - programmed;
        if (!chip.Contents[..ImageSize].SequenceEqual(image))
        {
            throw new InvalidOperationException("the part does not hold the changed image");
        }

        // The alternative: erase the image's range, then program and verify all of it.
        var full = new FlashProgrammer(flash, meter, record: FlashRecordSettings.Off);
        meter.Clear();
        full.Erase(new AddressRange(0, ImageSize));
        double eraseSeconds = meter.Seconds(FlashPhase.Erase);
        meter.Clear();
        start = (chip.Clock.Nanoseconds, chip.BusBytes);
        programmed = chip.ProgrammedBytes;
        full.Write(FlashImage.FromBytes("image.bin", image), 0);
        double fullSeconds = eraseSeconds + meter.Seconds(FlashPhase.Program) + meter.Seconds(FlashPhase.Verify);
        long fullProgrammed = chip.ProgrammedBytes - programmed;
        double programBusPerByte = (double)meter.BusBytes(FlashPhase.Program) / fullProgrammed;
        double runBusPerByte = (double)(chip.BusBytes - start.bus) / fullProgrammed;
        if (!chip.Contents[..ImageSize].SequenceEqual(image))
        {
            throw new InvalidOperationException("the part does not hold the image after the full run");
        }

        return new ResultFile
        {
            Benchmark = "flash-csharp",
            Producer = $"FlashProgrammer on SimulatedFlash W25Q128JV (typical times, model clock), {SpiClockHz / 1_000_000} MHz SPI, flash record in the last 64 KiB; {wall.Elapsed.TotalSeconds:F1} s wall",
            Values =
            {
                ["one_byte_s"] = deltaSeconds,
                ["one_byte_bus_bytes"] = deltaBus,
                ["one_byte_programmed"] = deltaProgrammed,
                ["one_byte_from_record"] = second.Plan.FromRecord ? 1 : 0,
                ["one_byte_plan_read_bytes"] = second.Plan.ReadBytes,
                ["full_s"] = fullSeconds,
                ["full_erase_s"] = eraseSeconds,
                ["program_bus_per_byte"] = programBusPerByte,
                ["run_bus_per_byte"] = runBusPerByte,
                ["full_programmed"] = fullProgrammed,
            },
        };
    }

    /// <summary>Model time and bus bytes per phase, from the programmer's progress calls.</summary>
    private sealed class PhaseMeter(SimulatedFlash chip) : IFlashProgress
    {
        private readonly Dictionary<FlashPhase, (long Ns, long Bus)> _totals = [];
        private FlashPhase _phase;
        private (long Ns, long Bus) _start;

        public void Clear() => _totals.Clear();

        public double Seconds(FlashPhase phase) => _totals.GetValueOrDefault(phase).Ns / 1e9;

        public long BusBytes(FlashPhase phase) => _totals.GetValueOrDefault(phase).Bus;

        public void Begin(FlashPhase phase, long totalBytes)
        {
            _phase = phase;
            _start = (chip.Clock.Nanoseconds, chip.BusBytes);
        }

        public void Advance(long bytes)
        {
        }

        public void End()
        {
            (long ns, long bus) = _totals.GetValueOrDefault(_phase);
            _totals[_phase] = (ns + chip.Clock.Nanoseconds - _start.Ns, bus + chip.BusBytes - _start.Bus);
        }
    }
}
