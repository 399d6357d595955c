using System.Runtime.InteropServices;

namespace VirtioHw.Domain.Native;

/// <summary>
/// The Linux C library calls the domain needs: descriptor passing on UNIX stream sockets
/// (sendmsg/recvmsg with SCM_RIGHTS), sealed memfds and mmap, peer credentials, socket file
/// permissions. Constants are the Linux values, the same on every architecture .NET runs on.
/// The ivshmem server takes its sealing, credential and permission calls from here too.
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
    public const uint MemFdAllowSealing = 0x2;

    public const int FileDuplicateCloseOnExec = 1030;
    public const int FileAddSeals = 1033;
    public const int FileGetSeals = 1034;
    public const int FileGetStatusFlags = 3;
    public const int SealSeal = 0x1;
    public const int SealShrink = 0x2;
    public const int SealGrow = 0x4;

    public const int OpenReadOnly = 0x0;
    public const int OpenAccessMode = 0x3;
    public const int OpenCloseOnExec = 0x80000;

    public const int SocketPeerCredentials = 17;
    public const int SocketPeerGroups = 59;
    public const int ErrorRange = 34;
    public const int ProtectRead = 0x1;
    public const int ProtectWrite = 0x2;
    public const int MapShared = 0x1;
    public const int MapPrivate = 0x2;
    public const int MapFixed = 0x10;
    public const int MapAnonymous = 0x20;
    public const int SeekEnd = 2;

    public const int ErrorInterrupted = 4;
    public const int ErrorWouldBlock = 11;

    public const int EventFdCloseOnExec = 0x80000;
    public const int EventFdNonBlocking = 0x800;
    public const int EpollCloseOnExec = 0x80000;
    public const int EpollAdd = 1;
    public const int EpollDelete = 2;
    public const uint EpollIn = 0x1;

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

    /// <summary><c>struct ucred</c>: what SO_PEERCRED reports about the process at the other end.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PeerCredentials
    {
        public int ProcessId;
        public uint UserId;
        public uint GroupId;
    }

    /// <summary><c>struct group</c> as glibc lays it out; only the id is read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct GroupEntry
    {
        public byte* Name;
        public byte* Password;
        public uint GroupId;
        public byte** Members;
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

    /// <summary><c>fcntl</c> with an integer argument: seals, status flags, duplication.</summary>
    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Control(SafeHandle descriptor, int command, int argument);

    [LibraryImport(Library, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int ChangeMode(SafeHandle descriptor, uint mode);

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Library, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSocketOption(SafeHandle socket, int level, int name, void* value, uint* length);

    [LibraryImport(Library, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ChangePathMode(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ChangePathOwner(string path, uint user, uint group);

    [LibraryImport(Library, EntryPoint = "geteuid")]
    public static partial uint EffectiveUserId();

    [LibraryImport(Library, EntryPoint = "getegid")]
    public static partial uint EffectiveGroupId();

    [LibraryImport(Library, EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int GroupByName(string name, GroupEntry* entry, byte* buffer, nuint length, GroupEntry** result);

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(Library, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    /// <summary><c>epoll_ctl</c>; <paramref name="ev"/> points at a <c>struct epoll_event</c> (see <see cref="EpollEventSize"/>).</summary>
    [LibraryImport(Library, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollControl(SafeHandle epoll, int operation, SafeHandle descriptor, byte* ev);

    [LibraryImport(Library, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(SafeHandle epoll, byte* events, int maxEvents, int timeout);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(SafeHandle descriptor, void* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(SafeHandle descriptor, void* buffer, nuint count);

    /// <summary><c>struct epoll_event</c> is packed on x86-64 (12 bytes, data at 4) and naturally aligned elsewhere (16 bytes, data at 8).</summary>
    public static int EpollEventSize => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static int EpollDataOffset => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

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
