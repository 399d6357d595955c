namespace VirtioHw.Flash;

/// <summary>How CDONE behaved after the FPGA was let go.</summary>
public readonly record struct CdoneReport(bool High, TimeSpan After, TimeSpan Timeout)
{
    public override string ToString() => High
        ? $"CDONE went high {After.TotalMilliseconds:0} ms after releasing CRESET_B: the FPGA configured from the flash"
        : $"CDONE stayed low {Timeout.TotalMilliseconds:0} ms after releasing CRESET_B: the FPGA did not configure from the flash";
}

/// <summary>
/// An open board: its SPI bus, reset and done lines, and for the sim adapter the chip model (kept
/// in a file across runs when asked). Disposing releases everything and saves the model's contents.
/// </summary>
public sealed class BoardConnection : IDisposable
{
    private readonly string? _simImagePath;
    private bool _held;

    private BoardConnection(BoardProfile profile, SpiBus bus, GpioLine? creset, GpioLine? cdone,
        SimulatedFlash? simulation, string? simImagePath)
    {
        Profile = profile;
        Bus = bus;
        Creset = creset;
        Cdone = cdone;
        Simulation = simulation;
        _simImagePath = simImagePath;
    }

    public BoardProfile Profile { get; }

    public SpiBus Bus { get; }

    public GpioLine? Creset { get; }

    public GpioLine? Cdone { get; }

    /// <summary>The chip model behind a sim board.</summary>
    public SimulatedFlash? Simulation { get; }

    /// <summary>
    /// Opens the board. For the sim adapter, <paramref name="simImagePath"/> (if given) seeds the
    /// model's array and receives it back on dispose; <paramref name="simulation"/> supplies a
    /// model instead of building one from the profile.
    /// </summary>
    /// <remarks>
    /// For an <c>iot</c> board, <paramref name="gpio"/> (if given) replaces the system's GPIO
    /// controller and stays the caller's; <paramref name="simulation"/> is then only reported.
    /// A <c>pcie-cosim</c> board needs <paramref name="rtlController"/>: the co-simulated
    /// controller wired to the chip model, which the co-simulation provides
    /// (<c>VirtioHw.Platforms.Cosim.Flash.CosimControllerPort.Open</c>); this library runs no simulator.
    /// </remarks>
    public static BoardConnection Open(BoardProfile profile, string? simImagePath = null,
        SimulatedFlash? simulation = null, int? clockHz = null, System.Device.Gpio.GpioController? gpio = null,
        Func<SimulatedFlash, SpiControllerPort>? rtlController = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        switch (profile.Adapter)
        {
            case SpiBusSettings.SimBackend:
            {
                SimulatedFlash model = simulation ?? new SimulatedFlash(SimulatedChipSpec.ForName(profile.SimChip))
                {
                    TimeScale = profile.SimTimeScale,
                };
                if (simImagePath is not null && File.Exists(simImagePath))
                {
                    LoadSimImage(model, simImagePath);
                }

                var bus = new SimulatedSpiBus(profile.BusSettings(model, clockHz));
                GpioLine? creset = null, cdone = null;
                if (profile.Reset == ResetKind.Ice40)
                {
                    // An iCE40 UP5K reads its ~104 KiB bitstream in roughly 70 ms at its default clock.
                    var fpga = new SimulatedFpga(model, profile.FlashOffset, TimeSpan.FromMilliseconds(70));
                    creset = fpga.Creset;
                    cdone = fpga.Cdone;
                }

                return new BoardConnection(profile, bus, creset, cdone, model, simImagePath);
            }

            case SpiBusSettings.PcieCosimBackend:
            {
                if (rtlController is null)
                {
                    throw new FlashException($"{profile.Name}: the {SpiBusSettings.PcieCosimBackend} adapter needs the co-simulated SPI flash controller, which this program was built without");
                }

                SimulatedFlash model = simulation ?? new SimulatedFlash(SimulatedChipSpec.ForName(profile.SimChip))
                {
                    TimeScale = profile.SimTimeScale,
                };
                if (simImagePath is not null && File.Exists(simImagePath))
                {
                    LoadSimImage(model, simImagePath);
                }

                var bus = new SpiControllerBus(rtlController(model), profile.BusSettings(model, clockHz));
                model.BusClockHz = (int)bus.SckHz;
                return new BoardConnection(profile, bus, null, null, model, simImagePath);
            }

            case SpiBusSettings.PcieBackend:
                return new BoardConnection(profile, PcieBoard.OpenBus(profile, clockHz), null, null, null, null);

            case SpiBusSettings.IotBackend:
            {
                (SpiBus bus, GpioLine? creset, GpioLine? cdone) = IotAdapter.Open(profile.Iot!, profile.BusSettings(clockHz: clockHz), gpio,
                    gpio is null ? null : simulation?.Clock);
                return new BoardConnection(profile, bus, creset, cdone, simulation, null);
            }

            case SpiBusSettings.FtdiBackend:
            {
                var bus = FtdiMpsseBus.Open(profile.BusSettings(clockHz: clockHz));
                try
                {
                    FtdiSettings ftdi = profile.Ftdi!;
                    GpioLine? creset = ftdi.CresetPin is int rp ? bus.OpenLine(rp, "CRESET_B") : null;
                    GpioLine? cdone = ftdi.CdonePin is int dp ? bus.OpenLine(dp, "CDONE") : null;
                    return new BoardConnection(profile, bus, creset, cdone, null, null);
                }
                catch
                {
                    bus.Dispose();
                    throw;
                }
            }

            default:
            {
                var bus = SpidevBus.Open(profile.BusSettings(clockHz: clockHz));
                GpioLine? creset = null;
                try
                {
                    creset = profile.CresetGpio is GpioLineRef r ? GpioChipLine.Open(r.Chip, r.Line, "CRESET_B") : null;
                    GpioLine? cdone = profile.CdoneGpio is GpioLineRef d ? GpioChipLine.Open(d.Chip, d.Line, "CDONE") : null;
                    return new BoardConnection(profile, bus, creset, cdone, null, null);
                }
                catch
                {
                    creset?.Dispose();
                    bus.Dispose();
                    throw;
                }
            }
        }
    }

    private static void LoadSimImage(SimulatedFlash model, string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlashException($"cannot read --sim-image {path}: {e.Message}", e);
        }

        if (data.Length > model.Part.Size)
        {
            throw new FlashException(
                $"--sim-image {path} holds {data.Length} bytes, more than the {Units.Size(model.Part.Size)} {model.Part.Name} model");
        }

        model.Load(0, data);
    }

    /// <summary>Keeps the FPGA off the bus (iCE40: CRESET_B low) before the flash is touched.</summary>
    public void HoldFpgaInReset()
    {
        if (Profile.Reset != ResetKind.Ice40 || Creset is null)
        {
            return;
        }

        Creset.Write(false);
        // The FPGA lets go of the SPI lines within microseconds; a millisecond is ample.
        Bus.Wait(TimeSpan.FromMilliseconds(1));
        _held = true;
    }

    /// <summary>Lets the FPGA boot from the flash and waits for CDONE; null when the board has no reset control.</summary>
    public CdoneReport? ReleaseFpga()
    {
        if (!_held || Creset is null || Cdone is null)
        {
            return null;
        }

        _held = false;
        Bus.ReleasePins();
        Creset.Release();
        TimeProvider time = Bus.Time;
        long start = time.GetTimestamp();
        while (true)
        {
            TimeSpan elapsed = time.GetElapsedTime(start);
            if (Cdone.Read())
            {
                return new CdoneReport(true, elapsed, Profile.CdoneTimeout);
            }

            if (elapsed >= Profile.CdoneTimeout)
            {
                return new CdoneReport(false, elapsed, Profile.CdoneTimeout);
            }

            Bus.Wait(TimeSpan.FromMilliseconds(1));
        }
    }

    public void Dispose()
    {
        try
        {
            if (Simulation is not null && _simImagePath is not null)
            {
                SaveSimImage(Simulation, _simImagePath);
            }
        }
        finally
        {
            Cdone?.Dispose();
            Creset?.Dispose();
            Bus.Dispose();
        }
    }

    private static void SaveSimImage(SimulatedFlash model, string path)
    {
        // Written beside the target and renamed, so an interrupted save never leaves half a file.
        string temporary = path + ".tmp";
        try
        {
            File.WriteAllBytes(temporary, model.Contents.ToArray());
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlashException($"cannot save --sim-image {path}: {e.Message}", e);
        }
    }
}
