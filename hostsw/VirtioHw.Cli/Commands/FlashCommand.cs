using System.CommandLine;
using VirtioHw.Flash;
using VirtioHw.Model;
using VirtioHw.Platforms.Cosim.Flash;
using VirtioHw.Platforms.Qemu;
using VirtioHw.Platforms.Sysfs;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw flash</c>: write, read, erase, verify and identify a board's SPI NOR flash.
/// <c>virtiohw flash IMAGE --board NAME</c> is short for <c>flash write</c>. The work itself is
/// <see cref="FlashTool"/>'s; this file only maps the command line onto it.
/// </summary>
internal static class FlashCommand
{
    public static Command Create()
    {
        // A pcie board reaches its controller through a platform by name; registering twice does nothing.
        ModelPlatform.Register();
        QemuPlatform.Register();
        SysfsPlatform.Register();

        var flash = new Command("flash", "Program, read, erase, verify or identify the SPI NOR flash of a board.");
        WriteOptions shorthand = AddWriteOptions(flash, ArgumentArity.ZeroOrOne, boardRequired: false);
        var listBoards = new Option<bool>("--list-boards") { Description = "List the board profiles (name, adapter, description) and exit." };
        flash.Options.Add(listBoards);
        flash.SetAction(parse =>
        {
            if (parse.GetValue(listBoards))
            {
                return Run(tool => tool.ListBoards());
            }

            string? image = parse.GetValue(shorthand.Image);
            if (image is null)
            {
                throw UserErrorException.Usage("flash needs an IMAGE to write or a subcommand: write, read, erase, verify, info (see --help)");
            }

            if (parse.GetValue(shorthand.Board.Board) is null)
            {
                throw UserErrorException.Usage("flash needs --board NAME (see --list-boards)");
            }

            return RunWrite(parse, shorthand, image);
        });

        var write = new Command("write", "Write an image (raw .bin, Xilinx .bit, Intel HEX/.mcs): erase and program only what differs, then verify.");
        WriteOptions writeOptions = AddWriteOptions(write, ArgumentArity.ExactlyOne);
        write.SetAction(parse => RunWrite(parse, writeOptions, parse.GetValue(writeOptions.Image)!));
        flash.Subcommands.Add(write);

        flash.Subcommands.Add(CreateRead());
        flash.Subcommands.Add(CreateErase());
        flash.Subcommands.Add(CreateVerify());
        flash.Subcommands.Add(CreateInfo());
        return flash;
    }

    private sealed record BoardOptions(Option<string?> Board, Option<string?> SimImage, Option<string?> Clock,
        Option<string?> FtdiSerial, Option<string?> FtdiInterface, Option<string?> Spidev, Option<string?> Slot);

    private sealed record WriteOptions(BoardOptions Board, Argument<string?> Image, Option<string?> Offset,
        Option<bool> DryRun, Option<bool> Unprotect, Option<string?> Format, RecordOptions Record, Option<bool> FullCompare);

    private sealed record RecordOptions(Option<string?> Area, Option<bool> Off);

    private static RecordOptions AddRecordOptions(Command command)
    {
        var area = new Option<string?>("--record-area")
        {
            Description = "Keep a record of what was written in this reserved area, OFFSET[,LENGTH] (LENGTH 64K unless given), so a re-flash plans without reading the part. Without it, only an area the board profile reserves is used. Decimal, 0x hex, or with a K/M suffix.",
        };
        var off = new Option<bool>("--no-record") { Description = "Keep no record even where the board profile reserves an area: plan by reading the whole range." };
        command.Options.Add(area);
        command.Options.Add(off);
        return new RecordOptions(area, off);
    }

    /// <summary>The record the command line asks for, or null to take the board profile's.</summary>
    private static FlashRecordSettings? Record(ParseResult parse, RecordOptions o)
    {
        string? text = parse.GetValue(o.Area);
        if (parse.GetValue(o.Off))
        {
            return text is null ? FlashRecordSettings.Off : throw UserErrorException.Usage("--no-record and --record-area contradict each other; give one");
        }

        if (text is null)
        {
            return null;
        }

        return FlashRecordSettings.TryParse(text)
            ?? throw UserErrorException.Usage($"--record-area {text} is not OFFSET or OFFSET,LENGTH (decimal, 0x hex, or with a K/M suffix)");
    }

    private static BoardOptions AddBoardOptions(Command command, bool boardRequired = true)
    {
        var board = new Option<string?>("--board", "-b")
        {
            Description = "Board profile: a name from the boards folder (see flash --list-boards) or a .yaml path.",
            Required = boardRequired,
        };
        var simImage = new Option<string?>("--sim-image")
        {
            Description = "With a chip-model board (sim, pcie-cosim): file that keeps the model's contents between runs.",
        };
        var clock = new Option<string?>("--clock-hz")
        {
            Description = "SPI clock instead of the profile's: 6000000, 6M, 6MHz, 500k (lower it for long wires).",
        };
        var ftdiSerial = new Option<string?>("--ftdi-serial") { Description = "USB serial number of the FTDI adapter to use, when several are plugged in." };
        var ftdiInterface = new Option<string?>("--ftdi-interface") { Description = "Channel of the FTDI chip that reaches the flash: A, B, C or D." };
        var spidev = new Option<string?>("--spidev") { Description = "Linux spidev node instead of the profile's, e.g. /dev/spidev1.0." };
        var slot = new Option<string?>("--slot") { Description = "PCI function of the card's flash controller (pcie boards), DDDD:BB:DD.F." };
        foreach (Option option in new Option[] { board, simImage, clock, ftdiSerial, ftdiInterface, spidev, slot })
        {
            command.Options.Add(option);
        }

        return new BoardOptions(board, simImage, clock, ftdiSerial, ftdiInterface, spidev, slot);
    }

    private static WriteOptions AddWriteOptions(Command command, ArgumentArity arity, bool boardRequired = true)
    {
        var image = new Argument<string?>("IMAGE") { Description = "Image file to write.", Arity = arity };
        command.Arguments.Add(image);
        BoardOptions board = AddBoardOptions(command, boardRequired);
        Option<string?> offset = OffsetOption(command, "Flash address for the image (default: the profile's flash offset).");
        var dryRun = new Option<bool>("--dry-run") { Description = "Read the flash and print the erases and page programs, change nothing." };
        var unprotect = new Option<bool>("--unprotect") { Description = "Clear the block-protect bits first if they cover the image." };
        Option<string?> format = FormatOption(command);
        command.Options.Add(dryRun);
        command.Options.Add(unprotect);
        RecordOptions record = AddRecordOptions(command);
        var fullCompare = new Option<bool>("--full-compare")
        {
            Description = "Plan by reading the whole range even if a record stands (when other tools may have written the flash).",
        };
        command.Options.Add(fullCompare);
        return new WriteOptions(board, image, offset, dryRun, unprotect, format, record, fullCompare);
    }

    private static Option<string?> OffsetOption(Command command, string description)
    {
        var offset = new Option<string?>("--offset") { Description = description + " Decimal, 0x hex, or with a K/M suffix." };
        command.Options.Add(offset);
        return offset;
    }

    private static Option<string?> LengthOption(Command command, string description)
    {
        var length = new Option<string?>("--length") { Description = description + " Decimal, 0x hex, or with a K/M suffix." };
        command.Options.Add(length);
        return length;
    }

    private static Option<string?> FormatOption(Command command)
    {
        var format = new Option<string?>("--format") { Description = "Image format: auto (default, from the file name), raw, bit, hex." };
        command.Options.Add(format);
        return format;
    }

    private static Command CreateRead()
    {
        var command = new Command("read", "Read the flash (all of it by default) into a file.");
        var file = new Argument<string>("FILE") { Description = "File to write the contents to." };
        command.Arguments.Add(file);
        BoardOptions board = AddBoardOptions(command);
        Option<string?> offset = OffsetOption(command, "First address to read (default 0).");
        Option<string?> length = LengthOption(command, "Bytes to read (default: to the end).");
        command.SetAction(parse => Run(tool => tool.Read(Options(parse, board), parse.GetValue(file)!,
            Number(parse, offset), Number(parse, length))));
        return command;
    }

    private static Command CreateErase()
    {
        var command = new Command("erase", "Erase the whole flash (chip erase), or --offset/--length aligned to the smallest erase size.");
        BoardOptions board = AddBoardOptions(command);
        Option<string?> offset = OffsetOption(command, "First address to erase.");
        Option<string?> length = LengthOption(command, "Bytes to erase (default: to the end).");
        var unprotect = new Option<bool>("--unprotect") { Description = "Clear the block-protect bits first." };
        command.Options.Add(unprotect);
        RecordOptions record = AddRecordOptions(command);
        command.SetAction(parse => Run(tool => tool.Erase(Options(parse, board, Record(parse, record)), Number(parse, offset),
            Number(parse, length), parse.GetValue(unprotect))));
        return command;
    }

    private static Command CreateVerify()
    {
        var command = new Command("verify", "Compare the flash with an image; lists the differing addresses and exits with 4 if any differ.");
        var image = new Argument<string>("IMAGE") { Description = "Image file to compare with." };
        command.Arguments.Add(image);
        BoardOptions board = AddBoardOptions(command);
        Option<string?> offset = OffsetOption(command, "Flash address of the image (default: the profile's flash offset).");
        Option<string?> format = FormatOption(command);
        command.SetAction(parse => Run(tool => tool.Verify(Options(parse, board), parse.GetValue(image)!,
            Number(parse, offset), Format(parse, format))));
        return command;
    }

    private static Command CreateInfo()
    {
        var command = new Command("info", "Identify the flash: JEDEC ID, part, size, erase sizes, status registers, protection, SFDP.");
        BoardOptions board = AddBoardOptions(command);
        var json = new Option<bool>("--json") { Description = "Write JSON instead of lines (the shape is in the README)." };
        command.Options.Add(json);
        command.SetAction(parse => Run(tool => tool.Info(Options(parse, board), parse.GetValue(json))));
        return command;
    }

    private static int RunWrite(ParseResult parse, WriteOptions o, string image) =>
        Run(tool => tool.Write(Options(parse, o.Board, Record(parse, o.Record)), image, Number(parse, o.Offset),
            parse.GetValue(o.DryRun), parse.GetValue(o.Unprotect), Format(parse, o.Format), parse.GetValue(o.FullCompare)));

    private static FlashToolOptions Options(ParseResult parse, BoardOptions o, FlashRecordSettings? record = null) => new()
    {
        Board = parse.GetValue(o.Board)!,
        Record = record,
        SimImage = parse.GetValue(o.SimImage),
        ClockHz = Hertz(parse.GetValue(o.Clock)),
        Overrides = new BoardOverrides
        {
            FtdiSerial = parse.GetValue(o.FtdiSerial),
            FtdiInterface = parse.GetValue(o.FtdiInterface) switch
            {
                null => null,
                [char c] when char.ToUpperInvariant(c) is >= 'A' and <= 'D' => char.ToUpperInvariant(c),
                string other => throw UserErrorException.Usage($"--ftdi-interface {other} is not one of A, B, C, D"),
            },
            Spidev = parse.GetValue(o.Spidev),
            Slot = parse.GetValue(o.Slot),
        },
    };

    private static int? Hertz(string? text)
    {
        if (text is null)
        {
            return null;
        }

        return Units.TryParseHertz(text, out long hz) && hz <= int.MaxValue
            ? (int)hz
            : throw UserErrorException.Usage($"--clock-hz {text} is not a frequency (6000000, 6M, 6MHz, 500k)");
    }

    private static long? Number(ParseResult parse, Option<string?> option)
    {
        string? text = parse.GetValue(option);
        if (text is null)
        {
            return null;
        }

        return Units.TryParse(text, out long value)
            ? value
            : throw UserErrorException.Usage($"{option.Name} {text} is not a number (decimal, 0x hex, or with a K/M suffix)");
    }

    private static ImageFormat Format(ParseResult parse, Option<string?> option) =>
        ImageLoader.ParseFormat(parse.GetValue(option));

    /// <summary>Runs one operation with progress on the console; flash errors become one line and their exit code.</summary>
    private static int Run(Func<FlashTool, int> operation)
    {
        var tool = new FlashTool(Console.Out, new ConsoleProgressHost(Console.Out, interactive: CliConsole.Terminal), CosimControllerPort.Open);
        try
        {
            return operation(tool);
        }
        catch (FlashException e)
        {
            throw new UserErrorException(e.Message, e.ExitCode);
        }
    }
}
