using System.Buffers.Binary;

namespace VirtioHw.Model;

/// <summary>
/// The device memory behind the shared memory windows (on the card: its DDR). Addresses are byte
/// offsets from its start. Accesses of up to 8 bytes are little-endian; whoever shares one backing
/// between endpoints gets the ordering of ordinary memory.
/// </summary>
public sealed class SharedMemoryBacking
{
    private readonly Memory<byte> _memory;

    /// <summary>Zeroed memory of <paramref name="length"/> bytes.</summary>
    public SharedMemoryBacking(ulong length)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, (ulong)Array.MaxLength);
        _memory = new byte[length];
    }

    /// <summary>
    /// Over memory that someone else owns, for instance a shared mapping other processes see too
    /// (a <see cref="System.Buffers.MemoryManager{T}"/> over it); it must outlive this backing.
    /// </summary>
    public SharedMemoryBacking(Memory<byte> memory)
    {
        ArgumentOutOfRangeException.ThrowIfZero(memory.Length);
        _memory = memory;
    }

    public ulong Length => (ulong)_memory.Length;

    /// <summary>Whether <paramref name="length"/> bytes at <paramref name="address"/> lie inside.</summary>
    public bool Contains(ulong address, ulong length) => address <= Length && length <= Length - address;

    /// <summary>Copies bytes out; the range must lie inside.</summary>
    public void Read(ulong address, Span<byte> destination) =>
        _memory.Span.Slice(checked((int)address), destination.Length).CopyTo(destination);

    /// <summary>Copies bytes in; the range must lie inside.</summary>
    public void Write(ulong address, ReadOnlySpan<byte> source) =>
        source.CopyTo(_memory.Span.Slice(checked((int)address), source.Length));

    internal ulong Read(ulong address, int width)
    {
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        value.Clear();
        _memory.Span.Slice((int)address, width).CopyTo(value);
        return BinaryPrimitives.ReadUInt64LittleEndian(value);
    }

    internal void Write(ulong address, int width, ulong value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        bytes[..width].CopyTo(_memory.Span.Slice((int)address, width));
    }
}
