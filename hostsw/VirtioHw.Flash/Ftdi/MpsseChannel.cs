using System.Diagnostics;

namespace VirtioHw.Flash;

/// <summary>
/// The byte pipe to an MPSSE engine: commands out, replies in. The seam between the MPSSE command
/// encoder (<see cref="FtdiMpsseBus"/>) and the USB transport, so the encoder can be driven
/// without an adapter.
/// </summary>
internal abstract class MpsseChannel : IDisposable
{
    public abstract void Write(ReadOnlySpan<byte> data);

    /// <summary>Reads exactly <paramref name="data"/>.Length reply bytes.</summary>
    public abstract void Read(Span<byte> data);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>An FTDI H-series channel opened through libftdi1 and switched to MPSSE mode.</summary>
internal sealed class LibFtdiChannel : MpsseChannel
{
    // Replies to a command come within a USB frame or two; a silent adapter is gone or wedged.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(2);

    private readonly FtdiContextHandle _context;
    private readonly string _name;

    private LibFtdiChannel(FtdiContextHandle context, string name)
    {
        _context = context;
        _name = name;
    }

    public static LibFtdiChannel Open(FtdiSettings settings)
    {
        string name = $"FTDI device {settings.VendorId:x4}:{settings.ProductId:x4}"
            + (settings.Serial is null ? "" : $" serial {settings.Serial}") + $" interface {settings.Interface}";
        FtdiContextHandle context;
        try
        {
            context = LibFtdi.FtdiNew();
        }
        catch (DllNotFoundException e)
        {
            throw new FlashException(
                $"libftdi1 is not installed ({LibFtdi.Library} was not found): install it with 'apt-get install libftdi1-2'", e);
        }

        if (context.IsInvalid)
        {
            context.Dispose();
            throw new FlashException("libftdi1 could not allocate a context (ftdi_new failed)");
        }

        try
        {
            int channel = char.ToUpperInvariant(settings.Interface) - 'A' + 1;
            if (channel is < 1 or > 4)
            {
                throw new FlashException($"FTDI interface '{settings.Interface}' is not one of A, B, C, D");
            }

            Check(context, LibFtdi.FtdiSetInterface(context, channel), $"selecting interface {settings.Interface} of the {name}");
            int rc = LibFtdi.FtdiUsbOpenDescIndex(context, settings.VendorId, settings.ProductId, null, settings.Serial, 0);
            if (rc == -3)
            {
                throw new FlashException($"no {name} found on USB: plug in the board, or check the board profile's vid/pid/serial");
            }

            if (rc < 0)
            {
                throw new FlashException(
                    $"cannot open the {name}: {LibFtdi.ErrorString(context)} (without root, a udev rule must grant access to {settings.VendorId:x4}:{settings.ProductId:x4})");
            }

            Check(context, LibFtdi.FtdiUsbReset(context), $"resetting the {name}");
            Check(context, LibFtdi.FtdiWriteDataSetChunksize(context, 65536), $"setting the write chunk size of the {name}");
            Check(context, LibFtdi.FtdiReadDataSetChunksize(context, 65536), $"setting the read chunk size of the {name}");
            // One millisecond: replies to short status polls come back without waiting for a full buffer.
            Check(context, LibFtdi.FtdiSetLatencyTimer(context, 1), $"setting the latency timer of the {name}");
            Check(context, LibFtdi.FtdiSetBitmode(context, 0, LibFtdi.BitmodeReset), $"resetting the bit mode of the {name}");
            Check(context, LibFtdi.FtdiSetBitmode(context, 0, LibFtdi.BitmodeMpsse), $"entering MPSSE mode on the {name}");
            Check(context, LibFtdi.FtdiUsbPurgeBuffers(context), $"purging the buffers of the {name}");
            return new LibFtdiChannel(context, name);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static void Check(FtdiContextHandle context, int rc, string what)
    {
        if (rc < 0)
        {
            throw new FlashException($"{what} failed: {LibFtdi.ErrorString(context)} (libftdi error {rc})");
        }
    }

    public override unsafe void Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int written = LibFtdi.FtdiWriteData(_context, p, data.Length);
            if (written != data.Length)
            {
                throw new FlashException($"writing to the {_name} failed: {LibFtdi.ErrorString(_context)} (unplugged?)");
            }
        }
    }

    public override unsafe void Read(Span<byte> data)
    {
        long start = Stopwatch.GetTimestamp();
        int got = 0;
        fixed (byte* p = data)
        {
            while (got < data.Length)
            {
                int n = LibFtdi.FtdiReadData(_context, p + got, data.Length - got);
                if (n < 0)
                {
                    throw new FlashException($"reading from the {_name} failed: {LibFtdi.ErrorString(_context)} (unplugged?)");
                }

                got += n;
                if (n == 0 && Stopwatch.GetElapsedTime(start) > ReadTimeout)
                {
                    throw new FlashException($"the {_name} sent {got} of {data.Length} expected bytes and then stopped answering");
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_context.IsClosed)
        {
            LibFtdi.FtdiSetBitmode(_context, 0, LibFtdi.BitmodeReset);
            _context.Dispose();
        }
    }
}
