namespace VirtioHw.Flash;

/// <summary>
/// The chip model on its four wires, for a host that moves single bits: an RTL SPI controller in
/// co-simulation, or a master bit-banged over GPIO. SPI modes 0 and 3, as the part has them: MOSI is
/// taken at every rising SCK edge; MISO changes when CS# falls and at falling SCK edges, so each bit
/// is there before the rising edge it belongs to and stays through the high phase after it. The
/// model sees exactly the bytes on the wire, cut where chip select cuts them.
/// </summary>
public sealed class SimulatedFlashPins
{
    private readonly SimulatedFlash _flash;
    private bool _selected;
    private bool _sck;

    // Bits of the current byte taken so far, and whether its BeginByte has run.
    private int _bit;
    private bool _begun;
    private byte _in;

    // The byte period the host is in and the bit of it MISO shows; a byte not yet begun shows
    // what the part has ready for it (PeekByte).
    private byte _out;
    private int _shown;
    private bool _shownBegun;

    public SimulatedFlashPins(SimulatedFlash flash)
    {
        ArgumentNullException.ThrowIfNull(flash);
        _flash = flash;
    }

    /// <summary>Rising SCK edges seen while selected: eight per byte on the wire.</summary>
    public long Edges { get; private set; }

    /// <summary>
    /// What the part drives on MISO now; high while it is not selected (the board's pull-up holds
    /// the undriven line).
    /// </summary>
    public bool Miso
    {
        get
        {
            if (!_selected)
            {
                return true;
            }

            byte value = _shownBegun ? _out : _flash.PeekByte();
            return ((value >> (7 - _shown)) & 1) != 0;
        }
    }

    /// <summary>Takes the levels the host drives now; call it whenever one of them may have changed.</summary>
    public void Update(bool csN, bool sck, bool mosi)
    {
        if (csN)
        {
            if (_selected)
            {
                _selected = false;
                _flash.Deselect();
            }

            _sck = sck;
            return;
        }

        if (!_selected)
        {
            // CS# fell: in mode 0 SCK is low now, in mode 3 high; only a later rising edge clocks.
            _selected = true;
            _flash.Select();
            _bit = 0;
            _begun = false;
            _shown = 0;
            _shownBegun = false;
            _sck = sck;
            return;
        }

        if (sck && !_sck)
        {
            Edges++;
            if (!_begun)
            {
                _out = _flash.BeginByte();
                _begun = true;
            }

            // MISO keeps this bit through the high phase.
            _shown = _bit;
            _shownBegun = true;
            _in = (byte)((_in << 1) | (mosi ? 1 : 0));
            if (++_bit == 8)
            {
                _flash.EndByte(_in);
                _bit = 0;
                _begun = false;
            }
        }
        else if (!sck && _sck)
        {
            // The part shifts the next bit out; the first bit of a new byte is what it has ready.
            _shown = _bit;
            _shownBegun = _begun;
        }

        _sck = sck;
    }
}
