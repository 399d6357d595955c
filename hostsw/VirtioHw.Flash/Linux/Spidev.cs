using System.Runtime.InteropServices;

namespace VirtioHw.Flash;

/// <summary>
/// struct spi_ioc_transfer from linux/spi/spidev.h: one segment of a message; chip select stays
/// asserted across the segments of one SPI_IOC_MESSAGE. 32 bytes on every architecture.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct SpiIocTransfer
{
    /// <summary>User address of the bytes to send, or 0 to send zeros.</summary>
    [FieldOffset(0)]
    public ulong TxBuf;

    /// <summary>User address for received bytes, or 0 to drop them.</summary>
    [FieldOffset(8)]
    public ulong RxBuf;

    [FieldOffset(16)]
    public uint Len;

    /// <summary>Clock for this segment; 0 keeps the device default.</summary>
    [FieldOffset(20)]
    public uint SpeedHz;

    [FieldOffset(24)]
    public ushort DelayUsecs;

    [FieldOffset(26)]
    public byte BitsPerWord;

    /// <summary>Non-zero deselects the device between this segment and the next.</summary>
    [FieldOffset(27)]
    public byte CsChange;

    [FieldOffset(28)]
    public byte TxNbits;

    [FieldOffset(29)]
    public byte RxNbits;

    [FieldOffset(30)]
    public byte WordDelayUsecs;

    [FieldOffset(31)]
    public byte Pad;
}

/// <summary>spidev ioctl requests (magic 'k'), computed like the kernel's SPI_IOC_* macros.</summary>
internal static class SpidevIoctl
{
    private const byte Magic = (byte)'k';

    /// <summary>SPI_IOC_WR_MODE: u8 SPI mode (0-3).</summary>
    public static uint WriteMode => IoctlNumber.Write(Magic, 1, sizeof(byte));

    /// <summary>SPI_IOC_WR_BITS_PER_WORD: u8.</summary>
    public static uint WriteBitsPerWord => IoctlNumber.Write(Magic, 3, sizeof(byte));

    /// <summary>SPI_IOC_WR_MAX_SPEED_HZ: u32.</summary>
    public static uint WriteMaxSpeedHz => IoctlNumber.Write(Magic, 4, sizeof(uint));

    /// <summary>SPI_IOC_MESSAGE(n): an array of n <see cref="SpiIocTransfer"/>.</summary>
    public static uint Message(int transfers) => IoctlNumber.Write(Magic, 0, transfers * Marshal.SizeOf<SpiIocTransfer>());
}
