using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace VirtioHw.Flash;

/// <summary>
/// libftdi1 (<c>libftdi1.so.2</c>, Debian package libftdi1-2). Only that library's exports live
/// here; every call returns the library's status code (negative is an error) unchanged.
/// </summary>
internal static partial class LibFtdi
{
    public const string Library = "libftdi1.so.2";

    /// <summary>ftdi_set_bitmode: back to the chip's reset mode (plain UART/FIFO).</summary>
    public const byte BitmodeReset = 0x00;

    /// <summary>ftdi_set_bitmode: Multi-Protocol Synchronous Serial Engine.</summary>
    public const byte BitmodeMpsse = 0x02;

    [LibraryImport(Library, EntryPoint = "ftdi_new")]
    public static partial FtdiContextHandle FtdiNew();

    [LibraryImport(Library, EntryPoint = "ftdi_free")]
    public static partial void FtdiFree(IntPtr context);

    /// <summary>interface: 1-4 for channels A-D (libftdi's INTERFACE_A..D).</summary>
    [LibraryImport(Library, EntryPoint = "ftdi_set_interface")]
    public static partial int FtdiSetInterface(FtdiContextHandle context, int @interface);

    [LibraryImport(Library, EntryPoint = "ftdi_usb_open_desc_index", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FtdiUsbOpenDescIndex(FtdiContextHandle context, int vendor, int product,
        string? description, string? serial, uint index);

    [LibraryImport(Library, EntryPoint = "ftdi_usb_reset")]
    public static partial int FtdiUsbReset(FtdiContextHandle context);

    [LibraryImport(Library, EntryPoint = "ftdi_usb_purge_buffers")]
    public static partial int FtdiUsbPurgeBuffers(FtdiContextHandle context);

    [LibraryImport(Library, EntryPoint = "ftdi_set_latency_timer")]
    public static partial int FtdiSetLatencyTimer(FtdiContextHandle context, byte latency);

    [LibraryImport(Library, EntryPoint = "ftdi_set_bitmode")]
    public static partial int FtdiSetBitmode(FtdiContextHandle context, byte bitmask, byte mode);

    [LibraryImport(Library, EntryPoint = "ftdi_write_data_set_chunksize")]
    public static partial int FtdiWriteDataSetChunksize(FtdiContextHandle context, uint chunksize);

    [LibraryImport(Library, EntryPoint = "ftdi_read_data_set_chunksize")]
    public static partial int FtdiReadDataSetChunksize(FtdiContextHandle context, uint chunksize);

    [LibraryImport(Library, EntryPoint = "ftdi_write_data")]
    public static unsafe partial int FtdiWriteData(FtdiContextHandle context, byte* buffer, int size);

    [LibraryImport(Library, EntryPoint = "ftdi_read_data")]
    public static unsafe partial int FtdiReadData(FtdiContextHandle context, byte* buffer, int size);

    [LibraryImport(Library, EntryPoint = "ftdi_get_error_string")]
    public static partial IntPtr FtdiGetErrorString(FtdiContextHandle context);

    /// <summary>The library's text for the last error on <paramref name="context"/>.</summary>
    public static string ErrorString(FtdiContextHandle context) =>
        Marshal.PtrToStringUTF8(FtdiGetErrorString(context)) ?? "unknown libftdi error";
}

/// <summary>An ftdi_context from ftdi_new; ftdi_free closes the USB device and frees it.</summary>
internal sealed class FtdiContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public FtdiContextHandle() : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        LibFtdi.FtdiFree(handle);
        return true;
    }
}
