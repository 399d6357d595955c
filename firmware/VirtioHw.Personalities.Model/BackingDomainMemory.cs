using VirtioHw.Firmware.Ism;
using VirtioHw.Model;

namespace VirtioHw.Personalities.Model;

/// <summary>A domain's memory on the model: one <see cref="SharedMemoryBacking"/> every member's chunk window maps.</summary>
/// <param name="backing">The memory; not owned.</param>
public sealed class BackingDomainMemory(SharedMemoryBacking backing) : IIsmDomainMemory
{
    private static readonly byte[] s_zeros = new byte[64 * 1024];

    public SharedMemoryBacking Backing { get; } = backing ?? throw new ArgumentNullException(nameof(backing));

    public ulong Length => Backing.Length;

    public void Clear(ulong address, ulong length)
    {
        for (ulong done = 0; done < length;)
        {
            int step = (int)Math.Min((ulong)s_zeros.Length, length - done);
            Backing.Write(address + done, s_zeros.AsSpan(0, step));
            done += (ulong)step;
        }
    }
}
