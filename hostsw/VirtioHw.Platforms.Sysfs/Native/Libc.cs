using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace VirtioHw.Platforms.Sysfs.Native;

/// <summary>
/// mmap and munmap from the Linux C library, for the BARs sysfs offers as <c>resourceN</c> files.
/// Files themselves are opened by .NET (close-on-exec) and read with pread through
/// <see cref="RandomAccess"/>.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    public const int ProtectRead = 0x1;
    public const int ProtectWrite = 0x2;
    public const int MapShared = 0x1;

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* MapMemory(void* address, nuint length, int protection, int flags,
        [MarshalUsing(typeof(DescriptorMarshaller))] SafeHandle descriptor, long offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    public static partial int UnmapMemory(void* address, nuint length);

    /// <summary>Text for the errno of the last call above.</summary>
    public static string LastErrorText => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
}

/// <summary>
/// Passes a <see cref="SafeHandle"/> that wraps a file descriptor as the C <c>int</c> it is (the
/// built-in marshalling would pass a pointer-sized value), keeping it open during the call.
/// </summary>
[CustomMarshaller(typeof(SafeHandle), MarshalMode.ManagedToUnmanagedIn, typeof(ManagedToUnmanagedIn))]
internal static class DescriptorMarshaller
{
    public struct ManagedToUnmanagedIn
    {
        private SafeHandle? _handle;
        private bool _added;

        public void FromManaged(SafeHandle managed)
        {
            _handle = managed;
            managed.DangerousAddRef(ref _added);
        }

        public readonly int ToUnmanaged() => (int)_handle!.DangerousGetHandle();

        public readonly void Free()
        {
            if (_added)
            {
                _handle!.DangerousRelease();
            }
        }
    }
}

/// <summary>A mapping of a <c>resourceN</c> file; unmapped exactly once, when the last user lets go.</summary>
internal sealed unsafe class BarMapping : SafeHandle
{
    private BarMapping(void* address, long length, bool writable)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle((IntPtr)address);
        Length = length;
        Writable = writable;
    }

    public long Length { get; }

    public bool Writable { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="file"/>, writable only when asked.</summary>
    /// <exception cref="IOException">mmap failed (the kernel refuses BAR mappings under lockdown, say).</exception>
    public static BarMapping Map(SafeHandle file, long length, bool writable, string what)
    {
        int protection = writable ? Libc.ProtectRead | Libc.ProtectWrite : Libc.ProtectRead;
        void* address = Libc.MapMemory(null, (nuint)length, protection, Libc.MapShared, file, 0);
        if (address == (void*)-1)
        {
            throw new IOException($"cannot map {what}: {Libc.LastErrorText}");
        }

        return new BarMapping(address, length, writable);
    }

    /// <summary>One read of exactly <paramref name="width"/> bytes at <paramref name="offset"/>.</summary>
    public ulong Read(long offset, int width)
    {
        bool added = false;
        try
        {
            DangerousAddRef(ref added);
            byte* at = (byte*)handle + offset;
            return width switch
            {
                1 => Volatile.Read(ref *at),
                2 => Volatile.Read(ref *(ushort*)at),
                4 => Volatile.Read(ref *(uint*)at),
                _ => Volatile.Read(ref *(ulong*)at),
            };
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    /// <summary>One write of exactly <paramref name="width"/> bytes at <paramref name="offset"/>.</summary>
    public void Write(long offset, int width, ulong value)
    {
        bool added = false;
        try
        {
            DangerousAddRef(ref added);
            byte* at = (byte*)handle + offset;
            switch (width)
            {
                case 1:
                    Volatile.Write(ref *at, (byte)value);
                    break;
                case 2:
                    Volatile.Write(ref *(ushort*)at, (ushort)value);
                    break;
                case 4:
                    Volatile.Write(ref *(uint*)at, (uint)value);
                    break;
                default:
                    Volatile.Write(ref *(ulong*)at, value);
                    break;
            }
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    protected override bool ReleaseHandle() => Libc.UnmapMemory((void*)handle, (nuint)Length) == 0;
}
