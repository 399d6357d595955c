using VirtioHw.Cosim;
using VirtioHw.Flash;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Cosim.Flash;
using VirtioHw.Registers;

namespace VirtioHw.Flash.Tests.Pcie;

/// <summary>The pcie and pcie-cosim boards: profiles, the flash commands end to end, the BAR port.</summary>
[TestFixture]
public class PcieBoardTests
{
    private string _dir = null!;
    private StringWriter _out = null!;
    private FlashTool _tool = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = TestData.TempDirectory();
        _out = new StringWriter();
        _tool = new FlashTool(_out, SilentProgressHost.Instance, CosimControllerPort.Open);
    }

    [TearDown]
    public void TearDown()
    {
        _out.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public void PcieProfile_ReadsPlatformDeviceBarOffsetAndControllerClock()
    {
        BoardProfile p = BoardProfiles.Parse("card.yaml", """
            adapter: pcie
            pcie:
              platform: qemu
              options: [socket=/tmp/q.sock]
              device: 0000:03:00.0
              bar: 2
              offset: 0x4000
              controller-clock-hz: 250000000
            """);
        Assert.Multiple(() =>
        {
            Assert.That(p.Adapter, Is.EqualTo(SpiBusSettings.PcieBackend));
            Assert.That(p.Pcie!.Platform, Is.EqualTo("qemu"));
            Assert.That(p.Pcie.PlatformOptions, Is.EqualTo(new[] { "socket=/tmp/q.sock" }));
            Assert.That(p.Pcie.Device, Is.EqualTo("0000:03:00.0"));
            Assert.That(p.Pcie.Bar, Is.EqualTo(2));
            Assert.That(p.Pcie.Offset, Is.EqualTo(0x4000));
            Assert.That(p.Pcie.ControllerClockHz, Is.EqualTo(250_000_000));
        });
    }

    [TestCase("adapter: pcie\n", "card.yaml: a pcie adapter needs a 'pcie' section (platform, device, bar, offset)")]
    [TestCase("adapter: pcie\npcie:\n  bar: 0\n", "card.yaml: pcie 'device' is missing (the PCI address, e.g. 0000:01:00.0)")]
    [TestCase("adapter: pcie\npcie:\n  device: 0000:01:00.0\n  bar: 6\n", "card.yaml: pcie bar 6 is not 0-5")]
    [TestCase("adapter: pcie-cosim\nsim:\n  chip: W25Q999\n", null)]
    public void PcieProfile_WithAMistake_IsRefusedInOneLine(string yaml, string? message)
    {
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("card.yaml", yaml));
        Assert.That(e!.Message, message is null ? Does.Contain("W25Q999") : Is.EqualTo(message));
    }

    [Test]
    public void PcieBoard_WithAnAddressNoPlatformHas_FailsNamingIt()
    {
        BoardProfile p = BoardProfiles.Parse("card.yaml", "adapter: pcie\npcie:\n  platform: nosuch\n  device: 0000:01:00.0\n");
        var e = Assert.Throws<FlashException>(() => BoardConnection.Open(p));
        Assert.That(e!.Message, Does.StartWith("card.yaml: unknown platform 'nosuch'"));
    }

    [Test]
    public void WriteThenVerify_OnThePcieCosimBoard_GoesThroughTheRtl_AndKeepsTheSimImage()
    {
        CosimFlashHarness.RequireLibrary();
        string simImage = Path.Combine(_dir, "chip.bin");
        string image = Path.Combine(_dir, "app.bin");
        File.WriteAllBytes(image, TestData.Random(6_000, 81));
        var options = new FlashToolOptions { Board = "pcie-cosim", SimImage = simImage };
        Assert.That(_tool.Write(options, image, offset: 0x10000, dryRun: false, unprotect: false), Is.Zero);
        Assert.That(_tool.Verify(options, image, offset: 0x10000), Is.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllBytes(simImage).AsSpan(0x10000, 6_000).ToArray(), Is.EqualTo(File.ReadAllBytes(image)));
            Assert.That(_out.ToString(), Does.Contain("the flash matches all 6000 bytes at 0x010000"));
            Assert.That(_out.ToString(), Does.Contain("controller: SCK 25 MHz (ctrl.div 1), RTL "));
        });
    }

    [Test]
    public void PlatformBarPort_AddressesTheControllerAtTheBarAddressPlusOffset()
    {
        CosimFlashHarness.RequireLibrary();
        const ulong bar = 0xfe00_0000, offset = 0x100;
        var platform = new OneWindowPlatform(bar + offset);
        var port = new PlatformBarPort(platform, bar + offset, CosimControllerPort.CosimClockHz, "test BAR", ownsPlatform: true);
        var model = new SimulatedFlash(SimulatedChipSpec.ForName("W25Q64JV"));
        platform.Pins = new ChipModelPins(platform.Top, model);
        platform.Top.CycleHook = platform.Pins.OnCycle;
        using (var bus = new SpiControllerBus(port, new SpiBusSettings(SpiBusSettings.PcieBackend) { ClockHz = 25_000_000 }))
        using (SpiNorFlash flash = SpiNorFlash.Open(bus))
        {
            Assert.That(flash.JedecId, Is.EqualTo(model.Part.JedecId));
        }

        Assert.That(platform.Disposed, Is.True, "the bus disposes its port, the port its platform");
    }

    /// <summary>A platform whose only memory is the co-simulated controller at one address window.</summary>
    private sealed class OneWindowPlatform(ulong window) : Platform
    {
        public SpiFlashCtrlTop Top { get; } = new();

        internal ChipModelPins? Pins { get; set; }

        public bool Disposed { get; private set; }

        public override string Name => "one-window";

        public override uint ReadConfig(PciAddress function, int offset, int width) => throw new NotSupportedException();

        public override void WriteConfig(PciAddress function, int offset, int width, uint value) => throw new NotSupportedException();

        public override ulong ReadMemory(ulong address, int width) => Top.AxiRead(Offset(address, width));

        public override void WriteMemory(ulong address, int width, ulong value) => Top.AxiWrite(Offset(address, width), (uint)value);

        public override MsiVector AllocateMsiVector() => throw new NotSupportedException();

        public override DmaRegion AllocateDma(int length, int alignment = 4096) => throw new NotSupportedException();

        protected override ValueTask DisposeAsyncCore()
        {
            Disposed = true;
            Top.Dispose();
            return ValueTask.CompletedTask;
        }

        private uint Offset(ulong address, int width)
        {
            Assert.That(width, Is.EqualTo(4), "the controller is accessed in 32-bit words");
            Assert.That(address - window, Is.LessThan(SpiFlashCtrl.Size), $"access at 0x{address:x} is outside the controller");
            return (uint)(address - window);
        }
    }
}
