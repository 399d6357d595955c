namespace VirtioHw.Flash;

/// <summary>
/// An iCE40-like FPGA next to the chip model: CRESET_B held low keeps it off the bus; after its
/// release CDONE rises once the configuration time has passed, provided the flash holds something
/// at the bitstream offset (a blank flash never configures it).
/// </summary>
public sealed class SimulatedFpga
{
    private readonly SimulatedFlash _flash;
    private readonly long _bitstreamOffset;
    private readonly TimeSpan _configurationTime;
    private bool _resetHigh = true;
    private long _releasedAtNs;

    public SimulatedFpga(SimulatedFlash flash, long bitstreamOffset, TimeSpan configurationTime)
    {
        ArgumentNullException.ThrowIfNull(flash);
        _flash = flash;
        _bitstreamOffset = bitstreamOffset;
        _configurationTime = configurationTime;
        Creset = new ResetLine(this);
        Cdone = new DoneLine(this);
    }

    /// <summary>CRESET_B, driven by the host.</summary>
    public GpioLine Creset { get; }

    /// <summary>CDONE, driven by the FPGA.</summary>
    public GpioLine Cdone { get; }

    private bool IsConfigured()
    {
        if (!_resetHigh || _flash.Clock.Nanoseconds - _releasedAtNs < _configurationTime.Ticks * 100)
        {
            return false;
        }

        ReadOnlySpan<byte> contents = _flash.Contents;
        int length = (int)Math.Clamp(contents.Length - _bitstreamOffset, 0, 16);
        return length > 0 && contents.Slice((int)_bitstreamOffset, length).ContainsAnyExcept((byte)0xff);
    }

    private void SetReset(bool high)
    {
        if (high && !_resetHigh)
        {
            _releasedAtNs = _flash.Clock.Nanoseconds;
        }

        _resetHigh = high;
    }

    private sealed class ResetLine(SimulatedFpga fpga) : GpioLine("CRESET_B")
    {
        public override bool Read() => fpga._resetHigh;

        public override void Write(bool high) => fpga.SetReset(high);

        // The board's pull-up takes a released CRESET_B high.
        public override void Release() => fpga.SetReset(true);
    }

    private sealed class DoneLine(SimulatedFpga fpga) : GpioLine("CDONE")
    {
        public override bool Read() => fpga.IsConfigured();

        public override void Write(bool high) =>
            throw new InvalidOperationException("CDONE is driven by the FPGA");

        public override void Release()
        {
        }
    }
}
