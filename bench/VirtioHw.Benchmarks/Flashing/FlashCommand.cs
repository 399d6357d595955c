using System.Diagnostics;
using VirtioHw.Flash;

namespace VirtioHw.Benchmarks.Flashing;

/// <summary>
/// <c>vhw-bench flash</c>: a 1 MiB image on the chip model of a W25Q128JV (datasheet typical times,
/// model clock, 10 MHz SPI) through <see cref="FlashProgrammer"/> as <c>virtiohw flash write</c> runs it.
/// Timed: the second of two successive runs, after a one-byte change, in two ways: as a board
/// runs it by default (no record: read the range, plan, erase and program what differs, verify),
/// and on a board whose profile reserves the part's last 64 KiB for the flash record (find the
/// record, plan from it, withdraw it, erase, program, verify, write and read back the new record).
/// The first run wrote the image (and the record). The alternative is a full erase-and-program of
/// the same image by a programmer that keeps no record; only its erase, program and verify phases
/// count, not the reads it makes to plan, so the ratios are not flattered. Bus bytes per programmed
/// byte are taken over the program phase of the full run, and over the whole run as well.
/// </summary>
public static class FlashCommand
{
    private const int ImageSize = 1024 * 1024;
    private const int SpiClockHz = 10_000_000;

    /// <summary>What the timed second run of a one-byte re-flash cost.</summary>
    private sealed record Reflash(double Seconds, long BusBytes, long Programmed, bool FromRecord, long PlanReadBytes);

    public static ResultFile Run(BenchOptions options)
    {
        var wall = Stopwatch.StartNew();
        byte[] image = new byte[ImageSize];
        new Random(5).NextBytes(image);
        Reflash recorded = OneByteReflash(image, FlashRecordSettings.LastBlock);
        Reflash read = OneByteReflash(image, FlashRecordSettings.Undeclared);

        var chip = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        var meter = new PhaseMeter(chip);
        using SpiNorFlash flash = Open(chip);

        // The alternative, on a part that holds the image: erase the image's range, then program
        // and verify all of it.
        chip.Load(0, image);
        var full = new FlashProgrammer(flash, meter, record: FlashRecordSettings.Off);
        full.Erase(new AddressRange(0, ImageSize));
        double eraseSeconds = meter.Seconds(FlashPhase.Erase);
        meter.Clear();
        (long ns, long bus) start = (chip.Clock.Nanoseconds, chip.BusBytes);
        long programmed = chip.ProgrammedBytes;
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
            Producer = $"FlashProgrammer on SimulatedFlash W25Q128JV (typical times, model clock), {SpiClockHz / 1_000_000} MHz SPI; the record run with the part's last 64 KiB reserved for the flash record; {wall.Elapsed.TotalSeconds:F1} s wall",
            Values =
            {
                ["one_byte_s"] = recorded.Seconds,
                ["one_byte_bus_bytes"] = recorded.BusBytes,
                ["one_byte_programmed"] = recorded.Programmed,
                ["one_byte_from_record"] = recorded.FromRecord ? 1 : 0,
                ["one_byte_plan_read_bytes"] = recorded.PlanReadBytes,
                ["one_byte_read_s"] = read.Seconds,
                ["one_byte_read_bus_bytes"] = read.BusBytes,
                ["one_byte_read_programmed"] = read.Programmed,
                ["one_byte_read_plan_read_bytes"] = read.PlanReadBytes,
                ["full_s"] = fullSeconds,
                ["full_erase_s"] = eraseSeconds,
                ["program_bus_per_byte"] = programBusPerByte,
                ["run_bus_per_byte"] = runBusPerByte,
                ["full_programmed"] = fullProgrammed,
            },
        };
    }

    private static SpiNorFlash Open(SimulatedFlash chip) =>
        SpiNorFlash.Open(new SimulatedSpiBus(new SpiBusSettings(SpiBusSettings.SimBackend) { ClockHz = SpiClockHz, Simulation = chip }));

    /// <summary>Writes <paramref name="original"/> to a fresh part, then times a re-flash with one byte changed.</summary>
    private static Reflash OneByteReflash(byte[] original, FlashRecordSettings record)
    {
        byte[] image = (byte[])original.Clone();
        var chip = new SimulatedFlash(SimulatedChipSpec.W25Q128JV);
        using SpiNorFlash flash = Open(chip);
        var programmer = new FlashProgrammer(flash, record: record);
        programmer.Write(FlashImage.FromBytes("image.bin", image), 0);

        // One byte changes (its inverse: some bit goes 0 -> 1, so its sector needs an erase).
        image[ImageSize / 3] = (byte)~image[ImageSize / 3];
        (long ns, long bus, long programmed) start = (chip.Clock.Nanoseconds, chip.BusBytes, chip.ProgrammedBytes);
        WriteOutcome second = programmer.Write(FlashImage.FromBytes("image.bin", image), 0);
        if (!chip.Contents[..ImageSize].SequenceEqual(image))
        {
            throw new InvalidOperationException("the part does not hold the changed image");
        }

        return new Reflash((chip.Clock.Nanoseconds - start.ns) / 1e9, chip.BusBytes - start.bus,
            chip.ProgrammedBytes - start.programmed, second.Plan.FromRecord, second.Plan.ReadBytes);
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
