using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using VirtioHw.Registers;

namespace VirtioHw.Flash;

/// <summary>
/// The <c>pcie</c> and <c>pcie-cosim</c> backends: an <see cref="SpiBus"/> on the SPI flash
/// controller of hw/rtl/spi_flash, driven through its registers (offsets from the generated
/// <see cref="SpiFlashCtrl"/>) on a <see cref="SpiControllerPort"/>. Bytes go four per register
/// write and come back four per register read; reads clock filler bytes with rx_clock instead of
/// queueing zeros. The bus owns the port and disposes it.
/// </summary>
public sealed class SpiControllerBus : SpiBus
{
    // A controller that makes no progress for this long is stuck (or not there at all).
    private static readonly TimeSpan s_stallTimeout = TimeSpan.FromSeconds(2);

    private readonly SpiControllerPort _port;
    private readonly int _fifoDepth;
    private readonly uint _ctrlBase;
    private bool _rxEnabled;
    private bool _selected;

    /// <exception cref="FlashException">No controller answers at the port, or it is of another major version.</exception>
    public SpiControllerBus(SpiControllerPort port, SpiBusSettings settings) : base(settings)
    {
        ArgumentNullException.ThrowIfNull(port);
        _port = port;
        uint id = port.Read(SpiFlashCtrl.Id.Offset);
        if (id != SpiFlashCtrl.Id.Magic.Reset)
        {
            throw new FlashException(
                $"no SPI flash controller at {port.Description}: its id register reads 0x{id:x8}, not 0x{SpiFlashCtrl.Id.Magic.Reset:x8}");
        }

        uint version = port.Read(SpiFlashCtrl.Version.Offset);
        uint major = Field(version, SpiFlashCtrl.Version.Major.Mask, SpiFlashCtrl.Version.Major.Shift);
        if (major != SpiFlashCtrl.Version.Major.Reset)
        {
            throw new FlashException(
                $"the SPI flash controller at {port.Description} is version {major}, this tool drives version {SpiFlashCtrl.Version.Major.Reset}");
        }

        _fifoDepth = (int)Field(version, SpiFlashCtrl.Version.FifoDepth.Mask, SpiFlashCtrl.Version.FifoDepth.Shift);
        if (_fifoDepth < 4)
        {
            throw new FlashException($"the SPI flash controller at {port.Description} reports FIFOs of {_fifoDepth} bytes");
        }

        Divider = DividerFor(port.ControllerClockHz, settings.ClockHz);
        SckHz = port.ControllerClockHz / (2L * (Divider + 1));
        _ctrlBase = (uint)(Divider << SpiFlashCtrl.Ctrl.Div.Shift);
        WriteCtrl();
    }

    /// <summary>The ctrl.div value in use: SCK is the controller clock over 2 * (div + 1).</summary>
    public int Divider { get; }

    /// <summary>The SCK frequency the divider gives (at most the requested clock).</summary>
    public long SckHz { get; }

    /// <summary>Bytes each of the controller's FIFOs holds.</summary>
    public int FifoDepth => _fifoDepth;

    public SpiControllerPort Port => _port;

    public override TimeProvider Time => _port.Time;

    public override void Wait(TimeSpan duration) => _port.Wait(duration);

    /// <summary>The smallest divider whose SCK does not exceed <paramref name="requestedHz"/>.</summary>
    public static int DividerFor(long controllerClockHz, long requestedHz)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(controllerClockHz);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requestedHz);
        long div = ((controllerClockHz + (2 * requestedHz) - 1) / (2 * requestedHz)) - 1;
        return (int)Math.Clamp(div, 0, (long)(SpiFlashCtrl.Ctrl.Div.Mask >> SpiFlashCtrl.Ctrl.Div.Shift));
    }

    public override void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read)
    {
        RequireSelected();
        if (read.Length != write.Length)
        {
            throw new ArgumentException("full-duplex buffers must be the same length", nameof(read));
        }

        SetReceive(true);
        // One FIFO's worth at a time: every byte sent brings one back, and the transmit FIFO is empty
        // again once the receive FIFO holds the chunk.
        while (!write.IsEmpty)
        {
            int n = Math.Min(write.Length, _fifoDepth);
            Push(write[..n]);
            Receive(read[..n]);
            write = write[n..];
            read = read[n..];
        }
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        RequireSelected();
        SetReceive(false);
        long lastProgress = Stopwatch.GetTimestamp();
        while (!data.IsEmpty)
        {
            // Whole words only, the tail byte by byte: waiting for a word's room costs less than
            // four single-byte writes.
            int room = _fifoDepth - TxLevel(ReadStatus());
            int n = data.Length >= 4 ? Math.Min(data.Length, room) & ~3 : Math.Min(data.Length, room);
            if (n == 0)
            {
                CheckStall(lastProgress, "send");
                continue;
            }

            lastProgress = Stopwatch.GetTimestamp();
            Push(data[..n]);
            data = data[n..];
        }
    }

    public override void Read(Span<byte> data)
    {
        RequireSelected();
        SetReceive(true);
        int maxCount = (int)(SpiFlashCtrl.RxClock.CountField.Mask >> SpiFlashCtrl.RxClock.CountField.Shift);
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, maxCount);
            _port.Write(SpiFlashCtrl.RxClock.Offset, (uint)n);
            Receive(data[..n]);
            data = data[n..];
        }
    }

    protected override void AssertChipSelect()
    {
        _selected = true;
        WriteCtrl();
    }

    protected override void ReleaseChipSelect()
    {
        // The flash acts on the rising edge of CS#: only once the last byte is on the wire.
        WaitIdle();
        _selected = false;
        WriteCtrl();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _port.Dispose();
        }
    }

    private static uint Field(uint value, ulong mask, int shift) => (uint)((value & mask) >> shift);

    private static int TxLevel(uint status) => (int)Field(status, SpiFlashCtrl.Status.TxLevel.Mask, SpiFlashCtrl.Status.TxLevel.Shift);

    private static int RxLevel(uint status) => (int)Field(status, SpiFlashCtrl.Status.RxLevel.Mask, SpiFlashCtrl.Status.RxLevel.Shift);

    private static bool Busy(uint status) => (status & SpiFlashCtrl.Status.Busy.Mask) != 0;

    private uint ReadStatus() => _port.Read(SpiFlashCtrl.Status.Offset);

    private void WriteCtrl()
    {
        uint ctrl = _ctrlBase
            | (_selected ? (uint)SpiFlashCtrl.Ctrl.Cs.Mask : 0)
            | (_rxEnabled ? (uint)SpiFlashCtrl.Ctrl.RxEn.Mask : 0);
        _port.Write(SpiFlashCtrl.Ctrl.Offset, ctrl);
    }

    private void SetReceive(bool enabled)
    {
        if (_rxEnabled == enabled)
        {
            return;
        }

        // rx_en decides for each byte as it ends: bytes already queued finish under the old setting.
        WaitIdle();
        _rxEnabled = enabled;
        WriteCtrl();
    }

    /// <summary>Queues <paramref name="data"/>; the caller knows the transmit FIFO has room for it.</summary>
    private void Push(ReadOnlySpan<byte> data)
    {
        Debug.Assert(data.Length <= _fifoDepth, "a push fits the FIFO");
        while (data.Length >= 4)
        {
            _port.Write(SpiFlashCtrl.TxData4.Offset, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[4..];
        }

        foreach (byte b in data)
        {
            _port.Write(SpiFlashCtrl.TxData1.Offset, b);
        }
    }

    /// <summary>Takes exactly <paramref name="data"/>.Length received bytes, as they arrive.</summary>
    private void Receive(Span<byte> data)
    {
        long lastProgress = Stopwatch.GetTimestamp();
        while (!data.IsEmpty)
        {
            // Whole words while four or more bytes are still due; single bytes only for the tail.
            int available = Math.Min(RxLevel(ReadStatus()), data.Length);
            if (available < data.Length)
            {
                available &= ~3;
            }

            if (available == 0)
            {
                CheckStall(lastProgress, "receive");
                continue;
            }

            lastProgress = Stopwatch.GetTimestamp();
            while (available >= 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data, _port.Read(SpiFlashCtrl.RxData4.Offset));
                data = data[4..];
                available -= 4;
            }

            for (; available > 0; available--)
            {
                data[0] = (byte)_port.Read(SpiFlashCtrl.RxData1.Offset);
                data = data[1..];
            }
        }
    }

    private void WaitIdle()
    {
        long start = Stopwatch.GetTimestamp();
        while (Busy(ReadStatus()))
        {
            CheckStall(start, "finish its transfer");
        }
    }

    private void CheckStall(long since, string what)
    {
        if (Stopwatch.GetElapsedTime(since) > s_stallTimeout)
        {
            ThrowStalled(what);
        }
    }

    [DoesNotReturn]
    private void ThrowStalled(string what) =>
        throw new FlashException($"the SPI flash controller at {_port.Description} did not {what} within {s_stallTimeout.TotalSeconds:0} s");
}
