using VirtioHw.Host.Platforms;

namespace VirtioHw.Platforms.Qemu;

/// <summary>
/// MSI delivery for a QEMU guest whose CPU never runs: each vector's message address is its own
/// 32-bit slot in a page of guest RAM, and its data is non-zero. A device's MSI-X write of that
/// message lands in RAM like any DMA write (q35 has no IOMMU, and only 0xfee00000-0xfeefffff is
/// the interrupt controller's), where a poller finds it, clears the slot and delivers the vector.
/// </summary>
/// <remarks>
/// <para>
/// The slot is cleared before the vector is delivered, so whatever the device wrote before its
/// message (used rings, say) is visible to the reader woken by it. Two messages of one vector
/// between two looks are delivered once, and a message landing between a look and the clear is
/// absorbed into the delivery of the one before it: drivers treat an interrupt as "look at
/// everything", which both cases satisfy, but <see cref="MsiVector.DeliveredCount"/> counts
/// deliveries, not device writes.
/// </para>
/// <para>The poller runs only while vectors are allocated, once per poll interval.</para>
/// </remarks>
internal sealed class MsiMailbox : IAsyncDisposable
{
    /// <summary>Slots in the mailbox page: one per live vector.</summary>
    public const int SlotCount = 1024;

    private const int SlotSize = sizeof(uint);

    private readonly QemuPlatform _platform;
    private readonly ulong _base;
    private readonly TimeSpan _interval;
    private readonly Lock _sync = new();
    private readonly MsiVector?[] _slots = new MsiVector?[SlotCount];
    private readonly CancellationTokenSource _stop = new();
    private Task? _poller;
    private int _live;

    public MsiMailbox(QemuPlatform platform, ulong baseAddress, TimeSpan interval)
    {
        _platform = platform;
        _base = baseAddress;
        _interval = interval;
    }

    /// <summary>The first free slot's vector; the caller disposes it, which frees the slot.</summary>
    /// <exception cref="InvalidOperationException">All <see cref="SlotCount"/> slots are taken.</exception>
    public MsiVector Allocate()
    {
        lock (_sync)
        {
            int slot = Array.IndexOf(_slots, null);
            if (slot < 0)
            {
                throw new InvalidOperationException($"all {SlotCount} MSI vectors of the QEMU platform are in use");
            }

            // A late write meant for the slot's previous owner must not reach the new one.
            ulong address = _base + ((ulong)slot * SlotSize);
            _platform.Write32(address, 0);
            var vector = new MsiVector(address, (uint)slot + 1, Release);
            _slots[slot] = vector;
            _live++;
            _poller ??= Task.Run(() => PollAsync(_stop.Token));
            return vector;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_poller is not null)
        {
            await _poller.ConfigureAwait(false);
        }

        MsiVector[] live;
        lock (_sync)
        {
            live = [.. _slots.OfType<MsiVector>()];
        }

        foreach (MsiVector vector in live)
        {
            vector.Dispose();
        }

        _stop.Dispose();
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval);
        byte[] words = new byte[SlotCount * SlotSize];
        var due = new List<MsiVector>();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                int highest;
                lock (_sync)
                {
                    highest = _live == 0 ? -1 : Array.FindLastIndex(_slots, v => v is not null);
                }

                if (highest < 0)
                {
                    continue;
                }

                Span<byte> seen = words.AsSpan(0, (highest + 1) * SlotSize);
                _platform.ReadGuest(_base, seen);
                due.Clear();
                for (int slot = 0; slot <= highest; slot++)
                {
                    if (BitConverter.ToUInt32(seen[(slot * SlotSize)..]) == 0)
                    {
                        continue;
                    }

                    _platform.Write32(_base + ((ulong)slot * SlotSize), 0);
                    lock (_sync)
                    {
                        if (_slots[slot] is { } vector)
                        {
                            due.Add(vector);
                        }
                    }
                }

                foreach (MsiVector vector in due)
                {
                    vector.Deliver();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The platform is going away.
        }
        catch (QemuException)
        {
            // QEMU is gone; every access from here on reports it, so the poller just stops.
        }
    }

    private void Release(MsiVector vector)
    {
        lock (_sync)
        {
            int slot = (int)(vector.Data - 1);
            if (ReferenceEquals(_slots[slot], vector))
            {
                _slots[slot] = null;
                _live--;
            }
        }
    }
}
