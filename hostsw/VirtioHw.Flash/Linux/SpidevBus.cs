using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace VirtioHw.Flash;

/// <summary>The spidev character device: configuration ioctls and SPI_IOC_MESSAGE. A seam for tests.</summary>
internal abstract class SpidevPort : IDisposable
{
    /// <summary>Largest total byte count of one message (the spidev module's bufsiz).</summary>
    public abstract int MaxMessageBytes { get; }

    public abstract void Configure(byte mode, byte bitsPerWord, uint speedHz);

    /// <summary>Sends one message; chip select is asserted for all of it.</summary>
    public abstract void Transfer(ReadOnlySpan<SpiIocTransfer> transfers);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>A real /dev/spidevB.C node.</summary>
internal sealed class SpidevDevicePort : SpidevPort
{
    private const string BufsizPath = "/sys/module/spidev/parameters/bufsiz";

    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private SpidevDevicePort(SafeFileHandle handle, string path, int maxMessageBytes)
    {
        _handle = handle;
        _path = path;
        MaxMessageBytes = maxMessageBytes;
    }

    public override int MaxMessageBytes { get; }

    public static SpidevDevicePort Open(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        }
        catch (FileNotFoundException e)
        {
            throw new FlashException(
                $"no {path}: enable SPI (on a Raspberry Pi: dtparam=spi=on in config.txt) or fix the spidev device in the board profile", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new FlashException($"no {path}: the spidev driver is not loaded (modprobe spidev) or the board profile names the wrong device", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new FlashException($"permission denied opening {path}: add your user to the group that owns it (often 'spi') or run as root", e);
        }
        catch (IOException e)
        {
            throw new FlashException($"cannot open {path}: {e.Message}", e);
        }

        // The module parameter bounds one message; 4096 is its default when it cannot be read.
        int bufsiz = 4096;
        try
        {
            if (int.TryParse(File.ReadAllText(BufsizPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0)
            {
                bufsiz = value;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Keep the default.
        }

        return new SpidevDevicePort(handle, path, bufsiz);
    }

    public override unsafe void Configure(byte mode, byte bitsPerWord, uint speedHz)
    {
        Check(Libc.Ioctl(_handle, SpidevIoctl.WriteMode, &mode, out int errno), errno, "setting SPI mode");
        Check(Libc.Ioctl(_handle, SpidevIoctl.WriteBitsPerWord, &bitsPerWord, out errno), errno, "setting 8 bits per word");
        Check(Libc.Ioctl(_handle, SpidevIoctl.WriteMaxSpeedHz, &speedHz, out errno), errno, $"setting the clock to {speedHz} Hz");
    }

    public override unsafe void Transfer(ReadOnlySpan<SpiIocTransfer> transfers)
    {
        fixed (SpiIocTransfer* p = transfers)
        {
            Check(Libc.Ioctl(_handle, SpidevIoctl.Message(transfers.Length), p, out int errno), errno, "an SPI transfer");
        }
    }

    private void Check(int rc, int errno, string what)
    {
        if (rc < 0)
        {
            throw new FlashException($"{what} on {_path} failed: {Libc.Describe(errno)}");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }
    }
}

/// <summary>
/// The <c>spidev</c> backend. Write phases are gathered and sent, with the read phase that ends
/// the command, as one SPI_IOC_MESSAGE, because the kernel releases chip select after every
/// message. Flash commands always read last, so a transaction never needs a phase after a read.
/// </summary>
public sealed class SpidevBus : SpiBus
{
    private readonly SpidevPort _port;
    private readonly List<(int Offset, int Length)> _writes = [];
    private byte[] _txBuffer = new byte[512];
    private int _txLength;
    private bool _sent;

    internal SpidevBus(SpiBusSettings settings, SpidevPort port) : base(settings)
    {
        _port = port;
        _port.Configure(mode: 0, bitsPerWord: 8, speedHz: (uint)settings.ClockHz);
    }

    /// <summary>Opens the spidev node the settings name.</summary>
    public static SpidevBus Open(SpiBusSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        SpidevPort port = SpidevDevicePort.Open((settings.Spidev ?? new SpidevSettings()).DevicePath);
        try
        {
            return new SpidevBus(settings, port);
        }
        catch
        {
            port.Dispose();
            throw;
        }
    }

    public override int MaxTransactionBytes => _port.MaxMessageBytes;

    protected override void AssertChipSelect()
    {
        _writes.Clear();
        _txLength = 0;
        _sent = false;
    }

    protected override void ReleaseChipSelect()
    {
        if (!_sent && _writes.Count > 0)
        {
            Submit([], hasTx: false);
        }
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        RequireOpenMessage();
        StageTx(data);
        _writes.Add((_txLength, data.Length));
        _txLength += data.Length;
    }

    /// <summary>Copies bytes to send after the staged ones, without counting them as staged.</summary>
    private void StageTx(ReadOnlySpan<byte> data)
    {
        if (_txLength + data.Length > _txBuffer.Length)
        {
            Array.Resize(ref _txBuffer, Math.Max(_txBuffer.Length * 2, _txLength + data.Length));
        }

        data.CopyTo(_txBuffer.AsSpan(_txLength));
    }

    public override void Read(Span<byte> data)
    {
        RequireOpenMessage();
        Submit(data, hasTx: false);
    }

    public override void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read)
    {
        RequireOpenMessage();
        if (read.Length != write.Length)
        {
            throw new ArgumentException("full-duplex buffers must be the same length", nameof(read));
        }

        // The full-duplex segment sends from just past the staged writes and receives into read.
        StageTx(write);
        Submit(read, hasTx: true, txOffset: _txLength, txLength: write.Length);
    }

    private void RequireOpenMessage()
    {
        RequireSelected();
        if (_sent)
        {
            throw new InvalidOperationException("spidev releases chip select after each message; a transaction cannot continue after a read");
        }
    }

    private unsafe void Submit(Span<byte> read, bool hasTx, int txOffset = 0, int txLength = 0)
    {
        int total = _txLength + read.Length;
        if (total > _port.MaxMessageBytes)
        {
            throw new FlashException(
                $"an SPI transaction of {total} bytes exceeds the spidev limit of {_port.MaxMessageBytes} (raise spidev.bufsiz)");
        }

        int count = _writes.Count + (read.IsEmpty ? 0 : 1);
        Span<SpiIocTransfer> transfers = count <= 8 ? stackalloc SpiIocTransfer[count] : new SpiIocTransfer[count];
        transfers.Clear();
        fixed (byte* tx = _txBuffer)
        fixed (byte* rx = read)
        {
            for (int i = 0; i < _writes.Count; i++)
            {
                transfers[i].TxBuf = (ulong)(tx + _writes[i].Offset);
                transfers[i].Len = (uint)_writes[i].Length;
                transfers[i].BitsPerWord = 8;
                transfers[i].SpeedHz = (uint)Settings.ClockHz;
            }

            if (!read.IsEmpty)
            {
                ref SpiIocTransfer last = ref transfers[count - 1];
                last.TxBuf = hasTx ? (ulong)(tx + txOffset) : 0;
                last.RxBuf = (ulong)rx;
                last.Len = (uint)(hasTx ? txLength : read.Length);
                last.BitsPerWord = 8;
                last.SpeedHz = (uint)Settings.ClockHz;
            }

            _port.Transfer(transfers);
        }

        _sent = true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _port.Dispose();
        }
    }
}
