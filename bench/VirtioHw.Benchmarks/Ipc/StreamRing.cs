using System.Buffers.Binary;
using System.Diagnostics;
using VirtioHw.Drivers.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Benchmarks.Ipc;

/// <summary>
/// A single-producer, single-consumer ring of equal slots in an ISM region, the way two processes
/// stream through shared memory: the producer fills slots ahead while the consumer drains them.
/// Everything the two sides share lives in the region and goes through its own Read and Write.
/// <para>
/// Layout: the producer's position (transfers published), the consumer's position (transfers
/// read) and each side's wake-at word, one 64-byte cache line each so that neither side's stores
/// invalidate the line the other one polls; then the slots from <see cref="DataOffset"/>.
/// </para>
/// <para>
/// Event suppression as virtio rings do it (VIRTIO_F_EVENT_IDX): a side with nothing to do spins on
/// the other's position for a while, then writes the position it waits for into its wake-at word
/// and waits for an UPDATE event. The other side kicks only when its position reaches exactly
/// that value, so a streaming pair that never runs dry never kicks.
/// </para>
/// </summary>
internal sealed class StreamRing
{
    /// <summary>Bytes of the header before the slots: four cache lines, rounded up to a page.</summary>
    public const ulong DataOffset = 4096;

    /// <summary>
    /// Bytes of slots when transfers are small: a ring of 1 MiB stays in a core's 2 MiB L2 cache, as a
    /// user would size it; larger transfers get two slots, one being written while the other is read.
    /// </summary>
    public const int RingBytes = 1 << 20;

    private const ulong ProducerPosition = 0;
    private const ulong ConsumerPosition = 64;
    private const ulong ProducerWakeAt = 128;
    private const ulong ConsumerWakeAt = 192;

    /// <summary>The least a side polls the other's position before it asks for a kick: about a third of a kick's round trip through the model.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 25_000;

    /// <summary>The most a side polls before it asks for a kick, however long a slot's copy takes.</summary>
    private static readonly long MaxSpinTicks = Stopwatch.Frequency / 20;

    // How long this side's last slot copy took. The other side's copy of a slot takes about as long,
    // so a side that waits for it polls that long (twice, for slack) before it asks for a kick: a
    // kick costs both cores work in the model, firmware and domain server, which a stream of large
    // slots would otherwise pay on every transfer while the copies need those cores.
    private long _copyTicks;

    private readonly IsmDevice _device;
    private readonly IsmRegion _region;
    private readonly byte[] _word = new byte[sizeof(long)];

    public StreamRing(IsmDevice device, IsmRegion region, int size)
    {
        _device = device;
        _region = region;
        Size = size;
        Slots = Math.Max(2, RingBytes / size);
    }

    /// <summary>Bytes per transfer, one slot each.</summary>
    public int Size { get; }

    public int Slots { get; }

    /// <summary>Bytes the region needs for a ring of two <paramref name="size"/>-byte slots.</summary>
    public static ulong RegionBytes(int size) => DataOffset + 2UL * (ulong)size;

    /// <summary>Kicks this side sent.</summary>
    public long KicksSent { get; private set; }

    /// <summary>UPDATE events this side took (the kicks it asked for, and late ones it no longer needed).</summary>
    public long EventsTaken { get; private set; }

    /// <summary>Transfer <paramref name="sequence"/> in the first and the last 8 bytes (the same 8 bytes below 16).</summary>
    public static void Stamp(Span<byte> data, long sequence)
    {
        BinaryPrimitives.WriteInt64LittleEndian(data, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(data[^8..], sequence);
    }

    /// <summary>Empties the ring; the producer does it before the consumer starts.</summary>
    public void Reset()
    {
        foreach (ulong line in (ReadOnlySpan<ulong>)[ProducerPosition, ConsumerPosition, ProducerWakeAt, ConsumerWakeAt])
        {
            WriteWord(line, 0);
        }
    }

    /// <summary>
    /// Producer: <paramref name="count"/> transfers of <paramref name="data"/>, stamped with their
    /// sequence, returning once the consumer has read the last one.
    /// </summary>
    public async Task ProduceAsync(byte[] data, long count)
    {
        Debug.Assert(data.Length == Size, "one slot per transfer");
        long consumed = 0;
        for (long i = 0; i < count; i++)
        {
            if (i - consumed == Slots)
            {
                consumed = await WaitForAsync(ConsumerPosition, ProducerWakeAt, i - Slots + 1).ConfigureAwait(false);
            }

            Stamp(data, i);
            long start = Stopwatch.GetTimestamp();
            _region.Write(SlotOffset(i), data);
            _copyTicks = Stopwatch.GetTimestamp() - start;

            // The position is published after the slot's bytes: it is a later Write of this thread,
            // and x86 (TSO) makes stores visible to the other core in program order. A large copy may
            // use non-temporal stores, which are weakly ordered, but the model's lock taken by this
            // Write is a locked instruction, which orders them before the position's store too.
            Advance(ProducerPosition, ConsumerWakeAt, i + 1);
        }

        await WaitForAsync(ConsumerPosition, ProducerWakeAt, count).ConfigureAwait(false);
    }

    /// <summary>
    /// Consumer: reads <paramref name="count"/> transfers into <paramref name="buffer"/> and checks
    /// each one's stamps; a slot is handed back once it has been read.
    /// </summary>
    /// <exception cref="InvalidDataException">A transfer carried another transfer's stamps.</exception>
    public async Task ConsumeAsync(byte[] buffer, long count)
    {
        Debug.Assert(buffer.Length == Size, "one slot per transfer");
        long produced = 0;
        for (long i = 0; i < count; i++)
        {
            if (produced <= i)
            {
                // The position is read before the slot (x86 keeps loads in order), so a position that
                // counts transfer i means its bytes are there.
                produced = await WaitForAsync(ProducerPosition, ConsumerWakeAt, i + 1).ConfigureAwait(false);
            }

            long start = Stopwatch.GetTimestamp();
            _region.Read(SlotOffset(i), buffer);
            _copyTicks = Stopwatch.GetTimestamp() - start;
            long first = BinaryPrimitives.ReadInt64LittleEndian(buffer), last = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(Size - 8));
            if (first != i || last != i)
            {
                throw new InvalidDataException($"transfer {i} of {Size} bytes carried the stamps {first} and {last}");
            }

            // Handing the slot back after reading it: x86 does not move a store before earlier loads.
            Advance(ConsumerPosition, ProducerWakeAt, i + 1);
        }
    }

    /// <summary>
    /// Takes the UPDATE events of the other side's kicks until this side has taken
    /// <paramref name="kicksSent"/>, so that none is left for whatever the devices do next.
    /// </summary>
    public async Task DrainAsync(long kicksSent)
    {
        while (EventsTaken < kicksSent)
        {
            await TakeEventAsync().ConfigureAwait(false);
        }
    }

    private ulong SlotOffset(long sequence) => DataOffset + (ulong)(sequence % Slots) * (ulong)Size;

    /// <summary>Publishes this side's new position and kicks the other side if it waits for exactly that one.</summary>
    private void Advance(ulong position, ulong otherWakeAt, long value)
    {
        WriteWord(position, value);

        // Store, then load of the other side's word: the one pair x86 may reorder. Without the fence
        // both sides could miss each other (the other writes its wake-at and reads the old position
        // while this side reads the old wake-at) and both would wait for a kick that never comes.
        Interlocked.MemoryBarrier();
        if (ReadWord(otherWakeAt) == value)
        {
            _region.Kick();
            KicksSent++;
        }
    }

    /// <summary>Waits until the other side's <paramref name="position"/> reaches <paramref name="target"/>; returns the position seen.</summary>
    private async Task<long> WaitForAsync(ulong position, ulong wakeAt, long target)
    {
        long seen = ReadWord(position);
        if (seen >= target)
        {
            return seen;
        }

        long deadline = Stopwatch.GetTimestamp() + Math.Clamp(2 * _copyTicks, SpinTicks, MaxSpinTicks);
        var spin = default(SpinWait);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            // Yields the core now and then: the other side may need it on a loaded machine.
            spin.SpinOnce(sleep1Threshold: -1);
            seen = ReadWord(position);
            if (seen >= target)
            {
                return seen;
            }
        }

        while (true)
        {
            WriteWord(wakeAt, target);

            // The same store-then-load pair as in Advance, from this side.
            Interlocked.MemoryBarrier();
            seen = ReadWord(position);
            if (seen >= target)
            {
                return seen;
            }

            // An event may be a late one from an earlier wait that the position had already met; then
            // the position is still short and this side asks again.
            await TakeEventAsync().ConfigureAwait(false);
            seen = ReadWord(position);
            if (seen >= target)
            {
                return seen;
            }
        }
    }

    private async Task TakeEventAsync()
    {
        await _device.WaitForEventAsync(e => e.Type == IsmEventType.Update).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        EventsTaken++;
    }

    private long ReadWord(ulong offset)
    {
        _region.Read(offset, _word);
        return BinaryPrimitives.ReadInt64LittleEndian(_word);
    }

    private void WriteWord(ulong offset, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_word, value);
        _region.Write(offset, _word);
    }
}
