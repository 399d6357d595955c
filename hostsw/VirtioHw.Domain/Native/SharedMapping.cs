using System.Buffers;
using System.Runtime.InteropServices;

namespace VirtioHw.Domain.Native;

/// <summary>
/// A shared, readable and writable mapping of a memfd: the domain memory as this process sees it.
/// Every process that maps the same memfd sees the same bytes. Unmapped when disposed; spans handed
/// out before must not be used after.
/// </summary>
internal sealed unsafe class SharedMapping : MemoryManager<byte>
{
    private byte* _address;

    private SharedMapping(byte* address, int length)
    {
        _address = address;
        Length = length;
    }

    public int Length { get; }

    /// <summary>A new anonymous memfd of <paramref name="length"/> zeroed bytes (close-on-exec).</summary>
    /// <exception cref="IOException">memfd_create or ftruncate failed.</exception>
    public static FileDescriptor CreateMemFd(string name, long length)
    {
        var memory = new FileDescriptor(Libc.MemFdCreate(name, Libc.MemFdCloseOnExec));
        if (memory.IsInvalid)
        {
            string why = Libc.LastErrorText;
            memory.Dispose();
            throw new IOException($"memfd_create failed: {why}");
        }

        if (Libc.FTruncate(memory, length) != 0)
        {
            string why = Libc.LastErrorText;
            memory.Dispose();
            throw new IOException($"cannot size the domain memory to {length} bytes: {why}");
        }

        return memory;
    }

    /// <summary>The size of the object behind <paramref name="descriptor"/>.</summary>
    public static long SizeOf(SafeHandle descriptor)
    {
        long end = Libc.Seek(descriptor, 0, Libc.SeekEnd);
        return end >= 0 ? end : throw new IOException($"cannot find the size of the domain memory: {Libc.LastErrorText}");
    }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="descriptor"/> shared.</summary>
    /// <exception cref="IOException">mmap failed.</exception>
    public static SharedMapping Map(SafeHandle descriptor, int length)
    {
        void* address = Libc.MapMemory(null, (nuint)length, Libc.ProtectRead | Libc.ProtectWrite, Libc.MapShared, descriptor, 0);
        if (address == (void*)-1)
        {
            throw new IOException($"cannot map {length} bytes of the domain memory: {Libc.LastErrorText}");
        }

        return new SharedMapping((byte*)address, length);
    }

    /// <summary>
    /// Puts fresh zeroed memory of this process alone in place of the mapping, at the same address:
    /// spans and windows over it stay valid but no longer reach what other processes share.
    /// </summary>
    /// <exception cref="IOException">The replacement could not be created or mapped.</exception>
    public void Detach()
    {
        ObjectDisposedException.ThrowIf(_address == null, this);
        using FileDescriptor alone = CreateMemFd("virtiohw-ism-domain-lost", Length);
        void* address = Libc.MapMemory(_address, (nuint)Length, Libc.ProtectRead | Libc.ProtectWrite, Libc.MapShared | Libc.MapFixed, alone, 0);
        if (address != _address)
        {
            throw new IOException($"cannot replace the domain memory mapping: {Libc.LastErrorText}");
        }
    }

    /// <summary>Unmaps the memory.</summary>
    public void Unmap() => ((IDisposable)this).Dispose();

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_address == null, this);
        return new Span<byte>(_address, Length);
    }

    /// <summary>The memory is not moved by the collector; pinning is a no-op.</summary>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_address == null, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)Length);
        return new MemoryHandle(_address + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (_address != null)
        {
            Libc.UnmapMemory(_address, (nuint)Length);
            _address = null;
        }
    }
}
