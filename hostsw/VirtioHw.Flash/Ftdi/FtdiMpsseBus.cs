using System.Buffers;

namespace VirtioHw.Flash;

/// <summary>MPSSE opcodes (FTDI application note AN_108) the bus sends.</summary>
internal static class Mpsse
{
    /// <summary>Clock bytes out on the falling edge, MSB first, no read (SPI mode 0 write).</summary>
    public const byte WriteBytesFalling = 0x11;

    /// <summary>Clock bytes in on the rising edge, MSB first, no write (SPI mode 0 read).</summary>
    public const byte ReadBytesRising = 0x20;

    /// <summary>Clock bytes out on the falling edge and in on the rising edge (mode 0 full duplex).</summary>
    public const byte TransferBytes = 0x31;

    /// <summary>Set ADBUS0-7: value byte, then direction byte (1 = output).</summary>
    public const byte SetLowBits = 0x80;

    /// <summary>Read ADBUS0-7: one reply byte.</summary>
    public const byte ReadLowBits = 0x81;

    /// <summary>Set ACBUS0-7: value byte, then direction byte.</summary>
    public const byte SetHighBits = 0x82;

    /// <summary>Read ACBUS0-7: one reply byte.</summary>
    public const byte ReadHighBits = 0x83;

    /// <summary>Disconnect TDI from TDO (internal loopback off).</summary>
    public const byte LoopbackOff = 0x85;

    /// <summary>Clock divisor: low byte, high byte; SCK = 30 MHz / (divisor + 1) with divide-by-5 off.</summary>
    public const byte SetClockDivisor = 0x86;

    /// <summary>Flush the reply buffer to USB now instead of at the latency timer.</summary>
    public const byte SendImmediate = 0x87;

    /// <summary>Use the 60 MHz master clock (H-series only).</summary>
    public const byte DisableClockDivide5 = 0x8a;

    /// <summary>Two-phase clocking, as SPI wants.</summary>
    public const byte DisableThreePhaseClocking = 0x8d;

    /// <summary>No adaptive (RTCK) clocking.</summary>
    public const byte DisableAdaptiveClocking = 0x97;

    /// <summary>An invalid opcode: the engine answers 0xfa and the opcode, which proves it is in sync.</summary>
    public const byte BogusCommand = 0xaa;

    /// <summary>First byte of the reply to an invalid opcode.</summary>
    public const byte BadCommandReply = 0xfa;

    /// <summary>ADBUS0: SCK (TCK), fixed by the MPSSE.</summary>
    public const int SckPin = 0;

    /// <summary>ADBUS1: MOSI (TDI), fixed by the MPSSE.</summary>
    public const int MosiPin = 1;

    /// <summary>ADBUS2: MISO (TDO), fixed by the MPSSE.</summary>
    public const int MisoPin = 2;

    /// <summary>Largest byte count of one clock command (the length field holds count - 1 in 16 bits).</summary>
    public const int MaxTransfer = 65536;

    /// <summary>Master clock with divide-by-5 disabled, halved by the SCK generator.</summary>
    public const int BaseClockHz = 30_000_000;
}

/// <summary>
/// The <c>ftdi</c> backend: SPI mode 0 on an FT2232H/FT232H MPSSE engine through libftdi1.
/// Commands of a transaction are queued and sent as one USB write when chip select rises or a
/// reply is needed. Pins other than SCK/MOSI/MISO (chip select, CRESET_B, CDONE) come from the
/// board profile; they are driven only while a transaction or a GPIO line needs them.
/// </summary>
public sealed class FtdiMpsseBus : SpiBus
{
    private readonly MpsseChannel _channel;
    private readonly ArrayBufferWriter<byte> _queue = new(4096);
    private readonly int _csPin;
    private ushort _value;
    private ushort _direction;
    private bool _spiDriven;
    private bool _highByteUsed;

    internal FtdiMpsseBus(SpiBusSettings settings, MpsseChannel channel) : base(settings)
    {
        _channel = channel;
        FtdiSettings ftdi = settings.Ftdi ?? new FtdiSettings();
        _csPin = CheckPin(ftdi.ChipSelectPin, "cs");
        Divisor = (ushort)Math.Clamp((Mpsse.BaseClockHz + settings.ClockHz - 1) / Math.Max(1, settings.ClockHz) - 1, 0, 0xffff);
        ClockHz = Mpsse.BaseClockHz / (Divisor + 1);
        Synchronize();
        Queue([Mpsse.DisableClockDivide5, Mpsse.DisableAdaptiveClocking, Mpsse.DisableThreePhaseClocking, Mpsse.LoopbackOff,
            Mpsse.SetClockDivisor, (byte)Divisor, (byte)(Divisor >> 8)]);
        // Chip select idles high; nothing is driven until the first transaction.
        _value = (ushort)(1 << _csPin);
        QueuePins();
        Flush();
    }

    /// <summary>Opens the adapter the settings name through libftdi1.</summary>
    public static FtdiMpsseBus Open(SpiBusSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        MpsseChannel channel = LibFtdiChannel.Open(settings.Ftdi ?? new FtdiSettings());
        try
        {
            return new FtdiMpsseBus(settings, channel);
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }

    /// <summary>The clock divisor sent with 0x86.</summary>
    public ushort Divisor { get; }

    /// <summary>The SCK rate the divisor gives (at most the requested rate).</summary>
    public int ClockHz { get; }

    private static int CheckPin(int pin, string what) =>
        pin is >= 3 and <= 15 ? pin
        : throw new FlashException($"FTDI pin {pin} for {what} is not usable: pins 0-2 are SCK/MOSI/MISO, 3-7 are ADBUS, 8-15 ACBUS");

    private void Synchronize()
    {
        // An engine left mid-command by a killed process would misread our first bytes; the echo
        // of a bogus opcode shows it is parsing from a command boundary.
        _channel.Write([Mpsse.BogusCommand, Mpsse.SendImmediate]);
        Span<byte> reply = stackalloc byte[2];
        _channel.Read(reply);
        if (reply[0] != Mpsse.BadCommandReply || reply[1] != Mpsse.BogusCommand)
        {
            throw new FlashException(
                $"the FTDI adapter did not answer like an MPSSE engine (got {reply[0]:x2} {reply[1]:x2}, expected fa aa): is it an FT2232H/FT232H?");
        }
    }

    private void Queue(ReadOnlySpan<byte> bytes) => _queue.Write(bytes);

    private void QueuePins()
    {
        Queue([Mpsse.SetLowBits, (byte)_value, (byte)_direction]);
        // Once an ACBUS pin has been used, its byte is sent every time, so a release reaches it too.
        if (_highByteUsed)
        {
            Queue([Mpsse.SetHighBits, (byte)(_value >> 8), (byte)(_direction >> 8)]);
        }
    }

    private void Flush()
    {
        if (_queue.WrittenCount > 0)
        {
            _channel.Write(_queue.WrittenSpan);
            _queue.ResetWrittenCount();
        }
    }

    private void SetPin(int pin, bool high, bool output)
    {
        ushort bit = (ushort)(1 << pin);
        _highByteUsed |= pin >= 8;
        _value = (ushort)(high ? _value | bit : _value & ~bit);
        _direction = (ushort)(output ? _direction | bit : _direction & ~bit);
    }

    protected override void AssertChipSelect()
    {
        if (!_spiDriven)
        {
            SetPin(Mpsse.SckPin, false, true);
            SetPin(Mpsse.MosiPin, false, true);
            SetPin(_csPin, true, true);
            _spiDriven = true;
        }

        SetPin(_csPin, false, true);
        QueuePins();
    }

    protected override void ReleaseChipSelect()
    {
        SetPin(_csPin, true, true);
        QueuePins();
        Flush();
    }

    private void QueueClock(byte opcode, int count)
    {
        int n = count - 1;
        Queue([opcode, (byte)n, (byte)(n >> 8)]);
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        RequireSelected();
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, Mpsse.MaxTransfer);
            QueueClock(Mpsse.WriteBytesFalling, n);
            Queue(data[..n]);
            data = data[n..];
        }
    }

    public override void Read(Span<byte> data)
    {
        RequireSelected();
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, Mpsse.MaxTransfer);
            QueueClock(Mpsse.ReadBytesRising, n);
            Queue([Mpsse.SendImmediate]);
            Flush();
            _channel.Read(data[..n]);
            data = data[n..];
        }
    }

    public override void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read)
    {
        RequireSelected();
        if (read.Length != write.Length)
        {
            throw new ArgumentException("full-duplex buffers must be the same length", nameof(read));
        }

        while (!write.IsEmpty)
        {
            int n = Math.Min(write.Length, Mpsse.MaxTransfer);
            QueueClock(Mpsse.TransferBytes, n);
            Queue(write[..n]);
            Queue([Mpsse.SendImmediate]);
            Flush();
            _channel.Read(read[..n]);
            write = write[n..];
            read = read[n..];
        }
    }

    public override void ReleasePins()
    {
        // Only the SPI lines are let go; a CRESET_B the host drives keeps its level.
        SetPin(Mpsse.SckPin, false, false);
        SetPin(Mpsse.MosiPin, false, false);
        SetPin(_csPin, true, false);
        _spiDriven = false;
        QueuePins();
        Flush();
    }

    /// <summary>A GPIO line on pin 3-15 of this adapter; it starts undriven.</summary>
    public GpioLine OpenLine(int pin, string name)
    {
        CheckPin(pin, name);
        if (pin == _csPin)
        {
            throw new FlashException($"FTDI pin {pin} is chip select and cannot also be {name}");
        }

        return new FtdiGpioLine(this, pin, name);
    }

    private void WriteLine(int pin, bool high)
    {
        SetPin(pin, high, true);
        QueuePins();
        Flush();
    }

    private void ReleaseLine(int pin)
    {
        SetPin(pin, false, false);
        QueuePins();
        Flush();
    }

    private bool ReadLine(int pin)
    {
        Queue([pin < 8 ? Mpsse.ReadLowBits : Mpsse.ReadHighBits, Mpsse.SendImmediate]);
        Flush();
        Span<byte> reply = stackalloc byte[1];
        _channel.Read(reply);
        return ((reply[0] >> (pin & 7)) & 1) != 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Every pin back to input, so the board runs on its own after we leave.
            try
            {
                _value = 0;
                _direction = 0;
                _queue.ResetWrittenCount();
                Queue([Mpsse.SetLowBits, 0, 0, Mpsse.SetHighBits, 0, 0]);
                Flush();
            }
            catch (FlashException)
            {
                // The adapter is already gone; the error that brought us here is the one to report.
            }
            finally
            {
                _channel.Dispose();
            }
        }
    }

    private sealed class FtdiGpioLine(FtdiMpsseBus bus, int pin, string name) : GpioLine(name)
    {
        public override bool Read() => bus.ReadLine(pin);

        public override void Write(bool high) => bus.WriteLine(pin, high);

        public override void Release() => bus.ReleaseLine(pin);
    }
}
