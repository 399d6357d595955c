using Microsoft.Win32.SafeHandles;

namespace VirtioHw.Domain.Native;

/// <summary>A Linux file descriptor (a memfd, one received over a socket), closed exactly once.</summary>
internal sealed class FileDescriptor : SafeHandleMinusOneIsInvalid
{
    /// <summary>Takes ownership of <paramref name="descriptor"/>.</summary>
    public FileDescriptor(int descriptor)
        : base(ownsHandle: true)
    {
        SetHandle(descriptor);
    }

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
