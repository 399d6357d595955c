using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// Puts a generated register block behind a decoded range: an access becomes word reads and
/// writes with byte strobes, as the AXI4-Lite slave of the RTL block sees it. An 8-byte access is
/// two words, low first.
/// </summary>
internal sealed class RegisterBlockTarget(RegisterBlockModel block) : IMemoryTarget
{
    public ulong Read(ulong offset, int width)
    {
        uint at = (uint)offset;
        if (width == sizeof(ulong))
        {
            return block.Read(at) | ((ulong)block.Read(at + 4) << 32);
        }

        return (block.Read(at) >> (int)((at & 3) * 8)) & ByteLanes.Ones(width);
    }

    public void Write(ulong offset, int width, ulong value)
    {
        uint at = (uint)offset;
        if (width == sizeof(ulong))
        {
            block.Write(at, (uint)value);
            block.Write(at + 4, (uint)(value >> 32));
            return;
        }

        int lane = (int)(at & 3);
        block.Write(at & ~3u, (uint)value << (lane * 8), ((1u << width) - 1) << lane);
    }
}
