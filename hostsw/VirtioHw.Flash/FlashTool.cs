namespace VirtioHw.Flash;

/// <summary>
/// Command-line values that take the place of a board profile's (<c>--ftdi-serial</c>,
/// <c>--ftdi-interface</c>, <c>--spidev</c>, <c>--slot</c>): the profile gives defaults, these win.
/// </summary>
public sealed record BoardOverrides
{
    /// <summary>USB serial number of the FTDI adapter (ftdi boards, and iot boards on an FT232H/FT2232H).</summary>
    public string? FtdiSerial { get; init; }

    /// <summary>Channel of a multi-channel FTDI chip, A to D (ftdi boards).</summary>
    public char? FtdiInterface { get; init; }

    /// <summary>A spidev node, <c>/dev/spidevB.C</c> (spidev boards, and iot boards on spidev).</summary>
    public string? Spidev { get; init; }

    /// <summary>The PCI function of the card's controller, <c>DDDD:BB:DD.F</c> (pcie boards).</summary>
    public string? Slot { get; init; }

    /// <summary><paramref name="profile"/> with these values in place; one line naming the option when one does not fit the board.</summary>
    public BoardProfile ApplyTo(BoardProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (FtdiSerial is not null || FtdiInterface is not null)
        {
            if (profile.Ftdi is FtdiSettings ftdi)
            {
                profile = profile with { Ftdi = ftdi with { Serial = FtdiSerial ?? ftdi.Serial, Interface = FtdiInterface ?? ftdi.Interface } };
            }
            else if (FtdiInterface is null && profile.Iot is { Spi: IotSettings.Ft232H or IotSettings.Ft2232H } iot)
            {
                profile = profile with { Iot = iot with { Serial = FtdiSerial } };
            }
            else
            {
                throw new FlashException(
                    $"{(FtdiSerial is not null ? "--ftdi-serial" : "--ftdi-interface")} applies to boards on an FTDI adapter; board {profile.Name} uses adapter {profile.Adapter}");
            }
        }

        if (Spidev is not null)
        {
            if (profile.Spidev is SpidevSettings spidev)
            {
                profile = profile with { Spidev = spidev with { DevicePath = Spidev } };
            }
            else if (profile.Iot is { Spi: IotSettings.Spidev } iot && SpidevNumbers(Spidev) is (int bus, int cs))
            {
                profile = profile with { Iot = iot with { BusId = bus, ChipSelect = cs } };
            }
            else
            {
                throw new FlashException(profile.Iot is { Spi: IotSettings.Spidev }
                    ? $"--spidev {Spidev} is not /dev/spidevBUS.CS"
                    : $"--spidev applies to boards on a Linux spidev bus; board {profile.Name} uses adapter {profile.Adapter}");
            }
        }

        if (Slot is not null)
        {
            PcieSettings pcie = profile.Pcie
                ?? throw new FlashException($"--slot applies to pcie boards; board {profile.Name} uses adapter {profile.Adapter}");
            profile = profile with { Pcie = pcie with { Device = Slot } };
        }

        return profile;
    }

    private static (int Bus, int Cs)? SpidevNumbers(string path)
    {
        const string prefix = "/dev/spidev";
        string[] parts = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..].Split('.') : [];
        return parts.Length == 2 && int.TryParse(parts[0], out int bus) && int.TryParse(parts[1], out int cs) && bus >= 0 && cs >= 0
            ? (bus, cs)
            : null;
    }
}

/// <summary>Options every <c>flash</c> subcommand takes.</summary>
public sealed class FlashToolOptions
{
    /// <summary>Board profile name or path (<c>--board</c>).</summary>
    public required string Board { get; init; }

    /// <summary>File that keeps the sim model's contents across runs (<c>--sim-image</c>).</summary>
    public string? SimImage { get; init; }

    /// <summary>SPI clock override (<c>--clock-hz</c>); null keeps the profile's.</summary>
    public int? ClockHz { get; init; }

    /// <summary>Command-line values in place of the profile's.</summary>
    public BoardOverrides Overrides { get; init; } = new();

    /// <summary>The board profile <see cref="Board"/> names, with <see cref="Overrides"/> in place.</summary>
    public BoardProfile Profile() => Overrides.ApplyTo(BoardProfiles.Find(Board));

    /// <summary>A chip model to use instead of building one (tests inject faults through it).</summary>
    public SimulatedFlash? Simulation { get; init; }

    /// <summary>For an <c>iot</c> board: a GPIO controller to use instead of the system's (the caller keeps it).</summary>
    public System.Device.Gpio.GpioController? Gpio { get; init; }

    /// <summary>
    /// Where writes keep the flash record (<c>--record-area</c>, <c>--no-record</c>); null keeps it
    /// where the board profile reserves an area for it, and keeps none if the profile reserves none.
    /// </summary>
    public FlashRecordSettings? Record { get; init; }

    /// <summary>The record settings of a run on <paramref name="profile"/>.</summary>
    public FlashRecordSettings RecordOn(BoardProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return (Record ?? profile.RecordArea ?? FlashRecordSettings.Undeclared).WithdrawingFrom(profile.RecordArea);
    }
}

/// <summary>
/// What <c>virtiohw flash</c> does, apart from parsing the command line: open the board, hold the
/// FPGA in reset, identify the flash, run the operation with progress, leave 4-byte mode, release
/// the FPGA and report CDONE. Errors a user can cause surface as <see cref="FlashException"/>.
/// </summary>
public sealed class FlashTool
{
    private readonly TextWriter _out;
    private readonly IProgressHost _progress;
    private readonly Func<SimulatedFlash, SpiControllerPort>? _rtlController;

    /// <param name="output">Where the run's lines go.</param>
    /// <param name="progress">Shows the long phases.</param>
    /// <param name="rtlController">Opens the co-simulated controller of <c>pcie-cosim</c> boards; null refuses those boards.</param>
    public FlashTool(TextWriter output, IProgressHost progress, Func<SimulatedFlash, SpiControllerPort>? rtlController = null)
    {
        _out = output;
        _progress = progress;
        _rtlController = rtlController;
    }

    public int Write(FlashToolOptions options, string imagePath, long? offset, bool dryRun, bool unprotect,
        ImageFormat format = ImageFormat.Auto, bool fullCompare = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        BoardProfile profile = options.Profile();
        FlashImage image = ImageLoader.Load(imagePath, format);
        CheckBitPart(image, profile);
        if (image.BitHeader is XilinxBitHeader bit)
        {
            _out.WriteLine($"{image.Source}: design {bit.Design}, part {bit.Part}, built {bit.Date} {bit.Time}; {image.DataLength} bytes of configuration data"
                + (profile.FpgaPart is null ? " (the board profile names no FPGA part to check it against)" : ""));
        }

        long baseAddress = offset ?? profile.FlashOffset;
        return WithFlash(options, profile, flash =>
        {
            WriteOutcome outcome = _progress.Run(p =>
                new FlashProgrammer(flash, p, record: options.RecordOn(profile))
                    .Write(image, baseAddress, new WriteOptions { DryRun = dryRun, Unprotect = unprotect, FullCompare = fullCompare }));
            if (dryRun)
            {
                _out.WriteLine($"dry run: {image.Source} ({image.DataLength} bytes) at 0x{baseAddress:x6}; nothing is changed");
                _out.Write(outcome.Plan.Describe());
                if (outcome.ProtectionConflict)
                {
                    _out.WriteLine($"the write would be refused: {outcome.Protection.Range} is write-protected (status register 1 = 0x{outcome.Protection.Status1:x2}); add --unprotect");
                }

                return 0;
            }

            if (outcome.ProtectionCleared)
            {
                _out.WriteLine($"cleared block protection of {outcome.Protection.Range} (status register 1 was 0x{outcome.Protection.Status1:x2})");
            }

            WritePlan plan = outcome.Plan;
            _out.WriteLine(plan.IsEmpty
                ? $"{image.Source}: the flash already holds these {image.DataLength} bytes at 0x{baseAddress:x6}; nothing written"
                : $"{image.Source}: wrote {image.DataLength} bytes at 0x{baseAddress:x6} with {plan.Erases.Count()} erase(s) ({Units.Size(plan.EraseBytes)}) and {plan.PageCount} page program(s) ({plan.ProgramBytes} bytes); verified"
                    + (outcome.RetriedRanges > 0 ? $" after reprogramming {outcome.RetriedRanges} range(s)" : ""));
            _out.WriteLine($"planned {plan.Basis}"
                + (outcome.RecordAddress is long at ? $"; new flash record at 0x{at:x6}" : ""));
            if (outcome.RecordNote is not null)
            {
                _out.WriteLine(outcome.RecordNote);
            }

            return 0;
        });
    }

    public int Read(FlashToolOptions options, string outputPath, long? offset, long? length)
    {
        ArgumentNullException.ThrowIfNull(options);
        BoardProfile profile = options.Profile();
        return WithFlash(options, profile, flash =>
        {
            long start = offset ?? 0;
            long count = length ?? (flash.Part.Size - start);
            if (start < 0 || start >= flash.Part.Size)
            {
                throw new FlashException($"--offset 0x{start:x} is past the end of the {Units.Size(flash.Part.Size)} {flash.Part.Name}");
            }

            if (count <= 0 || start + count > flash.Part.Size)
            {
                throw new FlashException($"--length 0x{count:x} from 0x{start:x} runs past the end of the {Units.Size(flash.Part.Size)} {flash.Part.Name}");
            }

            byte[] data = _progress.Run(p => new FlashProgrammer(flash, p).Read(new AddressRange(start, count)));
            try
            {
                File.WriteAllBytes(outputPath, data);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FlashException($"cannot write {outputPath}: {e.Message}", e);
            }

            _out.WriteLine($"read {count} bytes from 0x{start:x6} into {outputPath}");
            return 0;
        });
    }

    public int Erase(FlashToolOptions options, long? offset, long? length, bool unprotect)
    {
        ArgumentNullException.ThrowIfNull(options);
        BoardProfile profile = options.Profile();
        return WithFlash(options, profile, flash =>
        {
            long start = offset ?? 0;
            long count = length ?? (flash.Part.Size - start);
            if (start == 0 && count == flash.Part.Size)
            {
                _progress.Run(p =>
                {
                    new FlashProgrammer(flash, p).EraseAll(unprotect);
                    return 0;
                });
                _out.WriteLine($"erased all {Units.Size(flash.Part.Size)} of the {flash.Part.Name}; it reads blank");
                return 0;
            }

            WriteOutcome outcome = _progress.Run(p => new FlashProgrammer(flash, p, record: options.RecordOn(profile)).Erase(new AddressRange(start, count), unprotect));
            _out.WriteLine($"erased 0x{start:x6}-0x{start + count - 1:x6} with {outcome.Plan.Erases.Count()} erase(s) (blank parts skipped); it reads blank");
            return 0;
        });
    }

    public int Verify(FlashToolOptions options, string imagePath, long? offset, ImageFormat format = ImageFormat.Auto)
    {
        ArgumentNullException.ThrowIfNull(options);
        BoardProfile profile = options.Profile();
        FlashImage image = ImageLoader.Load(imagePath, format);
        CheckBitPart(image, profile);
        long baseAddress = offset ?? profile.FlashOffset;
        return WithFlash(options, profile, flash =>
        {
            _progress.Run(p =>
            {
                new FlashProgrammer(flash, p).Verify(image, baseAddress);
                return 0;
            });
            _out.WriteLine($"{image.Source}: the flash matches all {image.DataLength} bytes at 0x{baseAddress:x6}");
            return 0;
        });
    }

    /// <summary>Lists the board profiles on the search path: name, adapter and description, one a line.</summary>
    public int ListBoards()
    {
        foreach (string name in BoardProfiles.Available())
        {
            BoardProfile profile = BoardProfiles.Find(name);
            _out.WriteLine($"{profile.Name,-16} {profile.Adapter,-11} {profile.Description}");
        }

        return 0;
    }

    public int Info(FlashToolOptions options, bool json = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        BoardProfile profile = options.Profile();
        int clockHz = options.ClockHz ?? profile.ClockHz;
        return WithFlash(options, profile, flash =>
        {
            FlashPart part = flash.Part;
            ProtectionState protection = flash.ReadProtection();
            if (json)
            {
                WriteInfoJson(profile, clockHz, flash, protection);
                return 0;
            }

            _out.WriteLine($"board:       {profile.Name} ({profile.Source}), adapter {profile.Adapter} at {clockHz} Hz");
            _out.WriteLine($"part:        {part.Vendor} {part.Name} (from the {part.Source})");
            _out.WriteLine($"JEDEC ID:    {flash.JedecId:x6}");
            _out.WriteLine($"size:        {Units.Size(part.Size)}, {part.PageSize}-byte pages");
            _out.WriteLine($"erase sizes: {string.Join(", ", part.EraseTypes.Select(e => $"{Units.Size(e.Size)} (0x{e.Opcode:x2})"))}");
            _out.WriteLine($"addressing:  {(flash.AddressBytes == 3 ? "3-byte" : $"4-byte ({part.Addressing})")}");
            _out.WriteLine($"status:      SR1 0x{protection.Status1:x2}" + (part.Protection.CmpBit is null ? "" : $", SR2 0x{protection.Status2:x2}"));
            _out.WriteLine($"protected:   {protection.Range}");
            if (flash.Sfdp is SfdpInfo sfdp)
            {
                _out.WriteLine($"SFDP:        revision {sfdp.MajorRevision}.{sfdp.MinorRevision}, basic table {sfdp.TableMajorRevision}.{sfdp.TableMinorRevision} ({sfdp.TableDwords} words), {Units.Size(sfdp.Size)}");
            }

            return 0;
        }, readSfdp: true, notes: json ? TextWriter.Null : null);
    }

    /// <summary><c>flash info --json</c>: one object; its shape is in the README.</summary>
    private void WriteInfoJson(BoardProfile profile, int clockHz, SpiNorFlash flash, ProtectionState protection)
    {
        FlashPart part = flash.Part;
        using var buffer = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("board", profile.Name);
            w.WriteString("profile", profile.Source);
            w.WriteString("adapter", profile.Adapter);
            w.WriteNumber("clockHz", clockHz);
            w.WriteString("vendor", part.Vendor);
            w.WriteString("part", part.Name);
            w.WriteString("partFrom", part.Source);
            w.WriteString("jedecId", $"{flash.JedecId:x6}");
            w.WriteNumber("size", part.Size);
            w.WriteNumber("pageSize", part.PageSize);
            w.WriteStartArray("eraseSizes");
            foreach (EraseType e in part.EraseTypes)
            {
                w.WriteStartObject();
                w.WriteNumber("size", e.Size);
                w.WriteNumber("opcode", e.Opcode);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("addressBytes", flash.AddressBytes);
            w.WriteNumber("status1", protection.Status1);
            if (part.Protection.CmpBit is not null)
            {
                w.WriteNumber("status2", protection.Status2);
            }

            w.WriteStartObject("protected");
            w.WriteNumber("start", protection.Range.Start);
            w.WriteNumber("length", protection.Range.Length);
            w.WriteEndObject();
            if (flash.Sfdp is SfdpInfo sfdp)
            {
                w.WriteStartObject("sfdp");
                w.WriteString("revision", $"{sfdp.MajorRevision}.{sfdp.MinorRevision}");
                w.WriteString("basicTable", $"{sfdp.TableMajorRevision}.{sfdp.TableMinorRevision}");
                w.WriteNumber("tableDwords", sfdp.TableDwords);
                w.WriteNumber("size", sfdp.Size);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("sfdp");
            }

            w.WriteEndObject();
        }

        _out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void CheckBitPart(FlashImage image, BoardProfile profile)
    {
        if (image.BitHeader is XilinxBitHeader header && profile.FpgaPart is string boardPart &&
            !XilinxBitFile.PartMatches(header.Part, boardPart))
        {
            throw new FlashException(
                $"{image.Source} is built for part {header.Part}, but board {profile.Name} has a {boardPart}");
        }
    }

    // notes: where the lines after the operation (CDONE, the model's and the RTL's figures) go;
    // null for the command's output, TextWriter.Null to keep the output pure JSON.
    private int WithFlash(FlashToolOptions options, BoardProfile profile, Func<SpiNorFlash, int> body, bool readSfdp = false,
        TextWriter? notes = null)
    {
        notes ??= _out;
        using BoardConnection board = BoardConnection.Open(profile, options.SimImage, options.Simulation, options.ClockHz, options.Gpio, _rtlController);
        board.HoldFpgaInReset();
        int result;
        try
        {
            using (SpiNorFlash flash = SpiNorFlash.Open(board.Bus, readSfdp))
            {
                if (!readSfdp)
                {
                    _out.WriteLine($"flash: {flash.Part.Vendor} {flash.Part.Name}, {Units.Size(flash.Part.Size)} (JEDEC {flash.JedecId:x6}, {flash.Part.Source})");
                }

                result = body(flash);
            }
        }
        catch (FlashException)
        {
            // Let the FPGA go even when flashing failed; the failure is what gets reported.
            try
            {
                board.ReleaseFpga();
            }
            catch (FlashException)
            {
            }

            throw;
        }

        if (board.ReleaseFpga() is CdoneReport cdone)
        {
            notes.WriteLine(cdone.High ? cdone.ToString() : $"warning: {cdone}");
        }

        if (board.Simulation is SimulatedFlash model)
        {
            notes.WriteLine($"chip model: {model.Clock.Elapsed.TotalSeconds:0.000} s of {model.Part.Name} time, {model.BusBytes} bus bytes, {model.ProgrammedBytes} bytes programmed");
        }

        if (board.Bus is SpiControllerBus { Port.Activity: string activity } controller)
        {
            notes.WriteLine($"controller: SCK {controller.SckHz / 1_000_000.0:0.##} MHz (ctrl.div {controller.Divider}), {activity}");
        }

        return result;
    }
}
