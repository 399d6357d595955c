using VirtioHw.Cosim;

namespace VirtioHw.Flash;

/// <summary>
/// Wires the chip model to the SPI pins of the co-simulated controller, bit by bit: each clock
/// cycle it looks at CS# and SCK, takes MOSI at every rising SCK edge and drives MISO for the bit
/// the controller samples late in the high phase. The model sees exactly the bytes the RTL shifts,
/// cut where the RTL cuts them. Installed as the top's <see cref="CosimTop.CycleHook"/>.
/// </summary>
internal sealed class ChipModelPins
{
    private readonly SpiFlashCtrlTop _top;
    private readonly SimulatedFlash _flash;
    private bool _selected;
    private bool _sck;
    private int _bit;
    private byte _out;
    private byte _in;

    public ChipModelPins(SpiFlashCtrlTop top, SimulatedFlash flash)
    {
        _top = top;
        _flash = flash;
        // Nothing drives MISO while the flash is not selected; the board's pull-up holds it high.
        _top.SpiMisoI = true;
    }

    /// <summary>Rising SCK edges seen while selected: eight per byte on the wire.</summary>
    public long Edges { get; private set; }

    public void OnCycle()
    {
        if (_top.SpiCsNo)
        {
            if (_selected)
            {
                _selected = false;
                _flash.Deselect();
                _top.SpiMisoI = true;
            }

            return;
        }

        bool sck = _top.SpiSckO;
        if (!_selected)
        {
            // CS# fell: in mode 0 SCK is low now, in mode 3 high; only a later rising edge clocks.
            _selected = true;
            _flash.Select();
            _bit = 0;
            _sck = sck;
            return;
        }

        if (sck && !_sck)
        {
            Edges++;
            if (_bit == 0)
            {
                _out = _flash.BeginByte();
            }

            _in = (byte)((_in << 1) | (_top.SpiMosiO ? 1 : 0));
            _top.SpiMisoI = ((_out >> (7 - _bit)) & 1) != 0;
            if (++_bit == 8)
            {
                _flash.EndByte(_in);
                _bit = 0;
            }
        }

        _sck = sck;
    }
}
