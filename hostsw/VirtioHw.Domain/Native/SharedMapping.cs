using System.Buffers;
using System.Runtime.InteropServices;

namespace VirtioHw.Domain.Native;

/// <summary>
/// The domain memory as this process sees it: a whole memfd mapped shared, or a reserved range of
/// private memory into which the memfds of regions are mapped where their chunks lie. Every
/// process that maps the same memfd sees the same bytes. Unmapped when disposed; spans handed
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

    /// <summary>The descriptor argument of an anonymous mapping (-1); never closed.</summary>
    private static FileDescriptor NoDescriptor { get; } = new(-1);

    /// <summary>
    /// A new anonymous memfd of <paramref name="length"/> zeroed bytes (close-on-exec), mode 0600,
    /// sealed against shrinking and growing and against further sealing: whoever is handed it can
    /// read and write its bytes but never change its size, so no holder can make another's mapping
    /// point past the end of the object (SIGBUS) or shut others out.
    /// </summary>
    /// <exception cref="IOException">memfd_create, ftruncate, fchmod or the seals failed.</exception>
    public static FileDescriptor CreateMemFd(string name, long length)
    {
        var memory = new FileDescriptor(Libc.MemFdCreate(name, Libc.MemFdCloseOnExec | Libc.MemFdAllowSealing));
        if (memory.IsInvalid)
        {
            string why = Libc.LastErrorText;
            memory.Dispose();
            throw new IOException($"memfd_create failed: {why}");
        }

        try
        {
            if (Libc.FTruncate(memory, length) != 0)
            {
                throw new IOException($"cannot size the shared memory to {length} bytes: {Libc.LastErrorText}");
            }

            // A memfd is created 0777; 0600 keeps another user from reopening a read-only descriptor read-write through /proc.
            if (Libc.ChangeMode(memory, 0b110_000_000 /* 0600 */) != 0)
            {
                throw new IOException($"cannot set the mode of the shared memory: {Libc.LastErrorText}");
            }

            if (Libc.Control(memory, Libc.FileAddSeals, Libc.SealShrink | Libc.SealGrow | Libc.SealSeal) != 0)
            {
                throw new IOException($"cannot seal the shared memory: {Libc.LastErrorText}");
            }
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        return memory;
    }

    /// <summary>The seals on <paramref name="descriptor"/> (F_GET_SEALS), or -1 for an object that cannot be sealed.</summary>
    public static int SealsOf(SafeHandle descriptor) => Libc.Control(descriptor, Libc.FileGetSeals, 0);

    /// <summary>A new descriptor of the same open memfd, close-on-exec: one a frame in a queue owns.</summary>
    /// <exception cref="IOException">fcntl failed (out of descriptors).</exception>
    public static FileDescriptor Duplicate(SafeHandle descriptor)
    {
        var copy = new FileDescriptor(Libc.Control(descriptor, Libc.FileDuplicateCloseOnExec, 0));
        if (copy.IsInvalid)
        {
            string why = Libc.LastErrorText;
            copy.Dispose();
            throw new IOException($"cannot duplicate a descriptor: {why}");
        }

        return copy;
    }

    /// <summary>
    /// A new read-only descriptor of the memfd behind <paramref name="descriptor"/>, opened through
    /// /proc/self/fd: a mapping of it cannot be made writable, and its mode (0600) keeps a holder of
    /// another user from reopening it read-write.
    /// </summary>
    /// <exception cref="IOException">The reopen failed.</exception>
    public static FileDescriptor ReopenReadOnly(SafeHandle descriptor)
    {
        bool added = false;
        try
        {
            descriptor.DangerousAddRef(ref added);
            var copy = new FileDescriptor(Libc.Open($"/proc/self/fd/{(int)descriptor.DangerousGetHandle()}", Libc.OpenReadOnly | Libc.OpenCloseOnExec));
            if (copy.IsInvalid)
            {
                string why = Libc.LastErrorText;
                copy.Dispose();
                throw new IOException($"cannot reopen the region memory read-only: {why}");
            }

            return copy;
        }
        finally
        {
            if (added)
            {
                descriptor.DangerousRelease();
            }
        }
    }

    /// <summary>Whether <paramref name="descriptor"/> was opened for reading only.</summary>
    public static bool IsReadOnly(SafeHandle descriptor) =>
        (Libc.Control(descriptor, Libc.FileGetStatusFlags, 0) & Libc.OpenAccessMode) == Libc.OpenReadOnly;

    /// <summary>The size of the object behind <paramref name="descriptor"/>.</summary>
    public static long SizeOf(SafeHandle descriptor)
    {
        long end = Libc.Seek(descriptor, 0, Libc.SeekEnd);
        return end >= 0 ? end : throw new IOException($"cannot find the size of the shared memory: {Libc.LastErrorText}");
    }

    /// <summary>
    /// <paramref name="length"/> bytes of zeroed memory of this process alone, readable and
    /// writable: the domain's address space, into which the memory of regions is mapped
    /// (<see cref="MapAt"/>) and from which it is withdrawn (<see cref="Withdraw"/>).
    /// </summary>
    /// <exception cref="IOException">mmap failed.</exception>
    public static SharedMapping Reserve(int length)
    {
        void* address = Libc.MapMemory(null, (nuint)length, Libc.ProtectRead | Libc.ProtectWrite, Libc.MapPrivate | Libc.MapAnonymous, NoDescriptor, 0);
        if (address == (void*)-1)
        {
            throw new IOException($"cannot reserve {length} bytes for the domain memory: {Libc.LastErrorText}");
        }

        return new SharedMapping((byte*)address, length);
    }

    /// <summary>
    /// Maps <paramref name="length"/> bytes of <paramref name="descriptor"/> from
    /// <paramref name="sourceOffset"/> shared at <paramref name="offset"/> of this mapping, in place
    /// of what was there; read-only unless <paramref name="writable"/>.
    /// </summary>
    /// <exception cref="IOException">mmap failed (the range is left as it was).</exception>
    public void MapAt(ulong offset, ulong length, SafeHandle descriptor, long sourceOffset, bool writable)
    {
        ObjectDisposedException.ThrowIf(_address == null, this);
        CheckRange(offset, length);
        int protection = writable ? Libc.ProtectRead | Libc.ProtectWrite : Libc.ProtectRead;
        void* address = Libc.MapMemory(_address + offset, (nuint)length, protection, Libc.MapShared | Libc.MapFixed, descriptor, sourceOffset);
        if (address != _address + offset)
        {
            throw new IOException($"cannot map region memory at 0x{offset:x}: {Libc.LastErrorText}");
        }
    }

    /// <summary>
    /// Puts fresh zeroed memory of this process alone in place of <paramref name="length"/> bytes at
    /// <paramref name="offset"/>: spans and windows over it stay valid but no longer reach what
    /// other processes share.
    /// </summary>
    /// <exception cref="IOException">The replacement could not be mapped.</exception>
    public void Withdraw(ulong offset, ulong length)
    {
        ObjectDisposedException.ThrowIf(_address == null, this);
        CheckRange(offset, length);
        void* address = Libc.MapMemory(_address + offset, (nuint)length, Libc.ProtectRead | Libc.ProtectWrite, Libc.MapPrivate | Libc.MapAnonymous | Libc.MapFixed, NoDescriptor, 0);
        if (address != _address + offset)
        {
            throw new IOException($"cannot withdraw shared memory at 0x{offset:x}: {Libc.LastErrorText}");
        }
    }

    /// <summary>Withdraws the whole mapping (<see cref="Withdraw"/>): nothing of it reaches shared memory any more.</summary>
    /// <exception cref="IOException">The replacement could not be mapped.</exception>
    public void Detach() => Withdraw(0, (ulong)Length);

    /// <summary>Unmaps the memory.</summary>
    public void Unmap() => ((IDisposable)this).Dispose();

    private void CheckRange(ulong offset, ulong length)
    {
        if (offset > (ulong)Length || length > (ulong)Length - offset || offset % (ulong)Environment.SystemPageSize != 0 || length % (ulong)Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x} + 0x{length:x} is not a page-aligned range of {Length} bytes");
        }
    }

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
