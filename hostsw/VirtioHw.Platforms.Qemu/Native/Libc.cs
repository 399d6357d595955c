using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace VirtioHw.Platforms.Qemu.Native;

/// <summary>
/// The Linux C library calls the ivshmem server and client need: UNIX stream sockets with
/// descriptor passing, eventfd and mmap. Sealed memfds, peer credentials and socket permissions
/// come from VirtioHw.Domain's. Constants are the Linux values, which are the same on every
/// architecture .NET runs on (x86-64, arm64, arm).
/// </summary>
/// <remarks>
/// C <c>size_t</c> and <c>ssize_t</c> are <see cref="nuint"/> and <see cref="nint"/>, C
/// <c>off_t</c> is <see cref="long"/> (64-bit on every 64-bit Linux, and glibc's 32-bit ABI
/// used by .NET), <c>unsigned long</c> is <see cref="CULong"/>.
/// </remarks>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    public const int AddressFamilyUnix = 1;
    public const int SocketStream = 1;
    public const int SocketNonBlocking = 0x800;
    public const int SocketCloseOnExec = 0x80000;

    public const int SocketLevel = 1;
    public const int ScmRights = 1;

    public const int MessageControlTruncated = 0x8;
    public const int MessageDontWait = 0x40;
    public const int MessageNoSignal = 0x4000;
    public const int MessageCloseOnExec = 0x40000000;

    public const short PollIn = 0x1;
    public const short PollOut = 0x4;
    public const short PollError = 0x8;
    public const short PollHangUp = 0x10;
    public const short PollInvalid = 0x20;

    public const int EventFdNonBlocking = 0x800;
    public const int EventFdCloseOnExec = 0x80000;

    public const int ProtectRead = 0x1;
    public const int ProtectWrite = 0x2;
    public const int MapShared = 0x1;

    public const int SeekEnd = 2;

    public const int AtCurrentDirectory = -100;
    public const int AtNoFollowSymlink = 0x100;
    public const uint StatXType = 0x1;
    public const ushort FileTypeMask = 0xf000;
    public const ushort FileTypeSocket = 0xc000;
    public const int ErrorNoEntry = 2;

    public const int ErrorInterrupted = 4;
    public const int ErrorWouldBlock = 11;
    public const int ErrorConnectionRefused = 111;

    /// <summary>Bytes of <c>sun_path</c> in <c>struct sockaddr_un</c>.</summary>
    public const int UnixPathCapacity = 108;

    /// <summary><c>struct sockaddr_un</c>: the family and a NUL-terminated path.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SocketAddressUnix
    {
        public ushort Family;
        public fixed byte Path[UnixPathCapacity];
    }

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c> (the layout glibc and the kernel share on Linux).</summary>
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

    /// <summary>
    /// <c>struct statx</c>: the same 256 bytes on every architecture. Only the mode is read here.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct StatXBuffer
    {
        [FieldOffset(28)]
        public ushort Mode;
    }

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport(Library, EntryPoint = "socket", SetLastError = true)]
    public static partial FileDescriptor Socket(int domain, int type, int protocol);

    [LibraryImport(Library, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(FileDescriptor socket, SocketAddressUnix* address, uint addressLength);

    [LibraryImport(Library, EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(FileDescriptor socket, int backlog);

    [LibraryImport(Library, EntryPoint = "accept4", SetLastError = true)]
    public static partial FileDescriptor Accept(FileDescriptor socket, void* address, uint* addressLength, int flags);

    [LibraryImport(Library, EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(FileDescriptor socket, SocketAddressUnix* address, uint addressLength);

    [LibraryImport(Library, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMessage(FileDescriptor socket, MessageHeader* message, int flags);

    [LibraryImport(Library, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint ReceiveMessage(FileDescriptor socket, MessageHeader* message, int flags);

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollDescriptor* descriptors, CULong count, int timeoutMilliseconds);

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    public static partial FileDescriptor EventFd(uint initialValue, int flags);

    [LibraryImport(Library, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate([MarshalUsing(typeof(DescriptorMarshaller))] SafeHandle descriptor, long length);

    [LibraryImport(Library, EntryPoint = "lseek", SetLastError = true)]
    public static partial long Seek([MarshalUsing(typeof(DescriptorMarshaller))] SafeHandle descriptor, long offset, int whence);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(FileDescriptor descriptor, void* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(FileDescriptor descriptor, void* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* MapMemory(void* address, nuint length, int protection, int flags, [MarshalUsing(typeof(DescriptorMarshaller))] SafeHandle descriptor, long offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    public static partial int UnmapMemory(void* address, nuint length);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatX(int directory, string path, int flags, uint mask, StatXBuffer* buffer);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int descriptor);

    /// <summary>The errno of the last call above, on this thread.</summary>
    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary>Text for an errno value, from the runtime's own table.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary><c>CMSG_ALIGN</c>: control data is aligned to the size of <c>size_t</c>.</summary>
    public static int ControlAlign(int length) => (length + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    /// <summary><c>CMSG_LEN</c>: a control message's header and <paramref name="dataLength"/> bytes.</summary>
    public static int ControlLength(int dataLength) => ControlAlign(sizeof(ControlMessageHeader)) + dataLength;

    /// <summary><c>CMSG_SPACE</c>: what a control message of <paramref name="dataLength"/> bytes occupies.</summary>
    public static int ControlSpace(int dataLength) => ControlAlign(sizeof(ControlMessageHeader)) + ControlAlign(dataLength);
}
