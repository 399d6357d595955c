using System.Threading.Channels;

namespace VirtioHw.Host.Platforms;

/// <summary>
/// One MSI/MSI-X message (an address and a data value) handed out by a platform, and the stream
/// on which every device write of that message arrives. A driver programs a device's MSI-X table
/// entry with <see cref="Address"/> and <see cref="Data"/>, then awaits <see cref="WaitAsync"/> or
/// enumerates <see cref="ReadAllAsync"/>; the platform calls <see cref="Deliver"/> for each write.
/// </summary>
/// <remarks>
/// Messages carry their sequence number, 1 for the first, so a reader can tell how many it missed
/// while polling. Messages are never lost or merged: each delivery is one item.
/// </remarks>
public sealed class MsiVector : IDisposable
{
    private readonly Channel<long> _messages = Channel.CreateUnbounded<long>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    // Serializes numbering and writing so sequence numbers reach the channel in order.
    private readonly Lock _deliverLock = new();
    private readonly Action<MsiVector>? _released;
    private long _delivered;
    private int _disposed;

    /// <param name="address">The message address the device writes to.</param>
    /// <param name="data">The value the device writes.</param>
    /// <param name="released">
    /// Called once on <see cref="Dispose"/> so the platform can stop routing this message and reuse it.
    /// </param>
    public MsiVector(ulong address, uint data, Action<MsiVector>? released = null)
    {
        Address = address;
        Data = data;
        _released = released;
    }

    public ulong Address { get; }

    public uint Data { get; }

    /// <summary>How many messages have been delivered so far, read or not.</summary>
    public long DeliveredCount => Volatile.Read(ref _delivered);

    /// <summary>
    /// Records one device write of the message. Never blocks; called by the platform from whatever
    /// thread the device runs on. After <see cref="Dispose"/> it does nothing.
    /// </summary>
    public void Deliver()
    {
        lock (_deliverLock)
        {
            if (_messages.Writer.TryWrite(_delivered + 1))
            {
                Volatile.Write(ref _delivered, _delivered + 1);
            }
        }
    }

    /// <summary>Waits for the next message and returns its sequence number.</summary>
    /// <exception cref="ChannelClosedException">The vector was disposed and every message was read.</exception>
    public ValueTask<long> WaitAsync(CancellationToken cancellationToken = default) =>
        _messages.Reader.ReadAsync(cancellationToken);

    /// <summary>Takes a message already delivered, if any; for polling loops.</summary>
    public bool TryTake(out long sequence) => _messages.Reader.TryRead(out sequence);

    /// <summary>Every message in delivery order; ends once the vector is disposed and drained.</summary>
    public IAsyncEnumerable<long> ReadAllAsync(CancellationToken cancellationToken = default) =>
        _messages.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Ends the stream and gives the message back to the platform.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_deliverLock)
        {
            _messages.Writer.TryComplete();
        }

        _released?.Invoke(this);
    }
}
