using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace VirtioHw.Flash;

/// <summary>struct gpio_v2_line_attribute: an attribute ID and its value (flags, output values or debounce).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct GpioV2LineAttribute
{
    [FieldOffset(0)]
    public uint Id;

    [FieldOffset(4)]
    public uint Padding;

    /// <summary>Flags, output values or debounce period, as <see cref="Id"/> says.</summary>
    [FieldOffset(8)]
    public ulong Value;
}

/// <summary>struct gpio_v2_line_config_attribute: an attribute and the requested lines it applies to.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct GpioV2LineConfigAttribute
{
    [FieldOffset(0)]
    public GpioV2LineAttribute Attribute;

    [FieldOffset(16)]
    public ulong Mask;
}

/// <summary>The ten attribute slots of a line configuration.</summary>
[InlineArray(10)]
internal struct GpioV2LineConfigAttributes
{
    private GpioV2LineConfigAttribute _element;
}

/// <summary>struct gpio_v2_line_config: flags for all lines, then per-line attribute overrides.</summary>
[StructLayout(LayoutKind.Explicit, Size = 272)]
internal struct GpioV2LineConfig
{
    [FieldOffset(0)]
    public ulong Flags;

    [FieldOffset(8)]
    public uint NumAttrs;

    [FieldOffset(32)]
    public GpioV2LineConfigAttributes Attrs;
}

/// <summary>Line offsets of a request (GPIO_V2_LINES_MAX = 64).</summary>
[InlineArray(64)]
internal struct GpioV2Offsets
{
    private uint _element;
}

/// <summary>Consumer label of a request (GPIO_MAX_NAME_SIZE = 32, NUL-terminated).</summary>
[InlineArray(32)]
internal struct GpioV2Name
{
    private byte _element;
}

/// <summary>struct gpio_v2_line_request: the argument of GPIO_V2_GET_LINE_IOCTL; the kernel fills <see cref="Fd"/>.</summary>
[StructLayout(LayoutKind.Explicit, Size = 592)]
internal struct GpioV2LineRequest
{
    [FieldOffset(0)]
    public GpioV2Offsets Offsets;

    [FieldOffset(256)]
    public GpioV2Name Consumer;

    [FieldOffset(288)]
    public GpioV2LineConfig Config;

    [FieldOffset(560)]
    public uint NumLines;

    [FieldOffset(564)]
    public uint EventBufferSize;

    [FieldOffset(588)]
    public int Fd;
}

/// <summary>struct gpio_v2_line_values: bit i is the value of requested line i where mask bit i is set.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct GpioV2LineValues
{
    [FieldOffset(0)]
    public ulong Bits;

    [FieldOffset(8)]
    public ulong Mask;
}

/// <summary>GPIO character-device uAPI v2 constants and ioctl requests (linux/gpio.h, magic 0xb4).</summary>
internal static class GpioV2
{
    private const byte Magic = 0xb4;

    /// <summary>GPIO_V2_LINE_FLAG_INPUT.</summary>
    public const ulong FlagInput = 1UL << 2;

    /// <summary>GPIO_V2_LINE_FLAG_OUTPUT.</summary>
    public const ulong FlagOutput = 1UL << 3;

    /// <summary>GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES: the attribute value holds initial output levels.</summary>
    public const uint AttrIdOutputValues = 2;

    /// <summary>GPIO_V2_GET_LINE_IOCTL: request lines; returns a file descriptor for them.</summary>
    public static uint GetLineIoctl => IoctlNumber.ReadWrite(Magic, 0x07, Unsafe.SizeOf<GpioV2LineRequest>());

    /// <summary>GPIO_V2_LINE_SET_CONFIG_IOCTL: change direction or flags of requested lines.</summary>
    public static uint SetConfigIoctl => IoctlNumber.ReadWrite(Magic, 0x0d, Unsafe.SizeOf<GpioV2LineConfig>());

    /// <summary>GPIO_V2_LINE_GET_VALUES_IOCTL.</summary>
    public static uint GetValuesIoctl => IoctlNumber.ReadWrite(Magic, 0x0e, Unsafe.SizeOf<GpioV2LineValues>());

    /// <summary>GPIO_V2_LINE_SET_VALUES_IOCTL.</summary>
    public static uint SetValuesIoctl => IoctlNumber.ReadWrite(Magic, 0x0f, Unsafe.SizeOf<GpioV2LineValues>());

    /// <summary>A configuration for one line: an output starting at <paramref name="initialHigh"/>, or an input.</summary>
    public static GpioV2LineConfig LineConfig(bool output, bool initialHigh)
    {
        var config = new GpioV2LineConfig { Flags = output ? FlagOutput : FlagInput };
        if (output)
        {
            config.NumAttrs = 1;
            config.Attrs[0].Attribute.Id = AttrIdOutputValues;
            config.Attrs[0].Attribute.Value = initialHigh ? 1UL : 0UL;
            config.Attrs[0].Mask = 1;
        }

        return config;
    }

    /// <summary>A request for the single line <paramref name="offset"/> of a chip.</summary>
    public static GpioV2LineRequest SingleLineRequest(uint offset, string consumer, bool output, bool initialHigh)
    {
        var request = new GpioV2LineRequest { NumLines = 1, Config = LineConfig(output, initialHigh) };
        request.Offsets[0] = offset;
        byte[] name = Encoding.ASCII.GetBytes(consumer);
        Span<byte> label = request.Consumer;
        name.AsSpan(0, Math.Min(name.Length, label.Length - 1)).CopyTo(label);
        return request;
    }
}

/// <summary>One line of a /dev/gpiochipN, requested through the v2 uAPI; released when disposed.</summary>
internal sealed class GpioChipLine : GpioLine
{
    private readonly SafeFileHandle _line;
    private readonly string _where;

    private GpioChipLine(SafeFileHandle line, string name, string where) : base(name)
    {
        _line = line;
        _where = where;
    }

    /// <summary>Requests line <paramref name="offset"/> of <paramref name="chipPath"/> as an input.</summary>
    public static unsafe GpioChipLine Open(string chipPath, uint offset, string name)
    {
        SafeFileHandle chip;
        try
        {
            chip = File.OpenHandle(chipPath, FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlashException($"cannot open {chipPath} for {name}: {e.Message} (is it the right gpiochip, and may this user use it?)", e);
        }

        using (chip)
        {
            GpioV2LineRequest request = GpioV2.SingleLineRequest(offset, "virtiohw", output: false, initialHigh: false);
            if (Libc.Ioctl(chip, GpioV2.GetLineIoctl, &request, out int errno) < 0)
            {
                throw new FlashException($"cannot request line {offset} of {chipPath} for {name}: {Libc.Describe(errno)}");
            }

            return new GpioChipLine(new SafeFileHandle(request.Fd, ownsHandle: true), name, $"line {offset} of {chipPath}");
        }
    }

    public override unsafe bool Read()
    {
        var values = new GpioV2LineValues { Mask = 1 };
        Check(Libc.Ioctl(_line, GpioV2.GetValuesIoctl, &values, out int errno), errno, "reading");
        return (values.Bits & 1) != 0;
    }

    public override unsafe void Write(bool high)
    {
        GpioV2LineConfig config = GpioV2.LineConfig(output: true, initialHigh: high);
        Check(Libc.Ioctl(_line, GpioV2.SetConfigIoctl, &config, out int errno), errno, "driving");
    }

    public override unsafe void Release()
    {
        GpioV2LineConfig config = GpioV2.LineConfig(output: false, initialHigh: false);
        Check(Libc.Ioctl(_line, GpioV2.SetConfigIoctl, &config, out int errno), errno, "releasing");
    }

    private void Check(int rc, int errno, string what)
    {
        if (rc < 0)
        {
            throw new FlashException($"{what} {Name} ({_where}) failed: {Libc.Describe(errno)}");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _line.Dispose();
        }
    }
}
