using System.Runtime.InteropServices;
using VirtioHw.Domain.Native;

namespace VirtioHw.Domain;

/// <summary>
/// Shared memory that whoever is handed it can read and write but never resize: an anonymous
/// memfd, mode 0600, sealed with F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL. The domain server's
/// region memory and the ivshmem server's memory are made here.
/// </summary>
public static class SealedMemory
{
    /// <summary>The seals every memfd made here carries.</summary>
    public const int Seals = Libc.SealShrink | Libc.SealGrow | Libc.SealSeal;

    /// <summary>A new sealed memfd of <paramref name="size"/> zeroed bytes, close-on-exec; the caller disposes it.</summary>
    /// <exception cref="IOException">The memfd could not be created, sized or sealed.</exception>
    public static SafeHandle Create(string name, long size) => SharedMapping.CreateMemFd(name, size);

    /// <summary>The seals on the memory behind <paramref name="descriptor"/>; -1 for a file that cannot carry seals.</summary>
    public static int SealsOf(SafeHandle descriptor) => SharedMapping.SealsOf(descriptor);
}
