using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace VirtioHw.Flash;

/// <summary>
/// One SPI bus with one flash on it. The abstract core is a full-duplex transfer inside a
/// chip-select transaction; byte helpers and whole-command helpers are built on top and may be
/// overridden where a backend has a cheaper way (half-duplex MPSSE commands, spidev null buffers).
/// </summary>
/// <remarks>
/// A flash command is exactly one chip-select-low period: the flash acts on the rising edge of CS,
/// so a transaction spans all phases (opcode, address, data) of one command. The bus owns whatever
/// native handle its backend opened and releases it on <see cref="Dispose()"/>.
/// </remarks>
public abstract class SpiBus : IDisposable
{
    // Reads clock out zeros; a stack buffer of this size bounds the default helpers' scratch.
    private const int ScratchSize = 256;

    private bool _selected;

    protected SpiBus(SpiBusSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
    }

    public SpiBusSettings Settings { get; }

    /// <summary>Largest number of bytes one transaction may carry (spidev limits a message).</summary>
    public virtual int MaxTransactionBytes => int.MaxValue;

    /// <summary>Clock for timeouts and rates: wall time for hardware, model time for the chip model.</summary>
    public virtual TimeProvider Time => TimeProvider.System;

    /// <summary>
    /// Clocks <paramref name="write"/> out while clocking the same number of bytes into
    /// <paramref name="read"/>, inside the open transaction.
    /// </summary>
    public abstract void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read);

    /// <summary>Drives chip select low: the start of one flash command.</summary>
    protected abstract void AssertChipSelect();

    /// <summary>Drives chip select high (the flash executes the command now) and sends anything queued.</summary>
    protected abstract void ReleaseChipSelect();

    /// <summary>Clocks bytes out, ignoring what comes back.</summary>
    public virtual void Write(ReadOnlySpan<byte> data)
    {
        Span<byte> sink = stackalloc byte[ScratchSize];
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, ScratchSize);
            TransferFullDuplex(data[..n], sink[..n]);
            data = data[n..];
        }
    }

    /// <summary>Clocks bytes in while sending zeros.</summary>
    public virtual void Read(Span<byte> data)
    {
        ReadOnlySpan<byte> zeros = stackalloc byte[ScratchSize];
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, ScratchSize);
            TransferFullDuplex(zeros[..n], data[..n]);
            data = data[n..];
        }
    }

    /// <summary>Waits without using the bus; the chip model advances its clock instead of sleeping.</summary>
    public virtual void Wait(TimeSpan duration) => WallClockWait(duration);

    /// <summary>Sleeps for long waits and spins for short ones, where sleeping is too coarse.</summary>
    internal static void WallClockWait(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return;
        }

        // Sleep granularity is about a millisecond; short waits (page program polls) spin instead.
        if (duration >= TimeSpan.FromMilliseconds(2))
        {
            Thread.Sleep(duration);
            return;
        }

        long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            Thread.SpinWait(64);
        }
    }

    /// <summary>
    /// Stops driving the SPI lines so another master (an FPGA configuring itself) can use them.
    /// Backends whose lines are not shared do nothing.
    /// </summary>
    public virtual void ReleasePins()
    {
    }

    /// <summary>Opens a chip-select transaction; disposing it releases chip select.</summary>
    public SpiTransaction BeginTransaction()
    {
        if (_selected)
        {
            ThrowNestedTransaction();
        }

        AssertChipSelect();
        _selected = true;
        return new SpiTransaction(this);
    }

    internal void EndTransaction()
    {
        Debug.Assert(_selected, "a transaction ends only once");
        _selected = false;
        ReleaseChipSelect();
    }

    /// <summary>One command without data: opcode and any address bytes in one transaction.</summary>
    public void Command(ReadOnlySpan<byte> command)
    {
        using SpiTransaction t = BeginTransaction();
        Write(command);
    }

    /// <summary>One command that reads: header out, then <paramref name="response"/> in, one transaction.</summary>
    public void CommandRead(ReadOnlySpan<byte> header, Span<byte> response)
    {
        using SpiTransaction t = BeginTransaction();
        Write(header);
        if (!response.IsEmpty)
        {
            Read(response);
        }
    }

    /// <summary>One command that writes: header then data out, one transaction.</summary>
    public void CommandWrite(ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        using SpiTransaction t = BeginTransaction();
        Write(header);
        if (!data.IsEmpty)
        {
            Write(data);
        }
    }

    /// <summary>Opens the backend named in <paramref name="settings"/>.</summary>
    public static SpiBus Create(SpiBusSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Backend switch
        {
            SpiBusSettings.FtdiBackend => FtdiMpsseBus.Open(settings),
            SpiBusSettings.SpidevBackend => SpidevBus.Open(settings),
            SpiBusSettings.SimBackend => new SimulatedSpiBus(settings),
            SpiBusSettings.IotBackend => IotAdapter.Open(
                settings.Iot ?? throw new FlashException("the iot adapter needs its settings (SpiBusSettings.Iot)"), settings, null).Bus,
            SpiBusSettings.PcieBackend or SpiBusSettings.PcieCosimBackend => new SpiControllerBus(
                settings.Controller ?? throw new FlashException($"the {settings.Backend} adapter needs its controller (SpiBusSettings.Controller)"),
                settings),
            _ => throw new FlashException($"unknown SPI adapter '{settings.Backend}': use ftdi, spidev, sim, pcie, pcie-cosim or iot"),
        };
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Guards the phase methods of backends: a phase outside a transaction is a programming error.</summary>
    protected void RequireSelected()
    {
        if (!_selected)
        {
            ThrowNotSelected();
        }
    }

    [DoesNotReturn]
    private static void ThrowNestedTransaction() =>
        throw new InvalidOperationException("a transaction is already open on this SPI bus");

    [DoesNotReturn]
    private static void ThrowNotSelected() =>
        throw new InvalidOperationException("SPI transfers need an open transaction (BeginTransaction)");
}

/// <summary>Chip select held low for one flash command; dispose to release it.</summary>
public readonly ref struct SpiTransaction
{
    private readonly SpiBus _bus;

    internal SpiTransaction(SpiBus bus) => _bus = bus;

    public void Write(ReadOnlySpan<byte> data) => _bus.Write(data);

    public void Read(Span<byte> data) => _bus.Read(data);

    public void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read) => _bus.TransferFullDuplex(write, read);

    public void Dispose() => _bus.EndTransaction();
}
