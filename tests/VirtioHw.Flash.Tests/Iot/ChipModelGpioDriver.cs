using System.Device.Gpio;
using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests.Iot;

/// <summary>
/// A dotnet/iot <see cref="GpioDriver"/> whose pins are wired to the chip model and a simulated
/// iCE40: SCK, MOSI and CS# go to the model's pins (<see cref="SimulatedFlashPins"/>) on every
/// write, MISO reads what the model drives, CRESET_B and CDONE are the FPGA's. What a
/// <c>SoftwareSpi</c> bit-bangs over it reaches the model bit by bit, as on a board's header.
/// </summary>
internal sealed class ChipModelGpioDriver : GpioDriver
{
    public const int Sck = 11;
    public const int Mosi = 10;
    public const int Miso = 9;
    public const int Cs = 8;
    public const int Creset = 25;
    public const int Cdone = 24;

    private readonly SimulatedFlashPins _pins;
    private readonly SimulatedFpga _fpga;
    private readonly Dictionary<int, PinMode> _modes = [];
    private bool _sck;
    private bool _mosi;
    private bool _csN = true;

    public ChipModelGpioDriver(SimulatedFlash flash, SimulatedFpga fpga)
    {
        _pins = new SimulatedFlashPins(flash);
        _fpga = fpga;
    }

    /// <summary>Pin writes seen, for the test to tell that the bus really bit-banged.</summary>
    public long Writes { get; private set; }

    protected override int PinCount => 28;

    protected override void OpenPin(int pinNumber) => _modes[pinNumber] = PinMode.Input;

    protected override void ClosePin(int pinNumber) => _modes.Remove(pinNumber);

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        _modes[pinNumber] = mode;
        if (pinNumber == Creset && mode == PinMode.Input)
        {
            _fpga.Creset.Release();
        }
    }

    protected override PinMode GetPinMode(int pinNumber) => _modes[pinNumber];

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => mode is PinMode.Input or PinMode.Output;

    protected override PinValue Read(int pinNumber) => pinNumber switch
    {
        Miso => _pins.Miso,
        Cdone => _fpga.Cdone.Read(),
        _ => PinValue.Low,
    };

    protected override void Toggle(int pinNumber) => Write(pinNumber, !(bool)Read(pinNumber));

    protected override void Write(int pinNumber, PinValue value)
    {
        Writes++;
        bool high = value == PinValue.High;
        switch (pinNumber)
        {
            case Sck:
                _sck = high;
                break;
            case Mosi:
                _mosi = high;
                break;
            case Cs:
                _csN = high;
                break;
            case Creset:
                _fpga.Creset.Write(high);
                return;
            default:
                return;
        }

        _pins.Update(_csN, _sck, _mosi);
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the chip model's pins raise no events");

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback) =>
        throw new NotSupportedException("the chip model's pins raise no events");

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback) =>
        throw new NotSupportedException("the chip model's pins raise no events");
}
