using System.Device.Spi;

namespace VirtioHw.Flash;

/// <summary>
/// The flasher's SPI bus over any dotnet/iot <see cref="SpiDevice"/>: Linux spidev through
/// <see cref="SpiDevice.Create"/>, FTDI FT232H/FT2232H/FT4222 through Iot.Device.Bindings, or
/// <c>SoftwareSpi</c> bit-banged over a <c>GpioController</c>.
/// </summary>
/// <remarks>
/// A <see cref="SpiDevice"/> holds chip select low for one call only, while a flash command is one
/// chip-select period across its phases. So a transaction's writes are staged and go out with the
/// read that follows them in one <see cref="SpiDevice.TransferFullDuplex"/>, or alone in one
/// <see cref="SpiDevice.Write"/> when chip select is released: one device call per flash command.
/// A flash command never writes after it has read, so nothing follows a read inside a transaction.
/// </remarks>
public sealed class IotSpiBus : SpiBus
{
    private readonly SpiDevice _device;
    private readonly IDisposable? _owner;
    private byte[] _tx = new byte[64];
    private byte[] _rx = new byte[64];
    private int _staged;
    private bool _sent;

    /// <summary>
    /// A bus on <paramref name="device"/>, which it disposes, and then <paramref name="owner"/> (the
    /// adapter or GPIO controller the device was made from), if given.
    /// </summary>
    public IotSpiBus(SpiBusSettings settings, SpiDevice device, IDisposable? owner = null, int maxTransactionBytes = DefaultMaxTransactionBytes)
        : base(settings)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTransactionBytes, 260);
        _device = device;
        _owner = owner;
        MaxTransactionBytes = maxTransactionBytes;
    }

    /// <summary>Linux spidev's default message limit (the spidev module's bufsiz), which bounds one call.</summary>
    public const int DefaultMaxTransactionBytes = 4096;

    public override int MaxTransactionBytes { get; }

    /// <summary>
    /// The chip model's clock when the device's wires lead to the model (tests): waits then pass in
    /// model time, as on the <c>sim</c> bus, instead of on the wall clock.
    /// </summary>
    public SimClock? ModelClock { get; init; }

    public override TimeProvider Time => ModelClock ?? TimeProvider.System;

    public override void Wait(TimeSpan duration)
    {
        if (ModelClock is SimClock clock)
        {
            clock.Advance(duration);
            return;
        }

        base.Wait(duration);
    }

    /// <summary>Pins of a bit-banged bus to turn into inputs when the FPGA takes the lines (<see cref="ReleasePins"/>).</summary>
    public IReadOnlyList<int> PinsToRelease { get; init; } = [];

    /// <summary>The controller of <see cref="PinsToRelease"/>.</summary>
    public System.Device.Gpio.GpioController? PinController { get; init; }

    public override void ReleasePins()
    {
        foreach (int pin in PinsToRelease)
        {
            PinController?.SetPinMode(pin, System.Device.Gpio.PinMode.Input);
        }
    }

    /// <summary>The device calls made: one per flash command.</summary>
    public long DeviceCalls { get; private set; }

    protected override void AssertChipSelect()
    {
        _staged = 0;
        _sent = false;
    }

    protected override void ReleaseChipSelect()
    {
        if (!_sent && _staged > 0)
        {
            DeviceCalls++;
            _device.Write(_tx.AsSpan(0, _staged));
        }
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        RequireOpen();
        data.CopyTo(Reserve(data.Length));
    }

    public override void Read(Span<byte> data)
    {
        RequireOpen();
        int header = _staged;
        Reserve(data.Length).Clear();
        Send();
        _rx.AsSpan(header, data.Length).CopyTo(data);
    }

    public override void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read)
    {
        RequireOpen();
        if (read.Length != write.Length)
        {
            throw new ArgumentException("full-duplex buffers must be the same length", nameof(read));
        }

        int header = _staged;
        write.CopyTo(Reserve(write.Length));
        Send();
        _rx.AsSpan(header, read.Length).CopyTo(read);
    }

    /// <summary>The next <paramref name="count"/> bytes of the staged transaction, to fill.</summary>
    private Span<byte> Reserve(int count)
    {
        int end = _staged + count;
        if (end > MaxTransactionBytes)
        {
            throw new FlashException($"an SPI transaction of {end} bytes exceeds this adapter's limit of {MaxTransactionBytes}");
        }

        if (end > _tx.Length)
        {
            int size = Math.Max(_tx.Length * 2, end);
            Array.Resize(ref _tx, size);
            _rx = new byte[size];
        }

        Span<byte> span = _tx.AsSpan(_staged, count);
        _staged = end;
        return span;
    }

    private void Send()
    {
        DeviceCalls++;
        _device.TransferFullDuplex(_tx.AsSpan(0, _staged), _rx.AsSpan(0, _staged));
        _sent = true;
    }

    private void RequireOpen()
    {
        RequireSelected();
        if (_sent)
        {
            throw new InvalidOperationException("a dotnet/iot SPI device releases chip select after each call; a transaction cannot continue after a read");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _device.Dispose();
            _owner?.Dispose();
        }

        base.Dispose(disposing);
    }
}
