using System.Runtime.InteropServices;

namespace VirtioHw.Domain.Native;

/// <summary>
/// The Linux C library calls the domain needs: descriptor passing on UNIX stream sockets
/// (sendmsg/recvmsg with SCM_RIGHTS), memfd and mmap. Constants are the Linux values, the same
/// on every architecture .NET runs on.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    public const int SocketLevel = 1;
    public const int ScmRights = 1;
    public const int MessageControlTruncated = 0x8;
    public const int MessageNoSignal = 0x4000;
    public const int MessageDontWait = 0x40;
    public const int MessageCloseOnExec = 0x40000000;

    public const uint MemFdCloseOnExec = 0x1;
    public const int ProtectRead = 0x1;
    public const int ProtectWrite = 0x2;
    public const int MapShared = 0x1;
    public const int MapFixed = 0x10;
    public const int SeekEnd = 2;

    public const int ErrorInterrupted = 4;
    public const int ErrorWouldBlock = 11;

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c> as glibc and the kernel lay it out on Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary><c>struct cmsghdr</c>; its data follows, aligned to <see cref="nuint"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ControlMessageHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [LibraryImport(Library, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMessage(SafeHandle socket, MessageHeader* message, int flags);

    [LibraryImport(Library, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint ReceiveMessage(SafeHandle socket, MessageHeader* message, int flags);

    [LibraryImport(Library, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemFdCreate(string name, uint flags);

    [LibraryImport(Library, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate(SafeHandle descriptor, long length);

    [LibraryImport(Library, EntryPoint = "lseek", SetLastError = true)]
    public static partial long Seek(SafeHandle descriptor, long offset, int whence);

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* MapMemory(void* address, nuint length, int protection, int flags, SafeHandle descriptor, long offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    public static partial int UnmapMemory(void* address, nuint length);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int descriptor);

    /// <summary>Text for the errno of the last call above, on this thread.</summary>
    public static string LastErrorText => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());

    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary><c>CMSG_ALIGN</c>.</summary>
    public static int ControlAlign(int length) => (length + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    /// <summary><c>CMSG_LEN</c>.</summary>
    public static int ControlLength(int dataLength) => ControlAlign(sizeof(ControlMessageHeader)) + dataLength;

    /// <summary><c>CMSG_SPACE</c>.</summary>
    public static int ControlSpace(int dataLength) => ControlAlign(sizeof(ControlMessageHeader)) + ControlAlign(dataLength);
}
