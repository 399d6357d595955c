using System.Runtime.CompilerServices;
using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>
/// ioctl numbers and struct layouts against the values the kernel's uapi headers
/// (linux/spi/spidev.h, linux/gpio.h) give on x86-64 and arm64, as printed by a C program
/// compiled against them.
/// </summary>
[TestFixture]
public class LinuxInteropTests
{
    private static int Offset<TStruct, TField>(ref TStruct value, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref value), ref Unsafe.As<TField, byte>(ref field));

    [Test]
    public void SpidevRequests_MatchTheKernelHeaders()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SpidevIoctl.Message(1), Is.EqualTo(0x40206b00u), "SPI_IOC_MESSAGE(1)");
            Assert.That(SpidevIoctl.Message(2), Is.EqualTo(0x40406b00u), "SPI_IOC_MESSAGE(2)");
            Assert.That(SpidevIoctl.WriteMode, Is.EqualTo(0x40016b01u), "SPI_IOC_WR_MODE");
            Assert.That(SpidevIoctl.WriteBitsPerWord, Is.EqualTo(0x40016b03u), "SPI_IOC_WR_BITS_PER_WORD");
            Assert.That(SpidevIoctl.WriteMaxSpeedHz, Is.EqualTo(0x40046b04u), "SPI_IOC_WR_MAX_SPEED_HZ");
            Assert.That(IoctlNumber.Read((byte)'k', 1, 1, powerPc: false), Is.EqualTo(0x80016b01u), "SPI_IOC_RD_MODE");
        });
    }

    [Test]
    public void GpioV2Requests_MatchTheKernelHeaders()
    {
        Assert.Multiple(() =>
        {
            Assert.That(GpioV2.GetLineIoctl, Is.EqualTo(0xc250b407u), "GPIO_V2_GET_LINE_IOCTL");
            Assert.That(GpioV2.SetConfigIoctl, Is.EqualTo(0xc110b40du), "GPIO_V2_LINE_SET_CONFIG_IOCTL");
            Assert.That(GpioV2.GetValuesIoctl, Is.EqualTo(0xc010b40eu), "GPIO_V2_LINE_GET_VALUES_IOCTL");
            Assert.That(GpioV2.SetValuesIoctl, Is.EqualTo(0xc010b40fu), "GPIO_V2_LINE_SET_VALUES_IOCTL");
            Assert.That(GpioV2.FlagInput, Is.EqualTo(0x4UL));
            Assert.That(GpioV2.FlagOutput, Is.EqualTo(0x8UL));
        });
    }

    [Test]
    public void PowerPcLayout_UsesThreeDirectionBits()
    {
        Assert.Multiple(() =>
        {
            Assert.That(IoctlNumber.Write((byte)'k', 0, 32, powerPc: true), Is.EqualTo(0x80206b00u));
            Assert.That(IoctlNumber.Read((byte)'k', 1, 1, powerPc: true), Is.EqualTo(0x40016b01u));
            Assert.That(IoctlNumber.ReadWrite(0xb4, 7, 592, powerPc: true), Is.EqualTo(0xc250b407u));
        });
    }

    [Test]
    public void OversizedArgument_DoesNotFitTheSizeField()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IoctlNumber.Write((byte)'k', 0, 1 << 14, powerPc: false));
    }

    [Test]
    public void SpiIocTransfer_HasTheKernelLayout()
    {
        var t = new SpiIocTransfer();
        Assert.Multiple(() =>
        {
            Assert.That(Unsafe.SizeOf<SpiIocTransfer>(), Is.EqualTo(32));
            Assert.That(Offset(ref t, ref t.TxBuf), Is.EqualTo(0));
            Assert.That(Offset(ref t, ref t.RxBuf), Is.EqualTo(8));
            Assert.That(Offset(ref t, ref t.Len), Is.EqualTo(16));
            Assert.That(Offset(ref t, ref t.SpeedHz), Is.EqualTo(20));
            Assert.That(Offset(ref t, ref t.DelayUsecs), Is.EqualTo(24));
            Assert.That(Offset(ref t, ref t.BitsPerWord), Is.EqualTo(26));
            Assert.That(Offset(ref t, ref t.CsChange), Is.EqualTo(27));
            Assert.That(Offset(ref t, ref t.TxNbits), Is.EqualTo(28));
            Assert.That(Offset(ref t, ref t.RxNbits), Is.EqualTo(29));
            Assert.That(Offset(ref t, ref t.WordDelayUsecs), Is.EqualTo(30));
        });
    }

    [Test]
    public void GpioV2Structs_HaveTheKernelLayout()
    {
        var r = new GpioV2LineRequest();
        var c = new GpioV2LineConfigAttribute();
        var a = new GpioV2LineAttribute();
        Assert.Multiple(() =>
        {
            Assert.That(Unsafe.SizeOf<GpioV2LineRequest>(), Is.EqualTo(592));
            Assert.That(Offset(ref r, ref r.Consumer), Is.EqualTo(256));
            Assert.That(Offset(ref r, ref r.Config), Is.EqualTo(288));
            Assert.That(Offset(ref r, ref r.NumLines), Is.EqualTo(560));
            Assert.That(Offset(ref r, ref r.EventBufferSize), Is.EqualTo(564));
            Assert.That(Offset(ref r, ref r.Fd), Is.EqualTo(588));
            Assert.That(Unsafe.SizeOf<GpioV2LineConfig>(), Is.EqualTo(272));
            Assert.That(Offset(ref r.Config, ref r.Config.NumAttrs), Is.EqualTo(8));
            Assert.That(Offset(ref r.Config, ref r.Config.Attrs), Is.EqualTo(32));
            Assert.That(Unsafe.SizeOf<GpioV2LineConfigAttribute>(), Is.EqualTo(24));
            Assert.That(Offset(ref c, ref c.Mask), Is.EqualTo(16));
            Assert.That(Unsafe.SizeOf<GpioV2LineAttribute>(), Is.EqualTo(16));
            Assert.That(Offset(ref a, ref a.Value), Is.EqualTo(8));
            Assert.That(Unsafe.SizeOf<GpioV2LineValues>(), Is.EqualTo(16));
        });
    }

    [Test]
    public void SingleLineRequest_AsksForOneOutputWithItsInitialLevel()
    {
        GpioV2LineRequest r = GpioV2.SingleLineRequest(25, "virtiohw", output: true, initialHigh: false);
        byte[] consumer = ((ReadOnlySpan<byte>)r.Consumer).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(r.NumLines, Is.EqualTo(1));
            Assert.That(r.Offsets[0], Is.EqualTo(25));
            Assert.That(consumer[..9], Is.EqualTo("virtiohw\0"u8.ToArray()));
            Assert.That(r.Config.Flags, Is.EqualTo(GpioV2.FlagOutput));
            Assert.That(r.Config.NumAttrs, Is.EqualTo(1));
            Assert.That(r.Config.Attrs[0].Attribute.Id, Is.EqualTo(GpioV2.AttrIdOutputValues));
            Assert.That(r.Config.Attrs[0].Attribute.Value, Is.Zero);
            Assert.That(r.Config.Attrs[0].Mask, Is.EqualTo(1));
        });
    }

    [Test]
    public void InputLineConfig_HasNoAttributes()
    {
        GpioV2LineConfig config = GpioV2.LineConfig(output: false, initialHigh: false);
        Assert.Multiple(() =>
        {
            Assert.That(config.Flags, Is.EqualTo(GpioV2.FlagInput));
            Assert.That(config.NumAttrs, Is.Zero);
        });
    }

    [Test]
    public void MissingSpidevNode_SaysHowToEnableSpi()
    {
        var settings = new SpiBusSettings(SpiBusSettings.SpidevBackend) { Spidev = new SpidevSettings { DevicePath = "/dev/spidev9.9" } };
        var e = Assert.Throws<FlashException>(() => SpiBus.Create(settings));
        Assert.That(e!.Message, Does.StartWith("no /dev/spidev9.9: enable SPI"));
    }

    [Test]
    public void MissingGpioChip_NamesTheChipAndTheLine()
    {
        var e = Assert.Throws<FlashException>(() => GpioChipLine.Open("/dev/gpiochip99", 3, "CDONE"));
        Assert.That(e!.Message, Does.StartWith("cannot open /dev/gpiochip99 for CDONE"));
    }

    [Test]
    public void UnknownBackend_IsNamed()
    {
        var e = Assert.Throws<FlashException>(() => SpiBus.Create(new SpiBusSettings("usbblaster")));
        Assert.That(e!.Message, Is.EqualTo("unknown SPI adapter 'usbblaster': use ftdi, spidev, sim, pcie, pcie-cosim or iot"));
    }
}

/// <summary>A spidev port whose messages go to the chip model, recording what the bus asked for.</summary>
internal sealed class ModelSpidevPort(SimulatedFlash model, int maxMessageBytes = 4096) : SpidevPort
{
    public List<SpiIocTransfer[]> Messages { get; } = [];

    public (byte Mode, byte Bits, uint Speed) Configuration { get; private set; }

    public override int MaxMessageBytes => maxMessageBytes;

    public override void Configure(byte mode, byte bitsPerWord, uint speedHz) => Configuration = (mode, bitsPerWord, speedHz);

    public override unsafe void Transfer(ReadOnlySpan<SpiIocTransfer> transfers)
    {
        Messages.Add(transfers.ToArray());
        model.Select();
        try
        {
            foreach (SpiIocTransfer t in transfers)
            {
                byte* tx = (byte*)t.TxBuf;
                byte* rx = (byte*)t.RxBuf;
                for (int i = 0; i < t.Len; i++)
                {
                    byte miso = model.Exchange(tx == null ? (byte)0 : tx[i]);
                    if (rx != null)
                    {
                        rx[i] = miso;
                    }
                }
            }
        }
        finally
        {
            model.Deselect();
        }
    }
}

[TestFixture]
public class SpidevBusTests
{
    private static (SpidevBus Bus, ModelSpidevPort Port, SimulatedFlash Model) Open(int maxMessage = 4096)
    {
        // spidev waits in wall time, which the model does not see: busy times are zero here.
        var model = new SimulatedFlash(SimulatedChipSpec.W25Q64JV) { TimeScale = 0 };
        var port = new ModelSpidevPort(model, maxMessage);
        var bus = new SpidevBus(new SpiBusSettings(SpiBusSettings.SpidevBackend) { ClockHz = 12_000_000 }, port);
        return (bus, port, model);
    }

    [Test]
    public void Open_ConfiguresModeZeroEightBitsAndTheClock()
    {
        (SpidevBus bus, ModelSpidevPort port, _) = Open();
        using (bus)
        {
            Assert.That(port.Configuration, Is.EqualTo(((byte)0, (byte)8, 12_000_000u)));
        }
    }

    [Test]
    public void CommandRead_IsOneMessage_WriteSegmentThenReadSegment()
    {
        (SpidevBus bus, ModelSpidevPort port, _) = Open();
        using (bus)
        {
            byte[] id = new byte[3];
            bus.CommandRead([0x9f], id);
            SpiIocTransfer[] message = port.Messages.Single();
            Assert.Multiple(() =>
            {
                Assert.That(id, Is.EqualTo(new byte[] { 0xef, 0x40, 0x17 }));
                Assert.That(message, Has.Length.EqualTo(2));
                Assert.That((message[0].Len, message[0].RxBuf, message[0].BitsPerWord, message[0].SpeedHz), Is.EqualTo((1u, 0UL, (byte)8, 12_000_000u)));
                Assert.That((message[1].Len, message[1].TxBuf), Is.EqualTo((3u, 0UL)));
                Assert.That(message.All(t => t.CsChange == 0), Is.True, "chip select stays low across the segments");
            });
        }
    }

    [Test]
    public void PhaseAfterARead_IsRefused()
    {
        (SpidevBus bus, _, _) = Open();
        using (bus)
        {
            Assert.Throws<InvalidOperationException>(() =>
            {
                using SpiTransaction t = bus.BeginTransaction();
                t.Read(new byte[1]);
                t.Write([0]);
            });
        }
    }

    [Test]
    public void FullWrite_ThroughSpidev_AgainstTheModel_FitsEachMessageInBufsiz()
    {
        (SpidevBus bus, ModelSpidevPort port, SimulatedFlash model) = Open(maxMessage: 4096);
        using (bus)
        {
            using SpiNorFlash flash = SpiNorFlash.Open(bus);
            byte[] image = TestData.Random(40_000, 41);
            new FlashProgrammer(flash).Write(FlashImage.FromBytes("x.bin", image), 0x10000);
            Assert.Multiple(() =>
            {
                Assert.That(model.Contents.Slice(0x10000, image.Length).ToArray(), Is.EqualTo(image));
                Assert.That(port.Messages.Max(m => m.Sum(t => (long)t.Len)), Is.LessThanOrEqualTo(4096));
            });
        }
    }
}
