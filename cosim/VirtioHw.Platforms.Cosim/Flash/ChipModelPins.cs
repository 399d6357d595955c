using VirtioHw.Cosim;
using VirtioHw.Flash;

namespace VirtioHw.Platforms.Cosim.Flash;

/// <summary>
/// Wires the chip model to the SPI pins of the co-simulated controller: each clock cycle the
/// controller's CS#, SCK and MOSI go to <see cref="SimulatedFlashPins"/> and its MISO comes back.
/// Installed as the top's <see cref="CosimTop.CycleHook"/>.
/// </summary>
public sealed class ChipModelPins
{
    private readonly SpiFlashCtrlTop _top;
    private readonly SimulatedFlashPins _pins;

    public ChipModelPins(SpiFlashCtrlTop top, SimulatedFlash flash)
    {
        _top = top;
        _pins = new SimulatedFlashPins(flash);
        _top.SpiMisoI = _pins.Miso;
    }

    /// <summary>Rising SCK edges seen while selected: eight per byte on the wire.</summary>
    public long Edges => _pins.Edges;

    public void OnCycle()
    {
        _pins.Update(_top.SpiCsNo, _top.SpiSckO, _top.SpiMosiO);
        _top.SpiMisoI = _pins.Miso;
    }
}
