using VirtioHw.Cosim;
using VirtioHw.Flash;
using VirtioHw.Platforms.Cosim.Flash;

namespace VirtioHw.Flash.Tests.Pcie;

/// <summary>
/// The chip model on the SPI pins of the co-simulated controller, driven through the controller's
/// registers by <see cref="SpiControllerBus"/>. Skips the test, saying why, when the controller's
/// co-simulation library is not built.
/// </summary>
internal sealed class CosimFlashHarness : IDisposable
{
    public const string TopName = "spi_flash_ctrl_top";

    /// <summary>SCK of the tests: the co-simulation clock over 4 (ctrl.div = 1).</summary>
    public const int SckHz = 25_000_000;

    public CosimFlashHarness(SimulatedChipSpec spec)
    {
        RequireLibrary();
        // Busy times scaled down: waits cost nothing in the co-simulation, but polls do.
        Model = new SimulatedFlash(spec) { TimeScale = 0.01 };
        Port = new CosimControllerPort(Model);
        Bus = new SpiControllerBus(Port, new SpiBusSettings(SpiBusSettings.PcieCosimBackend) { ClockHz = SckHz, Controller = Port });
        Model.BusClockHz = (int)Bus.SckHz;
    }

    public SimulatedFlash Model { get; }

    public CosimControllerPort Port { get; }

    public SpiControllerBus Bus { get; }

    public static void RequireLibrary()
    {
        if (!CosimLibrary.IsBuilt(TopName, out string reason))
        {
            Assert.Ignore($"{reason} (make cosim builds it)");
        }
    }

    public void Dispose() => Bus.Dispose();
}
