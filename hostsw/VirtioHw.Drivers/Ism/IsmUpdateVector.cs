using VirtioHw.Host.Platforms;

namespace VirtioHw.Drivers.Ism;

/// <summary>
/// A region's UPDATE events on an MSI-X entry of their own (VIRTIO_ISM_CTRL_EVENT_VECTOR_SET),
/// made by <see cref="IsmDevice.BindUpdateVectorAsync"/>: each kick of the region by a peer is one
/// interrupt here, and none of its updates comes on the eventq. Disposing it gives the updates back
/// to the eventq (vector 0xffff), masks the entry and releases the platform vector.
/// </summary>
public sealed class IsmUpdateVector : IAsyncDisposable
{
    private readonly IsmDevice _device;
    private readonly MsiVector _vector;
    private int _disposed;

    internal IsmUpdateVector(IsmDevice device, ulong token, ushort entry, MsiVector vector)
    {
        _device = device;
        Token = token;
        Entry = entry;
        _vector = vector;
    }

    /// <summary>The region.</summary>
    public ulong Token { get; }

    /// <summary>The MSI-X table entry the device signals.</summary>
    public ushort Entry { get; }

    /// <summary>Interrupts delivered so far, awaited or not.</summary>
    public long DeliveredCount => _vector.DeliveredCount;

    /// <summary>Waits for the next interrupt (the next update of the region); returns its sequence number, 1 for the first.</summary>
    public ValueTask<long> WaitAsync(CancellationToken cancellationToken = default) => _vector.WaitAsync(cancellationToken);

    /// <summary>An interrupt already delivered, without waiting.</summary>
    public bool TryTake(out long sequence) => _vector.TryTake(out sequence);

    /// <summary>Every interrupt in delivery order, until disposed.</summary>
    public IAsyncEnumerable<long> ReadAllAsync(CancellationToken cancellationToken = default) => _vector.ReadAllAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _device.ReleaseUpdateVectorAsync(this).ConfigureAwait(false);
        _vector.Dispose();
    }
}
