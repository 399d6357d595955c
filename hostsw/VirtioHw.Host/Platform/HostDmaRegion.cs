using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VirtioHw.Host.Platforms;

/// <summary>
/// A <see cref="DmaRegion"/> in native host memory that never moves, for platforms whose devices
/// reach host memory directly (the C# model, co-simulation). The platform chooses the bus address.
/// </summary>
/// <remarks>
/// The 16-, 32- and 64-bit helpers are single volatile loads and stores, so a naturally aligned
/// field is never seen half-written by a device running on another thread.
/// </remarks>
public sealed unsafe class HostDmaRegion : DmaRegion
{
    private readonly Action<HostDmaRegion>? _released;
    private readonly bool _ownsMemory = true;
    private byte* _memory;

    /// <summary>Allocates <paramref name="length"/> zeroed bytes aligned to <paramref name="alignment"/>.</summary>
    /// <param name="busAddress">Where devices see the first byte; the platform keeps it unique.</param>
    /// <param name="length">Size in bytes.</param>
    /// <param name="alignment">Alignment of the host memory, a power of two.</param>
    /// <param name="released">
    /// Called once when the region is disposed, before its memory is freed, so the platform can stop
    /// routing device accesses to it. The region owns its memory; the platform owns nothing here.
    /// </param>
    public HostDmaRegion(ulong busAddress, int length, int alignment = 4096, Action<HostDmaRegion>? released = null)
        : base(busAddress, length)
    {
        if (alignment <= 0 || !int.IsPow2(alignment))
        {
            ThrowHelper.ThrowAlignment(alignment);
        }

        _released = released;
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)alignment);
        NativeMemory.Clear(_memory, (nuint)length);
    }

    /// <summary>
    /// A region over <paramref name="length"/> bytes at <paramref name="memory"/> that its allocator
    /// owns (one block behind the whole window); the region clears them and never frees them.
    /// </summary>
    internal HostDmaRegion(ulong busAddress, int length, byte* memory, Action<HostDmaRegion> released)
        : base(busAddress, length)
    {
        _released = released;
        _ownsMemory = false;
        _memory = memory;
        NativeMemory.Clear(_memory, (nuint)length);
    }

    ~HostDmaRegion() => Dispose(disposing: false);

    public override bool TryGetSpan(out Span<byte> span)
    {
        CheckRange(0, 0);
        span = new Span<byte>(_memory, Length);
        return true;
    }

    public override void Read(int offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        new ReadOnlySpan<byte>(_memory + offset, destination.Length).CopyTo(destination);
    }

    public override void Write(int offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        source.CopyTo(new Span<byte>(_memory + offset, source.Length));
    }

    /// <summary>
    /// Device-side copy for <see cref="HostDmaAllocator"/>, which guarantees under its lock that the
    /// region is still registered, and so that its memory is still there, even while a
    /// <see cref="DmaRegion.Dispose()"/> is waiting to unhook it.
    /// </summary>
    internal void CopyOut(int offset, Span<byte> destination) =>
        new ReadOnlySpan<byte>(_memory + offset, destination.Length).CopyTo(destination);

    /// <inheritdoc cref="CopyOut"/>
    internal void CopyIn(int offset, ReadOnlySpan<byte> source) =>
        source.CopyTo(new Span<byte>(_memory + offset, source.Length));

    public override void Clear(int offset, int length)
    {
        CheckRange(offset, length);
        NativeMemory.Clear(_memory + offset, (nuint)length);
    }

    public override ushort ReadUInt16(int offset)
    {
        CheckRange(offset, sizeof(ushort));
        ushort value = Volatile.Read(ref *(ushort*)(_memory + offset));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    public override uint ReadUInt32(int offset)
    {
        CheckRange(offset, sizeof(uint));
        uint value = Volatile.Read(ref *(uint*)(_memory + offset));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    public override ulong ReadUInt64(int offset)
    {
        CheckRange(offset, sizeof(ulong));
        ulong value = Volatile.Read(ref *(ulong*)(_memory + offset));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    public override void WriteUInt16(int offset, ushort value)
    {
        CheckRange(offset, sizeof(ushort));
        Volatile.Write(ref *(ushort*)(_memory + offset),
            BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value));
    }

    public override void WriteUInt32(int offset, uint value)
    {
        CheckRange(offset, sizeof(uint));
        Volatile.Write(ref *(uint*)(_memory + offset),
            BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value));
    }

    public override void WriteUInt64(int offset, ulong value)
    {
        CheckRange(offset, sizeof(ulong));
        Volatile.Write(ref *(ulong*)(_memory + offset),
            BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value));
    }

    protected override void Dispose(bool disposing)
    {
        // Unhook first: once the callback returns no device access can be routed here any more.
        if (disposing)
        {
            _released?.Invoke(this);
        }

        if (_memory != null)
        {
            if (_ownsMemory)
            {
                NativeMemory.AlignedFree(_memory);
            }

            _memory = null;
        }
    }
}
