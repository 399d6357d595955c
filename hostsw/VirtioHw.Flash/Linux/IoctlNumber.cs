using System.Runtime.InteropServices;

namespace VirtioHw.Flash;

/// <summary>
/// Linux ioctl request numbers, built as the kernel's _IOC macro builds them. Most architectures
/// use the generic layout (2 direction bits at 30, 14 size bits at 16); PowerPC has 3 direction
/// bits and 13 size bits with read and write swapped to 2 and 4.
/// </summary>
internal static class IoctlNumber
{
    /// <summary>Whether to use the PowerPC layout (true on ppc64le).</summary>
    public static bool PowerPcLayout { get; } = RuntimeInformation.ProcessArchitecture == Architecture.Ppc64le;

    private static uint Make(uint direction, byte type, uint number, uint size, bool powerPc)
    {
        int sizeBits = powerPc ? 13 : 14;
        if (size >= 1u << sizeBits)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"an ioctl argument of {size} bytes does not fit the size field");
        }

        return (direction << 29 << (powerPc ? 0 : 1)) | (size << 16) | ((uint)type << 8) | number;
    }

    /// <summary>_IOW: the kernel reads <paramref name="size"/> bytes from the argument.</summary>
    public static uint Write(byte type, int number, int size, bool? powerPc = null)
    {
        bool ppc = powerPc ?? PowerPcLayout;
        return Make(ppc ? 4u : 1u, type, (uint)number, (uint)size, ppc);
    }

    /// <summary>_IOR: the kernel writes <paramref name="size"/> bytes to the argument.</summary>
    public static uint Read(byte type, int number, int size, bool? powerPc = null)
    {
        bool ppc = powerPc ?? PowerPcLayout;
        return Make(2u, type, (uint)number, (uint)size, ppc);
    }

    /// <summary>_IOWR: both directions.</summary>
    public static uint ReadWrite(byte type, int number, int size, bool? powerPc = null)
    {
        bool ppc = powerPc ?? PowerPcLayout;
        return Make(ppc ? 6u : 3u, type, (uint)number, (uint)size, ppc);
    }
}
