using System.Buffers.Binary;

namespace VirtioHw.Host.Platforms;

/// <summary>
/// Host memory that devices can reach by DMA at <see cref="BusAddress"/>. Only
/// <see cref="Read"/> and <see cref="Write"/> are abstract; the little-endian helpers are
/// defaults on top that a platform overrides when it can do better (see <see cref="HostDmaRegion"/>).
/// </summary>
/// <remarks>
/// Offsets are relative to the start of the region. A region is not safe to use while it is being
/// disposed, nor after: the memory behind it is gone.
/// </remarks>
public abstract class DmaRegion : IDisposable
{
    private int _disposed;

    /// <param name="busAddress">Where devices see the first byte.</param>
    /// <param name="length">Size in bytes, at least 1.</param>
    protected DmaRegion(ulong busAddress, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        BusAddress = busAddress;
        Length = length;
    }

    /// <summary>The address devices use for the first byte of the region.</summary>
    public ulong BusAddress { get; }

    /// <summary>Size of the region in bytes.</summary>
    public int Length { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Copies <c>destination.Length</c> bytes at <paramref name="offset"/> out of the region.</summary>
    public abstract void Read(int offset, Span<byte> destination);

    /// <summary>Copies <paramref name="source"/> into the region at <paramref name="offset"/>.</summary>
    public abstract void Write(int offset, ReadOnlySpan<byte> source);

    /// <summary>
    /// Gives the whole region as a span when it is plain host memory; false where every access
    /// has to go through <see cref="Read"/> and <see cref="Write"/> (memory inside a QEMU guest, say).
    /// </summary>
    public virtual bool TryGetSpan(out Span<byte> span)
    {
        span = default;
        return false;
    }

    public virtual ushort ReadUInt16(int offset)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ushort)];
        Read(offset, bytes);
        return BinaryPrimitives.ReadUInt16LittleEndian(bytes);
    }

    public virtual uint ReadUInt32(int offset)
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        Read(offset, bytes);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    public virtual ulong ReadUInt64(int offset)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        Read(offset, bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    public virtual void WriteUInt16(int offset, ushort value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ushort)];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        Write(offset, bytes);
    }

    public virtual void WriteUInt32(int offset, uint value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        Write(offset, bytes);
    }

    public virtual void WriteUInt64(int offset, ulong value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        Write(offset, bytes);
    }

    /// <summary>Sets <paramref name="length"/> bytes at <paramref name="offset"/> to zero.</summary>
    public virtual void Clear(int offset, int length)
    {
        CheckRange(offset, length);
        ReadOnlySpan<byte> zeros = stackalloc byte[256];
        while (length > 0)
        {
            int chunk = Math.Min(length, zeros.Length);
            Write(offset, zeros[..chunk]);
            offset += chunk;
            length -= chunk;
        }
    }

    /// <summary>Frees the memory; later accesses throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>
    /// Throws unless <paramref name="length"/> bytes at <paramref name="offset"/> lie inside a live
    /// region. Implementations call it first in every access.
    /// </summary>
    protected void CheckRange(int offset, int length)
    {
        if ((uint)offset > (uint)Length || (uint)length > (uint)(Length - offset))
        {
            ThrowHelper.ThrowRegionRange(offset, length, Length);
        }

        if (IsDisposed)
        {
            ThrowHelper.ThrowDisposed(this);
        }
    }
}
