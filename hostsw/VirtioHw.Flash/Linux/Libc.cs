using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace VirtioHw.Flash;

/// <summary>The C library's ioctl; device nodes are opened with .NET's own SafeFileHandle.</summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    /// <summary>ioctl(2). The request is a C <c>unsigned long</c>: 32 bits on 32-bit Linux, 64 on 64-bit.</summary>
    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlNative(int fd, CULong request, void* argument);

    /// <summary>ioctl on a handle kept alive for the call; returns the result or -1 with errno in <paramref name="errno"/>.</summary>
    public static int Ioctl(SafeFileHandle handle, uint request, void* argument, out int errno)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int rc = IoctlNative(fd, new CULong(request), argument);
            errno = rc < 0 ? Marshal.GetLastPInvokeError() : 0;
            return rc;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Text for an errno value, from the runtime's own table.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
