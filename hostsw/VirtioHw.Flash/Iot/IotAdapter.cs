using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Device.Spi;
using Iot.Device.Board;
using Iot.Device.Ft2232H;
using Iot.Device.Ft232H;
using Iot.Device.Ft4222;
using Iot.Device.FtCommon;
using Iot.Device.Spi;

namespace VirtioHw.Flash;

/// <summary>Four GPIO pins a bit-banged SPI master drives and reads.</summary>
public sealed record SoftwareSpiPins(int Sck, int Mosi, int Miso, int Cs);

/// <summary>
/// A board reached through the .NET IoT libraries (<c>adapter: iot</c>): which
/// <see cref="SpiDevice"/> carries the flash, and which <see cref="GpioController"/> pins are its
/// control lines.
/// </summary>
public sealed record IotSettings
{
    public const string Spidev = "spidev";
    public const string Ft232H = "ft232h";
    public const string Ft2232H = "ft2232h";
    public const string Ft4222 = "ft4222";
    public const string Software = "software";

    /// <summary>The SPI device: <c>spidev</c>, <c>ft232h</c>, <c>ft2232h</c>, <c>ft4222</c> or <c>software</c>.</summary>
    public required string Spi { get; init; }

    /// <summary>spidev bus number (<c>/dev/spidevBUS.CS</c>).</summary>
    public int BusId { get; init; }

    /// <summary>Chip select: spidev's CS number, the FTDI pin (ADBUS3 is the MPSSE's CS), or the FT4222's CS line.</summary>
    public int ChipSelect { get; init; }

    /// <summary>SPI mode, 0 or 3 (SPI NOR parts take both).</summary>
    public int Mode { get; init; }

    /// <summary>USB serial number of the FTDI adapter to use, or null for the first one found.</summary>
    public string? Serial { get; init; }

    /// <summary>The pins of a <c>software</c> SPI master.</summary>
    public SoftwareSpiPins? Pins { get; init; }

    /// <summary>Which driver the system GPIO controller uses: <c>auto</c> (dotnet/iot's choice) or <c>libgpiod</c>.</summary>
    public string GpioDriver { get; init; } = "auto";

    /// <summary>The gpiochip number for <c>libgpiod</c>.</summary>
    public int GpioChip { get; init; }

    /// <summary>CRESET_B and CDONE pins, on the FTDI adapter's GPIO for ft232h/ft2232h, else on the system's.</summary>
    public int? CresetPin { get; init; }

    public int? CdonePin { get; init; }
}

/// <summary>Opens an <c>iot</c> board: its <see cref="IotSpiBus"/> and control lines.</summary>
internal static class IotAdapter
{
    /// <summary>
    /// Opens the SPI device and control lines <paramref name="settings"/> name. A
    /// <paramref name="gpio"/> given here is used instead of the system's GPIO controller and stays
    /// the caller's (tests wire one to the chip model, and pass its <paramref name="modelClock"/>).
    /// </summary>
    public static (SpiBus Bus, GpioLine? Creset, GpioLine? Cdone) Open(IotSettings settings, SpiBusSettings bus, GpioController? gpio,
        SimClock? modelClock = null)
    {
        var spi = new SpiConnectionSettings(settings.BusId, settings.ChipSelect)
        {
            ClockFrequency = bus.ClockHz,
            Mode = settings.Mode == 3 ? SpiMode.Mode3 : SpiMode.Mode0,
        };
        var owned = new Owned();
        try
        {
            GpioController? lines = null;
            IotSpiBus result;
            switch (settings.Spi)
            {
                case IotSettings.Spidev:
                    result = new IotSpiBus(bus, Native(() => SpiDevice.Create(spi), $"/dev/spidev{settings.BusId}.{settings.ChipSelect}", d2xx: null), owned);
                    lines = settings.CresetPin is null && settings.CdonePin is null ? null : owned.Add(gpio ?? SystemGpio(settings));
                    break;
                case IotSettings.Ft232H or IotSettings.Ft2232H:
                {
                    Board board = owned.Add(OpenFtx232H(settings));
                    result = new IotSpiBus(bus, Native(() => board.CreateSpiDevice(spi), settings.Spi, "libftd2xx"), owned);
                    lines = settings.CresetPin is null && settings.CdonePin is null ? null : owned.Add(board.CreateGpioController());
                    break;
                }

                case IotSettings.Ft4222:
                    result = new IotSpiBus(bus, Native(() => new Ft4222Spi(spi), "FT4222", "libft4222"), owned);
                    lines = settings.CresetPin is null && settings.CdonePin is null ? null : owned.Add(gpio ?? SystemGpio(settings));
                    break;
                case IotSettings.Software:
                {
                    SoftwareSpiPins pins = settings.Pins ?? throw new FlashException("software SPI needs its pins (iot: pins: sck, mosi, miso, cs)");
                    lines = gpio ?? owned.Add(SystemGpio(settings));
                    var device = new SoftwareSpi(pins.Sck, pins.Miso, pins.Mosi, pins.Cs, spi, lines, shouldDispose: false);
                    // No message limit on a bit-banged bus: one read command can take a whole block.
                    result = new IotSpiBus(bus, device, owned, maxTransactionBytes: 64 * 1024)
                    {
                        ModelClock = modelClock,
                        PinsToRelease = [pins.Sck, pins.Mosi, pins.Cs],
                        PinController = lines,
                    };
                    break;
                }

                default:
                    throw new FlashException($"iot spi '{settings.Spi}' is not one of spidev, ft232h, ft2232h, ft4222, software");
            }

            GpioLine? creset = null, cdone = null;
            try
            {
                creset = settings.CresetPin is int r ? new GpioControllerLine(lines!, r, "CRESET_B") : null;
                cdone = settings.CdonePin is int d ? new GpioControllerLine(lines!, d, "CDONE") : null;
                return (result, creset, cdone);
            }
            catch
            {
                creset?.Dispose();
                result.Dispose();
                throw;
            }
        }
        catch
        {
            owned.Dispose();
            throw;
        }
    }

    private static GpioController SystemGpio(IotSettings settings)
    {
        try
        {
            return settings.GpioDriver switch
            {
                "auto" => new GpioController(),
                "libgpiod" => new GpioController(new LibGpiodDriver(settings.GpioChip)),
                string other => throw new FlashException($"iot gpio driver '{other}' is not one of auto, libgpiod"),
            };
        }
        catch (Exception e) when (e is PlatformNotSupportedException or DllNotFoundException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new FlashException($"cannot open this machine's GPIO controller ({settings.GpioDriver}): {e.Message}", e);
        }
    }

    private static Board OpenFtx232H(IotSettings settings)
    {
        FtDeviceType wanted = settings.Spi == IotSettings.Ft232H ? FtDeviceType.Ft232H : FtDeviceType.Ft2232H;
        List<FtDevice> devices = Native(() => FtCommon.GetDevices().Where(d => d.Type == wanted).ToList(), settings.Spi, "libftd2xx");
        FtDevice device = (settings.Serial is null ? devices.FirstOrDefault() : devices.FirstOrDefault(d => d.SerialNumber == settings.Serial))
            ?? throw new FlashException(settings.Serial is null
                ? $"no {settings.Spi.ToUpperInvariant()} adapter found through FTDI's D2XX library: check the USB cable and that no other driver (ftdi_sio) holds the device"
                : $"no {settings.Spi.ToUpperInvariant()} adapter with serial {settings.Serial} (found: {(devices.Count == 0 ? "none" : string.Join(", ", devices.Select(d => d.SerialNumber)))})");
        return settings.Spi == IotSettings.Ft232H ? new Ft232HDevice(device) : new Ft2232HDevice(device);
    }

    /// <summary>
    /// Runs <paramref name="open"/>, turning a missing native library or device into one line;
    /// <paramref name="d2xx"/> names FTDI's library the device needs, if any.
    /// </summary>
    private static T Native<T>(Func<T> open, string what, string? d2xx)
    {
        try
        {
            return open();
        }
        catch (DllNotFoundException e)
        {
            throw new FlashException(d2xx is null
                ? $"cannot open {what}: {e.Message}"
                : $"{what} needs FTDI's D2XX library ({d2xx}), which is not installed: install FTDI's D2XX driver, or on Linux use adapter: ftdi (libftdi1, Debian package libftdi1-2)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or PlatformNotSupportedException)
        {
            throw new FlashException($"cannot open {what}: {e.Message}", e);
        }
    }

    /// <summary>What the bus disposes after its SPI device, in reverse order of opening.</summary>
    private sealed class Owned : IDisposable
    {
        private readonly List<IDisposable> _items = [];

        public T Add<T>(T item)
            where T : IDisposable
        {
            _items.Add(item);
            return item;
        }

        public void Dispose()
        {
            for (int i = _items.Count - 1; i >= 0; i--)
            {
                _items[i].Dispose();
            }

            _items.Clear();
        }
    }
}
