using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>
/// An MPSSE engine in software: decodes the command bytes the FTDI backend sends, keeps the pin
/// state, and clocks data through the chip model while chip select (ADBUS4) is low.
/// </summary>
internal sealed class MpsseEmulator(SimulatedFlash? model, int csPin = 4) : MpsseChannel
{
    private readonly Queue<byte> _replies = new();
    private readonly List<byte> _pending = [];
    private ushort _value = 0xffff;

    /// <summary>Every USB write, as sent.</summary>
    public List<byte[]> Writes { get; } = [];

    public ushort Direction { get; private set; }

    public ushort Value => _value;

    public ushort? Divisor { get; private set; }

    /// <summary>Level the emulator reports for input pins (CDONE on ADBUS6, say).</summary>
    public ushort InputLevels { get; set; }

    public override void Write(ReadOnlySpan<byte> data)
    {
        Writes.Add(data.ToArray());
        _pending.AddRange(data);
        int pos = 0;
        while (pos < _pending.Count)
        {
            int used = Decode(pos);
            if (used == 0)
            {
                break;
            }

            pos += used;
        }

        _pending.RemoveRange(0, pos);
    }

    private bool Selected => ((_value >> csPin) & 1) == 0 && ((Direction >> csPin) & 1) == 1;

    /// <summary>Executes the command at <paramref name="pos"/>; returns its length, or 0 if incomplete.</summary>
    private int Decode(int pos)
    {
        int Available() => _pending.Count - pos;
        byte op = _pending[pos];
        switch (op)
        {
            case 0x80 or 0x82:
                if (Available() < 3)
                {
                    return 0;
                }

                bool wasSelected = Selected;
                int shift = op == 0x80 ? 0 : 8;
                _value = (ushort)((_value & ~(0xff << shift)) | (_pending[pos + 1] << shift));
                Direction = (ushort)((Direction & ~(0xff << shift)) | (_pending[pos + 2] << shift));
                if (!wasSelected && Selected)
                {
                    model?.Select();
                }
                else if (wasSelected && !Selected)
                {
                    model?.Deselect();
                }

                return 3;
            case 0x81 or 0x83:
                ushort pins = (ushort)((_value & Direction) | (InputLevels & ~Direction));
                _replies.Enqueue((byte)(op == 0x81 ? pins : pins >> 8));
                return 1;
            case 0x11 or 0x20 or 0x31:
            {
                if (Available() < 3)
                {
                    return 0;
                }

                int count = (_pending[pos + 1] | (_pending[pos + 2] << 8)) + 1;
                bool sends = op != 0x20;
                if (sends && Available() < 3 + count)
                {
                    return 0;
                }

                for (int i = 0; i < count; i++)
                {
                    byte mosi = sends ? _pending[pos + 3 + i] : (byte)0;
                    byte miso = Selected && model is not null ? model.Exchange(mosi) : (byte)0xff;
                    if (op != 0x11)
                    {
                        _replies.Enqueue(miso);
                    }
                }

                return 3 + (sends ? count : 0);
            }

            case 0x86:
                if (Available() < 3)
                {
                    return 0;
                }

                Divisor = (ushort)(_pending[pos + 1] | (_pending[pos + 2] << 8));
                return 3;
            case 0x85 or 0x87 or 0x8a or 0x8d or 0x97:
                return 1;
            default:
                // An opcode the engine does not know: it answers 0xfa and the opcode.
                _replies.Enqueue(0xfa);
                _replies.Enqueue(op);
                return 1;
        }
    }

    public override void Read(Span<byte> data)
    {
        if (_replies.Count < data.Length)
        {
            throw new FlashException($"the emulated adapter has {_replies.Count} reply bytes, {data.Length} were expected");
        }

        for (int i = 0; i < data.Length; i++)
        {
            data[i] = _replies.Dequeue();
        }
    }
}

[TestFixture]
public class MpsseTests
{
    private static SpiBusSettings Settings(int clockHz = 15_000_000) =>
        new(SpiBusSettings.FtdiBackend) { ClockHz = clockHz, Ftdi = new FtdiSettings { ChipSelectPin = 4, CresetPin = 7, CdonePin = 6 } };

    [Test]
    public void Open_SynchronisesThenSetsUpTheClockAndIdlePins()
    {
        var channel = new MpsseEmulator(null);
        using var bus = new FtdiMpsseBus(Settings(), channel);
        Assert.Multiple(() =>
        {
            Assert.That(channel.Writes[0], Is.EqualTo(new byte[] { 0xaa, 0x87 }), "bogus opcode and send-immediate");
            Assert.That(channel.Writes[1], Is.EqualTo(new byte[] { 0x8a, 0x97, 0x8d, 0x85, 0x86, 0x01, 0x00, 0x80, 0x10, 0x00 }),
                "60 MHz base, no adaptive or 3-phase clocking, no loopback, divisor 1, chip select high and nothing driven");
        });
    }

    [TestCase(15_000_000, 1, 15_000_000)]
    [TestCase(6_000_000, 4, 6_000_000)]
    [TestCase(7_000_000, 4, 6_000_000)]
    [TestCase(40_000_000, 0, 30_000_000)]
    [TestCase(1_000_000, 29, 1_000_000)]
    public void ClockDivisor_GivesTheFastestRateNotAboveTheRequest(int requested, int divisor, int actual)
    {
        var channel = new MpsseEmulator(null);
        using var bus = new FtdiMpsseBus(Settings(requested), channel);
        Assert.Multiple(() =>
        {
            Assert.That(channel.Divisor, Is.EqualTo(divisor));
            Assert.That(bus.ClockHz, Is.EqualTo(actual));
        });
    }

    [Test]
    public void CommandRead_IsOneChipSelectWindow_HalfDuplexWriteThenRead()
    {
        var channel = new MpsseEmulator(new SimulatedFlash(SimulatedChipSpec.W25Q128JV));
        using var bus = new FtdiMpsseBus(Settings(), channel);
        channel.Writes.Clear();
        byte[] id = new byte[3];
        bus.CommandRead([0x9f], id);
        Assert.Multiple(() =>
        {
            Assert.That(id, Is.EqualTo(new byte[] { 0xef, 0x40, 0x18 }));
            Assert.That(channel.Writes, Has.Count.EqualTo(2));
            Assert.That(channel.Writes[0], Is.EqualTo(new byte[] { 0x80, 0x00, 0x13, 0x11, 0x00, 0x00, 0x9f, 0x20, 0x02, 0x00, 0x87 }),
                "chip select low with SCK/MOSI/CS driven, one byte out, three in, flush");
            Assert.That(channel.Writes[1], Is.EqualTo(new byte[] { 0x80, 0x10, 0x13 }), "chip select high");
        });
    }

    [Test]
    public void PageProgram_IsQueuedAndSentAsOneUsbWrite()
    {
        var channel = new MpsseEmulator(new SimulatedFlash(SimulatedChipSpec.W25Q128JV));
        using var bus = new FtdiMpsseBus(Settings(), channel);
        channel.Writes.Clear();
        bus.CommandWrite([0x02, 0, 0, 0], new byte[256]);
        Assert.Multiple(() =>
        {
            Assert.That(channel.Writes, Has.Count.EqualTo(1));
            Assert.That(channel.Writes[0][3..6], Is.EqualTo(new byte[] { 0x11, 0x03, 0x00 }));
            Assert.That(channel.Writes[0][10..13], Is.EqualTo(new byte[] { 0x11, 0xff, 0x00 }));
            Assert.That(channel.Writes[0].Length, Is.EqualTo(3 + 7 + 3 + 256 + 3));
        });
    }

    [Test]
    public void FullDuplexTransfer_UsesTheInOutOpcode()
    {
        var channel = new MpsseEmulator(new SimulatedFlash(SimulatedChipSpec.W25Q128JV));
        using var bus = new FtdiMpsseBus(Settings(), channel);
        channel.Writes.Clear();
        byte[] read = new byte[4];
        using (SpiTransaction t = bus.BeginTransaction())
        {
            t.TransferFullDuplex([0x9f, 0, 0, 0], read);
        }

        Assert.Multiple(() =>
        {
            Assert.That(channel.Writes[0][3..6], Is.EqualTo(new byte[] { 0x31, 0x03, 0x00 }));
            Assert.That(read[1..], Is.EqualTo(new byte[] { 0xef, 0x40, 0x18 }));
        });
    }

    [Test]
    public void ResetAndDoneLines_DriveAndSampleTheirPins()
    {
        var channel = new MpsseEmulator(null) { InputLevels = 1 << 6 };
        using var bus = new FtdiMpsseBus(Settings(), channel);
        using GpioLine creset = bus.OpenLine(7, "CRESET_B");
        using GpioLine cdone = bus.OpenLine(6, "CDONE");
        creset.Write(false);
        Assert.Multiple(() =>
        {
            Assert.That((channel.Direction >> 7) & 1, Is.EqualTo(1), "CRESET_B driven");
            Assert.That((channel.Value >> 7) & 1, Is.Zero, "CRESET_B low");
            Assert.That(cdone.Read(), Is.True);
        });
    }

    [Test]
    public void ReleasePins_StopsDrivingTheSpiLines_ButKeepsCresetDriven()
    {
        var channel = new MpsseEmulator(new SimulatedFlash(SimulatedChipSpec.W25Q128JV));
        using var bus = new FtdiMpsseBus(Settings(), channel);
        using GpioLine creset = bus.OpenLine(7, "CRESET_B");
        creset.Write(false);
        bus.CommandRead([0x05], new byte[1]);
        bus.ReleasePins();
        Assert.That(channel.Direction, Is.EqualTo(1 << 7));
    }

    [Test]
    public void LineOnTheHighByte_IsDrivenAndReleasedThroughAcbus()
    {
        var channel = new MpsseEmulator(null);
        using var bus = new FtdiMpsseBus(Settings(), channel);
        using GpioLine line = bus.OpenLine(9, "CRESET_B");
        line.Write(false);
        Assert.That(channel.Direction, Is.EqualTo(1 << 9));
        line.Release();
        Assert.That(channel.Direction, Is.Zero);
    }

    [Test]
    public void ChipSelectPinUsedForAnotherLine_IsRefused()
    {
        using var bus = new FtdiMpsseBus(Settings(), new MpsseEmulator(null));
        var e = Assert.Throws<FlashException>(() => bus.OpenLine(4, "CDONE"));
        Assert.That(e!.Message, Does.Contain("chip select"));
    }

    [Test]
    public void EngineOutOfSync_IsReported()
    {
        var e = Assert.Throws<FlashException>(() => new FtdiMpsseBus(Settings(), new SilentEngine()));
        Assert.That(e!.Message, Does.Contain("did not answer like an MPSSE engine"));
    }

    [Test]
    public void FullWrite_ThroughTheMpsseBackend_AgainstTheModel()
    {
        // The FTDI backend waits in wall time, which the model does not see: busy times are zero here.
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q128JV) { TimeScale = 0 };
        model.Load(0x20000, TestData.Random(8192, 51));
        using var bus = new FtdiMpsseBus(Settings(), new MpsseEmulator(model));
        using SpiNorFlash flash = SpiNorFlash.Open(bus);
        byte[] image = TestData.Random(30_000, 52);
        new FlashProgrammer(flash).Write(FlashImage.FromBytes("x.bin", image), 0x20000);
        Assert.That(model.Contents.Slice(0x20000, image.Length).ToArray(), Is.EqualTo(image));
    }

    [Test]
    public void MissingAdapter_IsOneLineSayingWhatIsMissing()
    {
        // A vendor/product pair no device uses: nothing on this machine is opened, let alone written.
        var settings = new SpiBusSettings(SpiBusSettings.FtdiBackend)
        {
            Ftdi = new FtdiSettings { VendorId = 0xfffe, ProductId = 0xfffd },
        };
        var e = Assert.Throws<FlashException>(() => SpiBus.Create(settings));
        Assert.That(e!.Message, Does.StartWith("no FTDI device fffe:fffd interface A found on USB")
            .Or.StartWith("libftdi1 is not installed (libftdi1.so.2 was not found): install it with 'apt-get install libftdi1-2'")
            .Or.StartWith("libftdi1 could not allocate a context"));
    }

    /// <summary>An adapter that answers garbage, as one left mid-command by a killed process can.</summary>
    private sealed class SilentEngine : MpsseChannel
    {
        public override void Write(ReadOnlySpan<byte> data)
        {
        }

        public override void Read(Span<byte> data) => data.Fill(0x00);
    }
}
