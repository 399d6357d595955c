using System.Runtime.InteropServices;

namespace VirtioHw.Domain.Native;

/// <summary>
/// A doorbell: an eventfd (non-blocking, close-on-exec) that one device rings to wake another.
/// It carries a count and nothing else: whoever holds it can add to the count, read it back to
/// zero, or wait for it, never reach memory through it.
/// </summary>
internal static unsafe class Doorbell
{
    /// <summary>A new doorbell with a count of zero; the caller disposes it.</summary>
    /// <exception cref="IOException">Out of descriptors or memory.</exception>
    public static FileDescriptor Create()
    {
        int descriptor = Libc.EventFd(0, Libc.EventFdCloseOnExec | Libc.EventFdNonBlocking);
        return descriptor >= 0 ? new FileDescriptor(descriptor) : throw new IOException($"eventfd: {Libc.LastErrorText}");
    }

    /// <summary>Adds one to the count; false when the count is full (2^64 - 2, rung by someone who never lets it be read) or the descriptor failed.</summary>
    public static bool Ring(SafeHandle doorbell)
    {
        ulong one = 1;
        nint written;
        do
        {
            written = Libc.Write(doorbell, &one, sizeof(ulong));
        }
        while (written < 0 && Libc.LastError == Libc.ErrorInterrupted);

        return written == sizeof(ulong);
    }

    /// <summary>Reads the count back to zero; 0 when nothing rang since (someone else took it, or the wake-up was spurious).</summary>
    public static ulong Take(SafeHandle doorbell)
    {
        ulong count = 0;
        nint read;
        do
        {
            read = Libc.Read(doorbell, &count, sizeof(ulong));
        }
        while (read < 0 && Libc.LastError == Libc.ErrorInterrupted);

        return read == sizeof(ulong) ? count : 0;
    }
}

/// <summary>
/// An epoll set whose members are told apart by a 64-bit id: one thread waits, any thread adds or
/// removes. A member removed while the waiter holds its id is simply not found by the caller's
/// lookup afterwards, so ids are never reused.
/// </summary>
internal sealed unsafe class DoorbellPoller : IDisposable
{
    private readonly FileDescriptor _epoll;

    public DoorbellPoller()
    {
        int descriptor = Libc.EpollCreate(Libc.EpollCloseOnExec);
        _epoll = descriptor >= 0 ? new FileDescriptor(descriptor) : throw new IOException($"epoll_create1: {Libc.LastErrorText}");
    }

    /// <summary>Wakes the waiter with <paramref name="id"/> while <paramref name="descriptor"/> is readable.</summary>
    /// <exception cref="IOException">The kernel refused (out of memory, or the descriptor is closed).</exception>
    public void Add(SafeHandle descriptor, ulong id)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = Libc.EpollIn;
        *(ulong*)(ev + Libc.EpollDataOffset) = id;
        if (Libc.EpollControl(_epoll, Libc.EpollAdd, descriptor, ev) != 0)
        {
            throw new IOException($"epoll_ctl: {Libc.LastErrorText}");
        }
    }

    /// <summary>Stops watching <paramref name="descriptor"/> (before it is closed).</summary>
    public void Remove(SafeHandle descriptor)
    {
        byte* ev = stackalloc byte[16];
        _ = Libc.EpollControl(_epoll, Libc.EpollDelete, descriptor, ev);
    }

    /// <summary>Waits until a member is readable and writes the ids of those that are; returns how many.</summary>
    /// <exception cref="IOException">epoll_wait failed for another reason than a signal.</exception>
    public int Wait(Span<ulong> ready)
    {
        int size = Libc.EpollEventSize;
        byte* events = stackalloc byte[size * ready.Length];
        int count;
        do
        {
            count = Libc.EpollWait(_epoll, events, ready.Length, -1);
        }
        while (count < 0 && Libc.LastError == Libc.ErrorInterrupted);

        if (count < 0)
        {
            throw new IOException($"epoll_wait: {Libc.LastErrorText}");
        }

        for (int i = 0; i < count; i++)
        {
            ready[i] = *(ulong*)(events + (i * size) + Libc.EpollDataOffset);
        }

        return count;
    }

    public void Dispose() => _epoll.Dispose();
}
