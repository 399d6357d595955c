using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using Microsoft.Win32.SafeHandles;

namespace VirtioHw.Platforms.Qemu.Native;

/// <summary>
/// A Linux file descriptor (socket, eventfd, memfd) that is closed exactly once, when the last
/// user releases it. Interop declarations take and return it directly: it crosses as the C
/// <c>int</c> it is, and stays open for the whole of the call.
/// </summary>
[NativeMarshalling(typeof(FileDescriptorMarshaller))]
internal sealed class FileDescriptor : SafeHandleMinusOneIsInvalid
{
    /// <summary>Takes ownership of <paramref name="descriptor"/>; -1 makes an invalid handle.</summary>
    public FileDescriptor(int descriptor)
        : base(ownsHandle: true)
    {
        SetHandle(descriptor);
    }

    /// <summary>
    /// The number, for <c>poll</c> and control messages. Only valid while the caller keeps the
    /// handle alive (it owns it and does not dispose it meanwhile).
    /// </summary>
    public int Number => (int)DangerousGetHandle();

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}

/// <summary>
/// Marshals a <see cref="FileDescriptor"/> as a C <c>int</c>. The built-in SafeHandle marshalling
/// would pass a pointer-sized value, and read a returned -1 as 0x00000000ffffffff.
/// </summary>
[CustomMarshaller(typeof(FileDescriptor), MarshalMode.ManagedToUnmanagedIn, typeof(ManagedToUnmanagedIn))]
[CustomMarshaller(typeof(FileDescriptor), MarshalMode.ManagedToUnmanagedOut, typeof(FileDescriptorMarshaller))]
internal static class FileDescriptorMarshaller
{
    /// <summary>A returned descriptor, owned by the new handle from here on.</summary>
    public static FileDescriptor ConvertToManaged(int unmanaged) => new(unmanaged);

    /// <summary>Keeps the descriptor open for the duration of the call.</summary>
    public struct ManagedToUnmanagedIn
    {
        private DescriptorMarshaller.ManagedToUnmanagedIn _inner;

        public void FromManaged(FileDescriptor managed) => _inner.FromManaged(managed);

        public readonly int ToUnmanaged() => _inner.ToUnmanaged();

        public readonly void Free() => _inner.Free();
    }
}

/// <summary>
/// Marshals any <see cref="SafeHandle"/> that wraps a descriptor (a <see cref="SafeFileHandle"/>
/// .NET opened, say) as a C <c>int</c>, keeping it open for the duration of the call.
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
