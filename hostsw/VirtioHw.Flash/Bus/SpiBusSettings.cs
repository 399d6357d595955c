namespace VirtioHw.Flash;

/// <summary>
/// How to reach one SPI flash: which backend, at what clock, and the backend's own settings. Taken
/// by <see cref="SpiBus.Create"/> and never changed afterwards.
/// </summary>
public sealed class SpiBusSettings
{
    public const string FtdiBackend = "ftdi";
    public const string SpidevBackend = "spidev";
    public const string SimBackend = "sim";
    public const string PcieBackend = "pcie";
    public const string PcieCosimBackend = "pcie-cosim";
    public const string IotBackend = "iot";

    public SpiBusSettings(string backend)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(backend);
        Backend = backend;
    }

    /// <summary>Backend name: <c>ftdi</c>, <c>spidev</c>, <c>sim</c>, <c>pcie</c>, <c>pcie-cosim</c> or <c>iot</c>.</summary>
    public string Backend { get; }

    /// <summary>SPI clock in Hz; backends round down to the nearest rate they can make.</summary>
    public int ClockHz { get; init; } = 6_000_000;

    public FtdiSettings? Ftdi { get; init; }

    public SpidevSettings? Spidev { get; init; }

    /// <summary>The dotnet/iot SPI device of an <c>iot</c> bus.</summary>
    public IotSettings? Iot { get; init; }

    /// <summary>The chip model a <c>sim</c> bus drives; the caller keeps ownership.</summary>
    public SimulatedFlash? Simulation { get; init; }

    /// <summary>The SPI flash controller a <c>pcie</c> or <c>pcie-cosim</c> bus drives; the bus takes ownership.</summary>
    public SpiControllerPort? Controller { get; init; }
}

/// <summary>Where the SPI flash controller of a <c>pcie</c> board is: a platform, a PCI function, a BAR.</summary>
public sealed record PcieSettings
{
    /// <summary>Platform that reaches the card (<c>sysfs</c> for a real one, see <c>virtiohw lspci</c>).</summary>
    public string Platform { get; init; } = "sysfs";

    /// <summary>The platform's <c>name=value</c> parameters.</summary>
    public IReadOnlyList<string> PlatformOptions { get; init; } = [];

    /// <summary>PCI address of the function, e.g. <c>0000:01:00.0</c>.</summary>
    public required string Device { get; init; }

    public int Bar { get; init; }

    /// <summary>Offset of the controller's registers inside the BAR.</summary>
    public long Offset { get; init; }

    /// <summary>The controller's clock on that card, which its SCK divider divides.</summary>
    public long ControllerClockHz { get; init; } = 125_000_000;
}

/// <summary>An FTDI H-series adapter in MPSSE mode; SCK, MOSI and MISO are ADBUS0-2 by design of the chip.</summary>
public sealed record FtdiSettings
{
    public int VendorId { get; init; } = 0x0403;

    public int ProductId { get; init; } = 0x6010;

    /// <summary>Channel of a multi-channel chip: 'A' to 'D'.</summary>
    public char Interface { get; init; } = 'A';

    /// <summary>USB serial number to pick one of several identical adapters, or null for the first.</summary>
    public string? Serial { get; init; }

    /// <summary>Pin numbers 0-7 are ADBUS0-7 (low byte), 8-15 ACBUS0-7 (high byte).</summary>
    public int ChipSelectPin { get; init; } = 4;

    public int? CresetPin { get; init; }

    public int? CdonePin { get; init; }
}

/// <summary>A Linux spidev node; chip select is the controller's, so one transaction is one ioctl message.</summary>
public sealed record SpidevSettings
{
    public string DevicePath { get; init; } = "/dev/spidev0.0";
}
