using VirtioHw.Cosim;
using VirtioHw.Flash;

namespace VirtioHw.Platforms.Cosim.Flash;

/// <summary>
/// The <c>pcie-cosim</c> backend's port: the Verilated <c>spi_flash_ctrl_top</c>, one AXI4-Lite
/// access per register access, with its SPI pins wired to a <see cref="SimulatedFlash"/> at pin level
/// (<see cref="ChipModelPins"/>). Waits pass in the chip model's time rather than as clock cycles, so
/// a 64 KiB erase costs no simulation. The port owns the top; the caller keeps the chip model.
/// </summary>
public sealed class CosimControllerPort : SpiControllerPort
{
    /// <summary>The co-simulation shim's clock: one cycle every 10 ns.</summary>
    public const long CosimClockHz = 100_000_000;

    private readonly SimulatedFlash _flash;
    private readonly ChipModelPins _pins;

    /// <exception cref="FlashException">The co-simulation library of the controller is not built.</exception>
    public CosimControllerPort(SimulatedFlash flash)
    {
        ArgumentNullException.ThrowIfNull(flash);
        _flash = flash;
        try
        {
            Top = new SpiFlashCtrlTop();
        }
        catch (CosimLibraryException e)
        {
            throw new FlashException($"the co-simulated SPI flash controller is not available: {e.Message}", e);
        }

        _pins = new ChipModelPins(Top, flash);
        Top.CycleHook = _pins.OnCycle;
        // A register access never waits on the SPI side, but polls do run while the FIFOs drain.
        Top.TimeoutCycles = 10_000;
    }

    /// <summary>The Verilated controller (for waveforms: <c>Top.OpenTrace(path)</c>).</summary>
    public SpiFlashCtrlTop Top { get; }

    /// <summary>Rising SCK edges the chip model has seen while selected.</summary>
    public long SckEdges => _pins.Edges;

    public override string Description => "the co-simulated spi_flash_ctrl_top";

    public override long ControllerClockHz => CosimClockHz;

    public override TimeProvider Time => _flash.Clock;

    public override string Activity => $"RTL {Top.Cycle} clock cycles at {CosimClockHz / 1_000_000} MHz, {SckEdges} SCK edges to the chip model";

    /// <summary>Opens the port for the <c>pcie-cosim</c> back-end (<see cref="BoardConnection.Open"/>).</summary>
    public static SpiControllerPort Open(SimulatedFlash flash) => new CosimControllerPort(flash);

    public override uint Read(uint offset) => Top.AxiRead(offset);

    public override void Write(uint offset, uint value) => Top.AxiWrite(offset, value);

    public override void Wait(TimeSpan duration) => _flash.Clock.Advance(duration);

    private bool _disposed;

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            Top.CycleHook = null;
            Top.Dispose();
        }
    }
}
