using System.Device.Gpio;

namespace VirtioHw.Flash;

/// <summary>
/// A board control line (CRESET_B, CDONE, PROGRAM_B, INIT_B, DONE) on a pin of a dotnet/iot
/// <see cref="GpioController"/>: Raspberry Pi header pins, libgpiod lines, an FTDI adapter's GPIO.
/// The pin is opened here and closed on dispose; the controller stays the caller's.
/// </summary>
public sealed class GpioControllerLine : GpioLine
{
    private readonly GpioController _controller;
    private readonly int _pin;

    public GpioControllerLine(GpioController controller, int pin, string name)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = controller;
        _pin = pin;
        try
        {
            _controller.OpenPin(pin, PinMode.Input);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new FlashException($"cannot open GPIO pin {pin} for {name}: {e.Message}", e);
        }
    }

    public override bool Read() => _controller.Read(_pin) == PinValue.High;

    public override void Write(bool high)
    {
        if (_controller.GetPinMode(_pin) != PinMode.Output)
        {
            // Reopened with its level, so the line never glitches to the other one while it turns around.
            _controller.ClosePin(_pin);
            _controller.OpenPin(_pin, PinMode.Output, high ? PinValue.High : PinValue.Low);
            return;
        }

        _controller.Write(_pin, high ? PinValue.High : PinValue.Low);
    }

    public override void Release() => _controller.SetPinMode(_pin, PinMode.Input);

    protected override void Dispose(bool disposing)
    {
        if (disposing && _controller.IsPinOpen(_pin))
        {
            _controller.ClosePin(_pin);
        }

        base.Dispose(disposing);
    }
}
