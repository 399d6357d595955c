using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace VirtioHw.Flash;

/// <summary>What happens around flashing to keep the FPGA off the flash's bus.</summary>
public enum ResetKind
{
    /// <summary>Nothing: the board has no reset line the host controls.</summary>
    None,

    /// <summary>Lattice iCE40: CRESET_B low while flashing, then release and wait for CDONE high.</summary>
    Ice40,
}

/// <summary>A line on a Linux gpiochip.</summary>
public sealed record GpioLineRef(string Chip, uint Line);

/// <summary>
/// One board: which adapter reaches its flash and how, where images go, how the FPGA is held
/// off the bus. Loaded from a YAML file in hostsw/boards/; immutable.
/// </summary>
public sealed record BoardProfile
{
    public required string Name { get; init; }

    public string Description { get; init; } = "";

    /// <summary>The file the profile was read from, for messages.</summary>
    public required string Source { get; init; }

    /// <summary><c>ftdi</c>, <c>spidev</c>, <c>sim</c>, <c>pcie</c>, <c>pcie-cosim</c> or <c>iot</c>.</summary>
    public required string Adapter { get; init; }

    public int ClockHz { get; init; } = 6_000_000;

    public FtdiSettings? Ftdi { get; init; }

    public SpidevSettings? Spidev { get; init; }

    /// <summary>The dotnet/iot SPI device and control pins of an <c>iot</c> board.</summary>
    public IotSettings? Iot { get; init; }

    /// <summary>Where the SPI flash controller of a <c>pcie</c> board is.</summary>
    public PcieSettings? Pcie { get; init; }

    /// <summary>CRESET_B and CDONE on a gpiochip (spidev boards).</summary>
    public GpioLineRef? CresetGpio { get; init; }

    public GpioLineRef? CdoneGpio { get; init; }

    /// <summary>Chip model name for the sim and pcie-cosim adapters.</summary>
    public string SimChip { get; init; } = "W25Q128JV";

    public double SimTimeScale { get; init; } = 1.0;

    /// <summary>Where images go unless --offset says otherwise.</summary>
    public long FlashOffset { get; init; }

    /// <summary>
    /// The area the board reserves for the flash record (<c>flash: record-area: OFFSET[,LENGTH]</c>),
    /// or null: then a run keeps no record unless <c>--record-area</c> names one.
    /// </summary>
    public FlashRecordSettings? RecordArea { get; init; }

    /// <summary>FPGA part a .bit file must be built for (e.g. xc7a35t), or null to skip the check.</summary>
    public string? FpgaPart { get; init; }

    public ResetKind Reset { get; init; } = ResetKind.None;

    public TimeSpan CdoneTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The bus settings this profile gives, at <paramref name="clockHz"/> if set.</summary>
    public SpiBusSettings BusSettings(SimulatedFlash? simulation = null, int? clockHz = null) => new(Adapter)
    {
        ClockHz = clockHz ?? ClockHz,
        Ftdi = Ftdi,
        Spidev = Spidev,
        Iot = Iot,
        Simulation = simulation,
    };
}

/// <summary>Finds and parses board profiles; every error names the file and what is wrong.</summary>
public static class BoardProfiles
{
    /// <summary>Environment variable with extra profile directories (':'-separated), searched first.</summary>
    public const string PathVariable = "VIRTIOHW_BOARDS";

    /// <summary>Directories searched for NAME.yaml, in order.</summary>
    public static IReadOnlyList<string> SearchPath()
    {
        var dirs = new List<string>();
        string? extra = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(extra))
        {
            dirs.AddRange(extra.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }

        dirs.Add(Path.Combine(AppContext.BaseDirectory, "boards"));
        return dirs;
    }

    /// <summary>Board names found on the search path.</summary>
    public static IReadOnlyList<string> Available() =>
        SearchPath().Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, "*.yaml"))
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Loads the profile <paramref name="nameOrPath"/>: a file path, or a name on the search path.</summary>
    public static BoardProfile Find(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        bool looksLikePath = nameOrPath.Contains('/', StringComparison.Ordinal) ||
            nameOrPath.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) ||
            nameOrPath.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        if (looksLikePath)
        {
            return File.Exists(nameOrPath)
                ? Load(nameOrPath)
                : throw new FlashException($"--board {nameOrPath}: no such file");
        }

        foreach (string dir in SearchPath())
        {
            string candidate = Path.Combine(dir, nameOrPath + ".yaml");
            if (File.Exists(candidate))
            {
                return Load(candidate);
            }
        }

        IReadOnlyList<string> known = Available();
        throw new FlashException(
            $"--board {nameOrPath}: no such board profile (known: {(known.Count == 0 ? "none" : string.Join(", ", known))})");
    }

    public static BoardProfile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlashException($"cannot read board profile {path}: {e.Message}", e);
        }

        return Parse(path, text);
    }

    public static BoardProfile Parse(string source, string yaml)
    {
        IDeserializer deserializer = new DeserializerBuilder()
            .WithNamingConvention(HyphenatedNamingConvention.Instance)
            .WithDuplicateKeyChecking()
            .Build();
        ProfileDocument doc;
        try
        {
            doc = deserializer.Deserialize<ProfileDocument?>(yaml) ?? throw new FlashException($"{source}: the board profile is empty");
        }
        catch (YamlException e)
        {
            string reason = (e.InnerException?.Message ?? e.Message).Split('\n')[0];
            throw new FlashException($"{source} line {e.Start.Line}: {reason}", e);
        }

        return Validate(source, doc);
    }

    private static long Number(string source, string key, string? text, long fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        return Units.TryParse(text, out long value)
            ? value
            : throw new FlashException($"{source}: {key} '{text}' is not a number (decimal, 0x hex, or with K/M suffix)");
    }

    private static BoardProfile Validate(string source, ProfileDocument doc)
    {
        string name = doc.Name ?? Path.GetFileNameWithoutExtension(source);
        string adapter = doc.Adapter ?? throw new FlashException($"{source}: 'adapter' is missing (ftdi, spidev, sim, pcie, pcie-cosim or iot)");
        if (adapter is not (SpiBusSettings.FtdiBackend or SpiBusSettings.SpidevBackend or SpiBusSettings.SimBackend
            or SpiBusSettings.PcieBackend or SpiBusSettings.PcieCosimBackend or SpiBusSettings.IotBackend))
        {
            throw new FlashException($"{source}: adapter '{adapter}' is not one of ftdi, spidev, sim, pcie, pcie-cosim, iot");
        }

        long clock = 6_000_000;
        if (doc.ClockHz is string clockText && !Units.TryParseHertz(clockText, out clock))
        {
            throw new FlashException($"{source}: clock-hz '{clockText}' is not a frequency (15000000, 15M, 15MHz, 500k)");
        }

        if (clock is < 10_000 or > 100_000_000)
        {
            throw new FlashException($"{source}: clock-hz {clock} is outside 10 kHz to 100 MHz");
        }

        ResetKind reset = doc.Reset?.Kind?.ToLowerInvariant() switch
        {
            null or "none" => ResetKind.None,
            "ice40" => ResetKind.Ice40,
            string other => throw new FlashException($"{source}: reset kind '{other}' is not one of none, ice40"),
        };

        FtdiSettings? ftdi = null;
        if (adapter == SpiBusSettings.FtdiBackend)
        {
            FtdiDocument f = doc.Ftdi ?? throw new FlashException($"{source}: an ftdi adapter needs an 'ftdi' section");
            PinsDocument pins = f.Pins ?? new PinsDocument();
            string iface = f.Interface ?? "A";
            if (iface.Length != 1 || iface[0] is < 'A' or > 'D')
            {
                throw new FlashException($"{source}: ftdi interface '{iface}' is not one of A, B, C, D");
            }

            ftdi = new FtdiSettings
            {
                VendorId = (int)Number(source, "ftdi vid", f.Vid, 0x0403),
                ProductId = (int)Number(source, "ftdi pid", f.Pid, 0x6010),
                Interface = iface[0],
                Serial = f.Serial,
                ChipSelectPin = (int)Number(source, "ftdi pins cs", pins.Cs, 4),
                CresetPin = pins.Creset is null ? null : (int)Number(source, "ftdi pins creset", pins.Creset, 0),
                CdonePin = pins.Cdone is null ? null : (int)Number(source, "ftdi pins cdone", pins.Cdone, 0),
            };
            foreach ((string pin, int? value) in new[] { ("cs", (int?)ftdi.ChipSelectPin), ("creset", ftdi.CresetPin), ("cdone", ftdi.CdonePin) })
            {
                if (value is int v && v is < 3 or > 15)
                {
                    throw new FlashException($"{source}: ftdi pin {pin} = {v} is not usable (0-2 are SCK/MOSI/MISO; use 3-15)");
                }
            }

            if (reset == ResetKind.Ice40 && (ftdi.CresetPin is null || ftdi.CdonePin is null))
            {
                throw new FlashException($"{source}: reset kind ice40 needs ftdi pins creset and cdone");
            }
        }

        SpidevSettings? spidev = null;
        GpioLineRef? creset = null, cdone = null;
        if (adapter == SpiBusSettings.SpidevBackend)
        {
            spidev = new SpidevSettings { DevicePath = doc.Spidev?.Device ?? "/dev/spidev0.0" };
            creset = Line(source, "gpio creset", doc.Gpio?.Creset);
            cdone = Line(source, "gpio cdone", doc.Gpio?.Cdone);
            if (reset == ResetKind.Ice40 && (creset is null || cdone is null))
            {
                throw new FlashException($"{source}: reset kind ice40 needs gpio creset and cdone lines");
            }
        }

        IotSettings? iot = null;
        if (adapter == SpiBusSettings.IotBackend)
        {
            iot = IotProfile(source, doc.Iot ?? throw new FlashException($"{source}: an iot adapter needs an 'iot' section (spi: spidev, ft232h, ft2232h, ft4222 or software)"));
            if (reset == ResetKind.Ice40 && (iot.CresetPin is null || iot.CdonePin is null))
            {
                throw new FlashException($"{source}: reset kind ice40 needs iot creset and cdone pins");
            }
        }

        PcieSettings? pcie = null;
        if (adapter == SpiBusSettings.PcieBackend)
        {
            PcieDocument p = doc.Pcie ?? throw new FlashException($"{source}: a pcie adapter needs a 'pcie' section (platform, device, bar, offset)");
            string device = p.Device ?? throw new FlashException($"{source}: pcie 'device' is missing (the PCI address, e.g. 0000:01:00.0)");
            long bar = Number(source, "pcie bar", p.Bar, 0);
            if (bar is < 0 or > 5)
            {
                throw new FlashException($"{source}: pcie bar {bar} is not 0-5");
            }

            long controllerClock = Number(source, "pcie controller-clock-hz", p.ControllerClockHz, 125_000_000);
            if (controllerClock <= 0)
            {
                throw new FlashException($"{source}: pcie controller-clock-hz must be positive");
            }

            pcie = new PcieSettings
            {
                Platform = p.Platform ?? "sysfs",
                PlatformOptions = p.Options ?? [],
                Device = device,
                Bar = (int)bar,
                Offset = Number(source, "pcie offset", p.Offset, 0),
                ControllerClockHz = controllerClock,
            };
        }

        double timeScale = doc.Sim?.TimeScale ?? 1.0;
        if (timeScale < 0 || double.IsNaN(timeScale))
        {
            throw new FlashException($"{source}: sim time-scale must be zero or more");
        }

        string simChip = doc.Sim?.Chip ?? "W25Q128JV";
        if (adapter is SpiBusSettings.SimBackend or SpiBusSettings.PcieCosimBackend)
        {
            try
            {
                SimulatedChipSpec.ForName(simChip);
            }
            catch (FlashException e)
            {
                // The profile is what the user wrote: the refusal names it and the key.
                throw new FlashException($"{source}: sim chip: {e.Message}", e);
            }
        }

        long cdoneMs = Number(source, "reset cdone-timeout-ms", doc.Reset?.CdoneTimeoutMs, 1000);
        FlashRecordSettings? recordArea = null;
        if (doc.Flash?.RecordArea is string area)
        {
            recordArea = FlashRecordSettings.TryParse(area)
                ?? throw new FlashException($"{source}: flash record-area '{area}' is not OFFSET or OFFSET,LENGTH (decimal, 0x hex, or with K/M suffix)");
        }

        return new BoardProfile
        {
            Name = name,
            Description = doc.Description ?? "",
            Source = source,
            Adapter = adapter,
            ClockHz = (int)clock,
            Ftdi = ftdi,
            Spidev = spidev,
            Iot = iot,
            Pcie = pcie,
            CresetGpio = creset,
            CdoneGpio = cdone,
            SimChip = simChip,
            SimTimeScale = timeScale,
            FlashOffset = Number(source, "flash offset", doc.Flash?.Offset, 0),
            RecordArea = recordArea,
            FpgaPart = doc.Fpga?.Part,
            Reset = reset,
            CdoneTimeout = TimeSpan.FromMilliseconds(cdoneMs),
        };
    }

    private static IotSettings IotProfile(string source, IotDocument d)
    {
        string spi = d.Spi?.ToLowerInvariant() ?? throw new FlashException($"{source}: iot 'spi' is missing (spidev, ft232h, ft2232h, ft4222 or software)");
        if (spi is not (IotSettings.Spidev or IotSettings.Ft232H or IotSettings.Ft2232H or IotSettings.Ft4222 or IotSettings.Software))
        {
            throw new FlashException($"{source}: iot spi '{d.Spi}' is not one of spidev, ft232h, ft2232h, ft4222, software");
        }

        long mode = Number(source, "iot mode", d.Mode, 0);
        if (mode is not (0 or 3))
        {
            throw new FlashException($"{source}: iot mode {mode} is not 0 or 3 (the SPI modes a NOR flash takes)");
        }

        SoftwareSpiPins? pins = null;
        if (spi == IotSettings.Software)
        {
            IotPinsDocument p = d.Pins ?? throw new FlashException($"{source}: iot spi software needs 'pins' (sck, mosi, miso, cs)");
            int Pin(string key, string? text) => text is null
                ? throw new FlashException($"{source}: iot pins {key} is missing")
                : (int)Number(source, "iot pins " + key, text, 0);
            pins = new SoftwareSpiPins(Pin("sck", p.Sck), Pin("mosi", p.Mosi), Pin("miso", p.Miso), Pin("cs", p.Cs));
        }

        string driver = d.Gpio?.Driver ?? "auto";
        if (driver is not ("auto" or "libgpiod"))
        {
            throw new FlashException($"{source}: iot gpio driver '{driver}' is not one of auto, libgpiod");
        }

        return new IotSettings
        {
            Spi = spi,
            BusId = (int)Number(source, "iot bus", d.Bus, 0),
            ChipSelect = (int)Number(source, "iot chip-select", d.ChipSelect, spi is IotSettings.Ft232H or IotSettings.Ft2232H ? 3 : 0),
            Mode = (int)mode,
            Serial = d.Serial,
            Pins = pins,
            GpioDriver = driver,
            GpioChip = (int)Number(source, "iot gpio chip", d.Gpio?.Chip, 0),
            CresetPin = d.Creset is null ? null : (int)Number(source, "iot creset", d.Creset, 0),
            CdonePin = d.Cdone is null ? null : (int)Number(source, "iot cdone", d.Cdone, 0),
        };
    }

    private static GpioLineRef? Line(string source, string key, LineDocument? line)
    {
        if (line is null)
        {
            return null;
        }

        if (line.Chip is null || line.Line is null)
        {
            throw new FlashException($"{source}: {key} needs both 'chip' and 'line'");
        }

        return new GpioLineRef(line.Chip, (uint)Number(source, key + " line", line.Line, 0));
    }

    // YAML shapes; numbers stay text so they can be written in hex and reported as written.
#pragma warning disable CA1812 // Instantiated by YamlDotNet.
    private sealed class ProfileDocument
    {
        public string? Name { get; set; }

        public string? Description { get; set; }

        public string? Adapter { get; set; }

        public string? ClockHz { get; set; }

        public FtdiDocument? Ftdi { get; set; }

        public SpidevDocument? Spidev { get; set; }

        public IotDocument? Iot { get; set; }

        public GpioDocument? Gpio { get; set; }

        public SimDocument? Sim { get; set; }

        public PcieDocument? Pcie { get; set; }

        public FlashDocument? Flash { get; set; }

        public FpgaDocument? Fpga { get; set; }

        public ResetDocument? Reset { get; set; }
    }

    private sealed class FtdiDocument
    {
        public string? Vid { get; set; }

        public string? Pid { get; set; }

        public string? Interface { get; set; }

        public string? Serial { get; set; }

        public PinsDocument? Pins { get; set; }
    }

    private sealed class PinsDocument
    {
        public string? Cs { get; set; }

        public string? Creset { get; set; }

        public string? Cdone { get; set; }
    }

    private sealed class SpidevDocument
    {
        public string? Device { get; set; }
    }

    private sealed class GpioDocument
    {
        public LineDocument? Creset { get; set; }

        public LineDocument? Cdone { get; set; }
    }

    private sealed class LineDocument
    {
        public string? Chip { get; set; }

        public string? Line { get; set; }
    }

    private sealed class IotDocument
    {
        public string? Spi { get; set; }

        public string? Bus { get; set; }

        public string? ChipSelect { get; set; }

        public string? Mode { get; set; }

        public string? Serial { get; set; }

        public IotPinsDocument? Pins { get; set; }

        public IotGpioDocument? Gpio { get; set; }

        public string? Creset { get; set; }

        public string? Cdone { get; set; }
    }

    private sealed class IotPinsDocument
    {
        public string? Sck { get; set; }

        public string? Mosi { get; set; }

        public string? Miso { get; set; }

        public string? Cs { get; set; }
    }

    private sealed class IotGpioDocument
    {
        public string? Driver { get; set; }

        public string? Chip { get; set; }
    }

    private sealed class SimDocument
    {
        public string? Chip { get; set; }

        public double? TimeScale { get; set; }
    }

    private sealed class PcieDocument
    {
        public string? Platform { get; set; }

        public List<string>? Options { get; set; }

        public string? Device { get; set; }

        public string? Bar { get; set; }

        public string? Offset { get; set; }

        public string? ControllerClockHz { get; set; }
    }

    private sealed class FlashDocument
    {
        public string? Offset { get; set; }

        public string? RecordArea { get; set; }
    }

    private sealed class FpgaDocument
    {
        public string? Part { get; set; }
    }

    private sealed class ResetDocument
    {
        public string? Kind { get; set; }

        public string? CdoneTimeoutMs { get; set; }
    }
#pragma warning restore CA1812
}
