using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VirtioHw.Domain;

namespace VirtioHw.Platforms.Qemu.Native;

/// <summary>A shared mapping of a file descriptor; unmapped exactly once, when the last user lets go.</summary>
internal sealed unsafe class MemoryMapping : SafeHandle
{
    private MemoryMapping(void* address, long length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle((IntPtr)address);
        Length = length;
    }

    public long Length { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The first byte. Valid while the caller keeps the mapping alive.</summary>
    public byte* Pointer => (byte*)DangerousGetHandle();

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="descriptor"/> shared, readable and writable.</summary>
    /// <exception cref="IOException">mmap failed.</exception>
    public static MemoryMapping Map(SafeHandle descriptor, long length, string what)
    {
        void* address = Libc.MapMemory(null, (nuint)length, Libc.ProtectRead | Libc.ProtectWrite, Libc.MapShared, descriptor, 0);
        if (address == (void*)-1)
        {
            throw new IOException($"cannot map {length} bytes of {what}: {Libc.Describe(Libc.LastError)}");
        }

        return new MemoryMapping(address, length);
    }

    protected override bool ReleaseHandle() => Libc.UnmapMemory((void*)handle, (nuint)Length) == 0;
}

/// <summary>Creates and opens the shared-memory objects an ivshmem server hands out.</summary>
internal static class SharedMemoryFile
{
    /// <summary>
    /// An anonymous memfd of <paramref name="size"/> zeroed bytes, sealed so no holder can shrink or
    /// grow it (<see cref="SealedMemory"/>); it lives as long as a descriptor does.
    /// </summary>
    public static SafeHandle CreateAnonymous(string name, long size) => SealedMemory.Create(name, size);

    /// <summary>
    /// Opens (creating when absent) the file at <paramref name="path"/> read-write and sets its
    /// size to <paramref name="size"/>; the contents up to that size are kept.
    /// </summary>
    public static SafeFileHandle OpenFile(string path, long size)
    {
        SafeFileHandle file;
        try
        {
            // .NET opens close-on-exec, so QEMU processes started later do not inherit it.
            file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot open shared memory {path}: {e.Message}", e);
        }

        try
        {
            Resize(file, size, path);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The size of the object behind <paramref name="descriptor"/> (its end, found with lseek).</summary>
    public static long SizeOf(SafeHandle descriptor)
    {
        long size = Libc.Seek(descriptor, 0, Libc.SeekEnd);
        if (size < 0)
        {
            throw new IOException($"cannot size the shared memory: {Libc.Describe(Libc.LastError)}");
        }

        return size;
    }

    private static void Resize(SafeHandle descriptor, long size, string what)
    {
        if (Libc.FTruncate(descriptor, size) != 0)
        {
            throw new IOException($"cannot set the size of {what} to {size} bytes: {Libc.Describe(Libc.LastError)}");
        }
    }
}
