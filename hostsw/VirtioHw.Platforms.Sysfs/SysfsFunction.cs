using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Sysfs.Native;

namespace VirtioHw.Platforms.Sysfs;

/// <summary>One line of a function's sysfs <c>resource</c> file: where the kernel put a BAR.</summary>
/// <param name="Start">First address (CPU physical; the same as the bus address on x86).</param>
/// <param name="End">Last address; 0 with <paramref name="Start"/> 0 for an unimplemented BAR.</param>
/// <param name="Flags">The kernel's IORESOURCE_* flags.</param>
internal readonly record struct SysfsResource(ulong Start, ulong End, ulong Flags)
{
    private const ulong IoResourceIo = 0x100;
    private const ulong IoResourceMem = 0x200;

    public ulong Size => End > Start || Start != 0 ? End - Start + 1 : 0;

    public bool IsMemory => (Flags & IoResourceMem) != 0 && Size != 0;

    public bool IsIo => (Flags & IoResourceIo) != 0 && Size != 0;

    public bool Contains(ulong address, int width) =>
        IsMemory && address >= Start && address <= End && (ulong)(width - 1) <= End - address;
}

/// <summary>
/// One function under /sys/bus/pci/devices. A function the user did not opt in for is never
/// written: its config file is opened read-only and its BARs mapped without write access. The
/// few writes PCI enumeration makes while sizing BARs are answered from a shadow instead (see
/// <see cref="Write"/>); every other write is refused.
/// </summary>
internal sealed class SysfsFunction : IDisposable
{
    private const int CommandOffset = 0x04;
    private const int FirstBar = 0x10;
    private const int LastBar = 0x24;
    private const int BarCount = 6;

    // Memory space, I/O space and bus master: the bits enumeration turns off and on around sizing.
    private const ushort DecodeBits = 0x0007;

    private readonly Lock _sync = new();
    private readonly Dictionary<int, uint> _barShadow = [];
    private readonly BarMapping?[] _mappings = new BarMapping?[BarCount];
    private readonly string _name;
    private SafeFileHandle? _config;
    private ushort? _commandShadow;
    private int? _readable;

    public SysfsFunction(PciAddress address, int domain, string directory, bool writable)
    {
        Address = address;
        Directory = directory;
        Writable = writable;
        _name = string.Create(CultureInfo.InvariantCulture, $"{domain:x4}:{address}");
        Resources = ReadResources(Path.Combine(directory, "resource"));
    }

    public PciAddress Address { get; }

    public string Directory { get; }

    /// <summary>The user opted in: config writes and BAR writes reach the device.</summary>
    public bool Writable { get; }

    /// <summary>BARs 0-5 as the kernel placed them (unimplemented ones have size 0).</summary>
    public IReadOnlyList<SysfsResource> Resources { get; }

    /// <summary>One config read of exactly <paramref name="width"/> bytes; past the end of the file (a conventional function's extended space) reads all-ones.</summary>
    public uint Read(int offset, int width)
    {
        lock (_sync)
        {
            uint mask = uint.MaxValue >> (32 - (8 * width));
            if (_barShadow.TryGetValue(offset & ~3, out uint shadow))
            {
                return (shadow >> ((offset & 3) * 8)) & mask;
            }

            if (_commandShadow is { } command && offset < CommandOffset + 2 && offset + width > CommandOffset)
            {
                uint dword = (ReadDevice(CommandOffset, 4) & 0xffff_0000) | command;
                return (dword >> ((offset - CommandOffset) * 8)) & mask;
            }

            return ReadDevice(offset, width);
        }
    }

    /// <summary>
    /// One config write. For a writable function it goes to the device as it is. For any other,
    /// nothing reaches the device: a write that leaves the register as it reads is accepted and
    /// ignored; writing all-ones to a BAR makes it read its size mask (from the kernel's
    /// <c>resource</c> file) until its own value is written back; the command register's decode
    /// bits may be turned off and on again in a shadow (the device keeps its own); everything else
    /// is refused.
    /// </summary>
    /// <exception cref="InvalidOperationException">The write would change a read-only function; one line.</exception>
    public void Write(int offset, int width, uint value)
    {
        lock (_sync)
        {
            if (Writable)
            {
                WriteDevice(offset, width, value);
                return;
            }

            int register = offset & ~3;
            int shift = (offset & 3) * 8;
            uint mask = (uint.MaxValue >> (32 - (8 * width))) << shift;
            uint device = ReadDevice(register, 4);
            uint visible = (Read(register, 4) & ~mask) | ((value << shift) & mask);
            if (register is >= FirstBar and <= LastBar)
            {
                WriteBarShadow(register, device, visible, offset, value);
            }
            else if (register == CommandOffset && (mask & 0xffff_0000) == 0)
            {
                WriteCommandShadow((ushort)device, (ushort)visible, offset, value);
            }
            else if (visible != Read(register, 4))
            {
                throw Refused(offset, value);
            }
        }
    }

    /// <summary>How many bytes a read of the whole config file returns (the kernel may show fewer than the file's size).</summary>
    public int ReadableLength()
    {
        lock (_sync)
        {
            if (_readable is null)
            {
                Span<byte> bytes = stackalloc byte[4096];
                int total = 0, read;
                while (total < bytes.Length && (read = RandomAccess.Read(Config(), bytes[total..], total)) > 0)
                {
                    total += read;
                }

                _readable = total;
            }

            return _readable.Value;
        }
    }

    /// <summary>BAR <paramref name="index"/> mapped through <c>resourceN</c>, mapped on first use.</summary>
    /// <exception cref="IOException">The kernel offers no such file, or refuses the mapping; one line.</exception>
    public BarMapping Map(int index)
    {
        lock (_sync)
        {
            if (_mappings[index] is { } mapped)
            {
                return mapped;
            }

            string path = Path.Combine(Directory, "resource" + index.ToString(CultureInfo.InvariantCulture));
            if (!File.Exists(path))
            {
                throw new IOException($"sysfs: {_name} BAR {index} cannot be mapped: the kernel offers no {path}");
            }

            SafeFileHandle file;
            try
            {
                file = File.OpenHandle(path, FileMode.Open, Writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new IOException($"sysfs: cannot open {path}: {e.Message} (mapping BARs needs root)", e);
            }

            using (file)
            {
                BarMapping mapping = BarMapping.Map(file, (long)Resources[index].Size, Writable, path);
                _mappings[index] = mapping;
                return mapping;
            }
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            _config?.Dispose();
            foreach (BarMapping? mapping in _mappings)
            {
                mapping?.Dispose();
            }
        }
    }

    public override string ToString() => _name;

    private InvalidOperationException Refused(int offset, uint value) => new(
        $"sysfs: {_name} is read-only; writing 0x{value:x} at config offset 0x{offset:x} would change it (opt in with allow-write={_name})");

    private void WriteBarShadow(int register, uint device, uint visible, int offset, uint value)
    {
        if (visible == device)
        {
            _barShadow.Remove(register);
            return;
        }

        int index = (register - FirstBar) / 4;
        bool upperHalf = IsUpperHalf(index);
        uint flagBits = upperHalf ? 0 : (device & 1) != 0 ? 0x3u : 0xfu;
        if ((visible | flagBits) != uint.MaxValue)
        {
            throw Refused(offset, value);
        }

        _barShadow[register] = SizeMask(index, device, upperHalf);
    }

    private void WriteCommandShadow(ushort device, ushort visible, int offset, uint value)
    {
        if (((visible ^ device) & ~DecodeBits) != 0)
        {
            throw Refused(offset, value);
        }

        _commandShadow = visible == device ? null : visible;
    }

    // Whether BAR index is the upper half of the 64-bit memory BAR below it.
    private bool IsUpperHalf(int index)
    {
        for (int bar = 0; bar < index; bar++)
        {
            if (IsMemory64(ReadDevice(FirstBar + (4 * bar), 4)))
            {
                if (bar + 1 == index)
                {
                    return true;
                }

                bar++;
            }
        }

        return false;
    }

    // What a BAR reads after all-ones was written: the size's address bits and its own flag bits.
    private uint SizeMask(int index, uint device, bool upperHalf)
    {
        if (upperHalf)
        {
            ulong size = Resources[index - 1].Size;
            return size == 0 ? 0 : (uint)(~(size - 1) >> 32);
        }

        ulong own = Resources[index].Size;
        if (own == 0)
        {
            return 0;
        }

        return (device & 1) != 0
            ? ((uint)~(own - 1) & ~0x3u) | (device & 0x3)
            : ((uint)~(own - 1) & ~0xfu) | (device & 0xf);
    }

    private static bool IsMemory64(uint bar) => (bar & 0x7) == 0x4;

    private uint ReadDevice(int offset, int width)
    {
        Span<byte> bytes = stackalloc byte[4];
        int read = RandomAccess.Read(Config(), bytes[..width], offset);
        if (read < width)
        {
            return uint.MaxValue >> (32 - (8 * width));
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(bytes) & (uint.MaxValue >> (32 - (8 * width)));
    }

    private void WriteDevice(int offset, int width, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        RandomAccess.Write(Config(), bytes[..width], offset);
    }

    private SafeFileHandle Config()
    {
        if (_config is null)
        {
            string path = Path.Combine(Directory, "config");
            try
            {
                _config = File.OpenHandle(path, FileMode.Open, Writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new IOException($"sysfs: cannot open {path}{(Writable ? " for writing" : "")}: {e.Message}", e);
            }
        }

        return _config;
    }

    private static SysfsResource[] ReadResources(string path)
    {
        var resources = new SysfsResource[BarCount];
        if (!File.Exists(path))
        {
            return resources;
        }

        string[] lines = File.ReadAllLines(path);
        for (int i = 0; i < BarCount && i < lines.Length; i++)
        {
            string[] fields = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 3 && TryHex(fields[0], out ulong start) && TryHex(fields[1], out ulong end) && TryHex(fields[2], out ulong flags))
            {
                resources[i] = new SysfsResource(start, end, flags);
            }
        }

        return resources;
    }

    private static bool TryHex(string text, out ulong value) =>
        ulong.TryParse(text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text,
            NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
