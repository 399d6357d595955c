using System.Device.Gpio;
using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests.Iot;

/// <summary>
/// The dotnet/iot back-end end to end: the real <c>SoftwareSpi</c> and <c>GpioController</c> of
/// the .NET IoT libraries bit-bang the flash commands over a GPIO driver wired to the chip model,
/// and the iCE40's CRESET_B and CDONE are controller pins too.
/// </summary>
[TestFixture]
public class IotBusTests
{
    private const string Profile = """
        name: pi-header
        description: iCE40 flash on a Raspberry Pi header, bit-banged
        adapter: iot
        clock-hz: 1000000
        iot:
          spi: software
          pins: { sck: 11, mosi: 10, miso: 9, cs: 8 }
          creset: 25
          cdone: 24
        flash:
          offset: 0
        reset:
          kind: ice40
        """;

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = TestData.TempDirectory();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string File(string name, byte[] data)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllBytes(path, data);
        return path;
    }

    [Test]
    public void SoftwareSpiOverAGpioDriver_WritesReflashesAndVerifies_AndTheFpgaBoots()
    {
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q128JV) { TimeScale = 0.01 };
        var fpga = new SimulatedFpga(model, 0, TimeSpan.FromMilliseconds(70));
        var driver = new ChipModelGpioDriver(model, fpga);
        using var gpio = new GpioController(driver);
        string profile = File("pi-header.yaml", System.Text.Encoding.UTF8.GetBytes(Profile));
        var options = new FlashToolOptions { Board = profile, Simulation = model, Gpio = gpio };
        var output = new StringWriter();
        var tool = new FlashTool(output, SilentProgressHost.Instance);

        // Data another tool left beside the image must survive, as on every back-end.
        byte[] beside = TestData.Random(4096, 80);
        model.Load(0x10000, beside);
        byte[] image = TestData.Random(9000, 81);
        Assert.That(tool.Write(options, File("top.bin", image), 0x0, dryRun: false, unprotect: false), Is.Zero);
        long firstWrites = driver.Writes;
        image[4321] = (byte)~image[4321];
        Assert.That(tool.Write(options, File("top.bin", image), 0x0, dryRun: false, unprotect: false), Is.Zero);
        Assert.That(tool.Verify(options, File("top.bin", image), 0x0), Is.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(model.Contents.Slice(0, image.Length).ToArray(), Is.EqualTo(image));
            Assert.That(model.Contents.Slice(0x10000, beside.Length).ToArray(), Is.EqualTo(beside));
            Assert.That(firstWrites, Is.GreaterThan(8 * 9000), "every bit went through the GPIO driver");
            Assert.That(output.ToString(), Does.Contain("flash: Winbond W25Q128JV"));
            Assert.That(output.ToString(), Does.Contain("CDONE went high"));
        });
    }

    [Test]
    public void MissingD2xxLibrary_IsOneLineNamingWhatToInstall()
    {
        string profile = File("ft232h.yaml", System.Text.Encoding.UTF8.GetBytes("""
            name: ft232h
            description: FT232H through FTDI's D2XX library
            adapter: iot
            iot:
              spi: ft232h
            """));
        var tool = new FlashTool(TextWriter.Null, SilentProgressHost.Instance);
        if (NativeLibraryPresent("ftd2xx"))
        {
            Assert.Ignore("FTDI's D2XX library is installed on this machine, so its absence cannot be shown here");
        }

        var e = Assert.Throws<FlashException>(() => tool.Info(new FlashToolOptions { Board = profile }));
        Assert.That(e!.Message, Does.StartWith("ft232h needs FTDI's D2XX library (libftd2xx), which is not installed"));
        Assert.That(e.Message, Does.Not.Contain('\n'));
    }

    [Test]
    public void IotProfile_WithoutItsPins_IsRefusedInOneLine()
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "adapter: iot\niot:\n  spi: software\n"));
        Assert.That(e!.Message, Is.EqualTo("b.yaml: iot spi software needs 'pins' (sck, mosi, miso, cs)"));
        e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "adapter: iot\niot:\n  spi: ft232h\nreset:\n  kind: ice40\n"));
        Assert.That(e!.Message, Is.EqualTo("b.yaml: reset kind ice40 needs iot creset and cdone pins"));
    }

    private static bool NativeLibraryPresent(string name)
    {
        if (System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out IntPtr handle) ||
            System.Runtime.InteropServices.NativeLibrary.TryLoad("lib" + name + ".so", out handle))
        {
            System.Runtime.InteropServices.NativeLibrary.Free(handle);
            return true;
        }

        return false;
    }
}

/// <summary>Options people type with other flash tools, in place of a profile's values.</summary>
[TestFixture]
public class BoardOverrideTests
{
    [TestCase("6000000", 6_000_000)]
    [TestCase("6M", 6_000_000)]
    [TestCase("6MHz", 6_000_000)]
    [TestCase("500k", 500_000)]
    [TestCase("1.5M", 1_500_000)]
    [TestCase("0x100", 256)]
    public void TryParseHertz_TakesWhatIceprogAndOpenFpgaLoaderTake(string text, long expected)
    {
        Assert.That(Units.TryParseHertz(text, out long hz), Is.True);
        Assert.That(hz, Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("0")]
    [TestCase("6Mi")]
    [TestCase("0.5")]
    [TestCase("-1M")]
    public void TryParseHertz_RejectsTheRest(string text) => Assert.That(Units.TryParseHertz(text, out _), Is.False);

    [Test]
    public void FtdiSerialAndInterface_ReplaceTheProfiles_AndFitOnlyFtdiBoards()
    {
        BoardProfile icebreaker = BoardProfiles.Find("icebreaker");
        BoardProfile changed = new BoardOverrides { FtdiSerial = "FT99", FtdiInterface = 'B' }.ApplyTo(icebreaker);
        Assert.Multiple(() =>
        {
            Assert.That(changed.Ftdi!.Serial, Is.EqualTo("FT99"));
            Assert.That(changed.Ftdi.Interface, Is.EqualTo('B'));
            Assert.That(changed.Ftdi.ChipSelectPin, Is.EqualTo(icebreaker.Ftdi!.ChipSelectPin), "the rest stays the profile's");
            Assert.That(icebreaker.Ftdi.Serial, Is.Null, "the loaded profile is not changed");
        });
        var e = Assert.Throws<FlashException>(() => new BoardOverrides { FtdiSerial = "FT99" }.ApplyTo(BoardProfiles.Find("sim")));
        Assert.That(e!.Message, Is.EqualTo("--ftdi-serial applies to boards on an FTDI adapter; board sim uses adapter sim"));
    }

    [Test]
    public void SpidevAndSlot_ReplaceTheProfiles()
    {
        Assert.That(new BoardOverrides { Spidev = "/dev/spidev1.1" }.ApplyTo(BoardProfiles.Find("generic-spi")).Spidev!.DevicePath, Is.EqualTo("/dev/spidev1.1"));
        Assert.That(new BoardOverrides { Slot = "0000:03:00.0" }.ApplyTo(BoardProfiles.Find("smartnic-pcie")).Pcie!.Device, Is.EqualTo("0000:03:00.0"));
        BoardProfile iot = BoardProfiles.Parse("b.yaml", "adapter: iot\niot:\n  spi: spidev\n");
        BoardProfile moved = new BoardOverrides { Spidev = "/dev/spidev2.1" }.ApplyTo(iot);
        Assert.That((moved.Iot!.BusId, moved.Iot.ChipSelect), Is.EqualTo((2, 1)));
        var e = Assert.Throws<FlashException>(() => new BoardOverrides { Slot = "0000:03:00.0" }.ApplyTo(BoardProfiles.Find("icebreaker")));
        Assert.That(e!.Message, Is.EqualTo("--slot applies to pcie boards; board icebreaker uses adapter ftdi"));
    }
}
