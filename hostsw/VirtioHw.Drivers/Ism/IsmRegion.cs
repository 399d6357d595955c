namespace VirtioHw.Drivers.Ism;

/// <summary>
/// A region this device has mapped: its token, its size and where each of its chunks lies in the
/// device's regions area. Reads and writes go through the BAR window, a chunk at a time; offsets
/// are from the start of the region.
/// </summary>
public sealed class IsmRegion
{
    internal IsmRegion(IsmDevice device, ulong token, ulong size, ulong[] chunks)
    {
        Device = device;
        Token = token;
        Size = size;
        Chunks = chunks;
    }

    public IsmDevice Device { get; }

    /// <summary>The token other devices attach with.</summary>
    public ulong Token { get; }

    /// <summary>
    /// The region's size (asked for at allocation, or the attach reply's). Only these bytes are
    /// the region: when it is less than the chunks hold, "only header part of the last chunk is
    /// effective", so reads and writes stop here.
    /// </summary>
    public ulong Size { get; }

    /// <summary>Offset of each chunk in the regions area, in region order.</summary>
    public IReadOnlyList<ulong> Chunks { get; }

    /// <summary>The offset of the first chunk: how the device names the region in events.</summary>
    public ulong Offset => Chunks[0];

    /// <summary>Copies bytes of the region out, starting at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range runs past the region's <see cref="Size"/>.</exception>
    public void Read(ulong offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        while (!destination.IsEmpty)
        {
            int step = Step(offset, destination.Length, out ulong address);
            Device.Regions.Read(address, destination[..step]);
            destination = destination[step..];
            offset += (ulong)step;
        }
    }

    /// <summary>Copies bytes into the region, starting at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range runs past the region's <see cref="Size"/>.</exception>
    public void Write(ulong offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        while (!source.IsEmpty)
        {
            int step = Step(offset, source.Length, out ulong address);
            Device.Regions.Write(address, source[..step]);
            source = source[step..];
            offset += (ulong)step;
        }
    }

    /// <summary>Writes the region's notify-address: the other referrers get an update event.</summary>
    public void Kick() => Device.Kick(Offset);

    public Task DetachAsync(CancellationToken cancellationToken = default) => Device.DetachAsync(Token, cancellationToken);

    public override string ToString() => $"region {Token:x16} ({Size} bytes at 0x{Offset:x})";

    private void CheckRange(ulong offset, int length)
    {
        ulong size = Math.Min(Size, (ulong)Chunks.Count * Device.ChunkSize);
        if (offset > size || (ulong)length > size - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"{length} bytes at {offset} run past the {size} bytes of {this}");
        }
    }

    /// <summary>
    /// How many bytes from <paramref name="offset"/> lie contiguous in the regions area (one chunk, or
    /// the chunks after it that its slots continue), and where they start: one block access for them,
    /// which the device copies slot by slot with each slot's own access.
    /// </summary>
    private int Step(ulong offset, int wanted, out ulong address)
    {
        int chunk = (int)(offset / Device.ChunkSize);
        ulong within = offset % Device.ChunkSize;
        address = Chunks[chunk] + within;
        ulong run = Device.ChunkSize - within;
        for (int next = chunk + 1; run < (ulong)wanted && next < Chunks.Count && Chunks[next] == Chunks[next - 1] + Device.ChunkSize; next++)
        {
            run += Device.ChunkSize;
        }

        return (int)Math.Min((ulong)wanted, run);
    }
}
