using System.Runtime.InteropServices;
using VirtioHw.Firmware.Ism;

namespace VirtioHw.Platforms.Cosim;

/// <summary>
/// Device memory (on a card, its DDR) in native memory that does not move, so the co-simulation
/// shim serves the endpoints' memory master straight from it: one block attached to every
/// endpoint that shares it (the ISM devices of a domain, ivshmem peers). Zeroed at creation.
/// </summary>
/// <remarks>
/// Whoever creates a block disposes it, and only after every platform it is attached to has been
/// disposed: the RTL holds its address. The finalizer frees it if nobody did.
/// </remarks>
public sealed unsafe class DeviceMemory : IIsmDomainMemory, IDisposable
{
    private byte* _base;

    /// <param name="length">Bytes, at least 1.</param>
    public DeviceMemory(ulong length)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        Length = length;
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)length, 4096);
        NativeMemory.Clear(_base, (nuint)length);
    }

    ~DeviceMemory() => Free();

    public ulong Length { get; }

    /// <summary>The first byte, for the shim; valid until the block is disposed.</summary>
    internal byte* Base
    {
        get
        {
            ObjectDisposedException.ThrowIf(_base is null, this);
            return _base;
        }
    }

    /// <summary>Copies <c>destination.Length</c> bytes at <paramref name="address"/> out; the range must lie inside.</summary>
    public void Read(ulong address, Span<byte> destination) => Range(address, destination.Length).CopyTo(destination);

    /// <summary>Copies <paramref name="source"/> in at <paramref name="address"/>; the range must lie inside.</summary>
    public void Write(ulong address, ReadOnlySpan<byte> source) => source.CopyTo(Range(address, source.Length));

    public void Clear(ulong address, ulong length)
    {
        CheckRange(address, length);
        NativeMemory.Clear(Base + address, (nuint)length);
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private Span<byte> Range(ulong address, int length)
    {
        CheckRange(address, (ulong)length);
        return new Span<byte>(Base + address, length);
    }

    private void CheckRange(ulong address, ulong length)
    {
        if (address > Length || length > Length - address)
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{length:x} bytes at 0x{address:x} run past the 0x{Length:x} bytes of device memory");
        }
    }

    private void Free()
    {
        if (_base is not null)
        {
            NativeMemory.AlignedFree(_base);
            _base = null;
        }
    }
}
