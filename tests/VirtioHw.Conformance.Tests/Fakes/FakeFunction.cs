using System.Buffers.Binary;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Fakes;

/// <summary>One BAR a fake function implements.</summary>
internal sealed record FakeBar(int Index, ulong Size, PciBarKind Kind, bool Prefetchable = false);

/// <summary>
/// A PCI function made of 4 KiB of config space with write masks, as hardware has them: BARs that
/// hardwire their low bits (so sizing by all-ones works), a command register, and whatever bytes a
/// test puts in (hand-made capability lists). Its BARs decode memory through <see cref="ReadBar"/>
/// and <see cref="WriteBar"/> while memory decoding is on.
/// </summary>
internal class FakeFunction
{
    private readonly byte[] _config = new byte[Platform.ConfigSpaceSize];
    private readonly byte[] _writable = new byte[Platform.ConfigSpaceSize];
    private readonly FakeBar?[] _bars = new FakeBar?[PciHeader.Bar.Count];

    public FakeFunction(PciAddress address, ushort vendorId, ushort deviceId, IEnumerable<FakeBar>? bars = null)
    {
        Address = address;
        Set16(PciHeader.VendorId.Offset, vendorId);
        Set16(PciHeader.DeviceId.Offset, deviceId);
        ushort commandBits = (ushort)(PciHeader.Command.IoSpace.Mask | PciHeader.Command.MemorySpace.Mask
            | PciHeader.Command.BusMaster.Mask | PciHeader.Command.IntxDisable.Mask);
        SetWritable(PciHeader.Command.Offset, 2, commandBits);
        foreach (FakeBar bar in bars ?? [])
        {
            AddBar(bar);
        }
    }

    public PciAddress Address { get; }

    /// <summary>A BAR was written all-ones while memory or I/O decoding was on.</summary>
    public bool SizedWhileDecoding { get; private set; }

    /// <summary>The BAR registers at the moment memory decoding was first turned on; null until then.</summary>
    public uint[]? BarsWhenDecodeEnabled { get; private set; }

    /// <summary>Every config write, in order: (offset, width, value).</summary>
    public List<(int Offset, int Width, uint Value)> ConfigWrites { get; } = [];

    public ushort Command => (ushort)Get(PciHeader.Command.Offset, 2);

    public bool MemoryEnabled => (Command & PciHeader.Command.MemorySpace.Mask) != 0;

    public IReadOnlyList<FakeBar> Bars => [.. _bars.OfType<FakeBar>()];

    public void AddBar(FakeBar bar)
    {
        _bars[bar.Index] = bar;
        uint offset = PciHeader.Bar.OffsetOf(bar.Index);
        ulong addressMask = ~(bar.Size - 1);
        switch (bar.Kind)
        {
            case PciBarKind.Io:
                Set32(offset, (uint)PciHeader.Bar.Io.Mask);
                SetWritable(offset, 4, (uint)addressMask & ~PciBarEncoding.IoFlagBits);
                break;
            case PciBarKind.Memory32:
                Set32(offset, bar.Prefetchable ? (uint)PciHeader.Bar.Prefetchable.Mask : 0);
                SetWritable(offset, 4, (uint)addressMask & (uint)PciHeader.Bar.Address.Mask);
                break;
            case PciBarKind.Memory64:
                Set32(offset, (uint)(((ulong)PciBarEncoding.MemType64 << PciHeader.Bar.MemType.Shift) | (bar.Prefetchable ? PciHeader.Bar.Prefetchable.Mask : 0)));
                SetWritable(offset, 4, (uint)addressMask & (uint)PciHeader.Bar.Address.Mask);
                SetWritable(PciHeader.Bar.OffsetOf(bar.Index + 1), 4, (uint)(addressMask >> 32));
                break;
        }
    }

    /// <summary>The address BAR <paramref name="index"/> holds now.</summary>
    public ulong BarAddress(int index)
    {
        FakeBar bar = _bars[index] ?? throw new InvalidOperationException($"BAR {index} is not implemented");
        uint low = Get(PciHeader.Bar.OffsetOf(index), 4);
        return bar.Kind switch
        {
            PciBarKind.Io => low & ~PciBarEncoding.IoFlagBits,
            PciBarKind.Memory32 => low & PciHeader.Bar.Address.Mask,
            _ => (low & PciHeader.Bar.Address.Mask) | ((ulong)Get(PciHeader.Bar.OffsetOf(index + 1), 4) << 32),
        };
    }

    /// <summary>Finds the memory BAR that decodes <paramref name="address"/>.</summary>
    public bool TryDecode(ulong address, out int bar, out ulong offset)
    {
        bar = -1;
        offset = 0;
        if (!MemoryEnabled)
        {
            return false;
        }

        foreach (FakeBar b in Bars)
        {
            if (b.Kind == PciBarKind.Io)
            {
                continue;
            }

            ulong start = BarAddress(b.Index);
            if (start != 0 && address >= start && address - start < b.Size)
            {
                bar = b.Index;
                offset = address - start;
                return true;
            }
        }

        return false;
    }

    public virtual uint ReadConfig(int offset, int width) => Get((uint)offset, width);

    public virtual void WriteConfig(int offset, int width, uint value)
    {
        ConfigWrites.Add((offset, width, value));
        bool decoding = (Command & (PciHeader.Command.MemorySpace.Mask | PciHeader.Command.IoSpace.Mask)) != 0;
        if (offset >= PciHeader.Bar.Offset && offset < PciHeader.Bar.OffsetOf(PciHeader.Bar.Count) && value == uint.MaxValue && decoding)
        {
            SizedWhileDecoding = true;
        }

        bool memoryWasOn = MemoryEnabled;
        for (int i = 0; i < width; i++)
        {
            byte b = (byte)(value >> (8 * i));
            int at = offset + i;
            _config[at] = (byte)((_config[at] & ~_writable[at]) | (b & _writable[at]));
        }

        if (!memoryWasOn && MemoryEnabled && BarsWhenDecodeEnabled is null)
        {
            BarsWhenDecodeEnabled = [.. Enumerable.Range(0, PciHeader.Bar.Count).Select(i => Get(PciHeader.Bar.OffsetOf(i), 4))];
        }

        OnConfigWritten(offset, width, value);
    }

    public virtual ulong ReadBar(int bar, ulong offset, int width) => ulong.MaxValue >> (64 - (8 * width));

    public virtual void WriteBar(int bar, ulong offset, int width, ulong value)
    {
    }

    protected virtual void OnConfigWritten(int offset, int width, uint value)
    {
    }

    // Raw access for building config space; writes ignore the masks.
    public void Set8(uint offset, byte value) => _config[offset] = value;

    public void Set16(uint offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan((int)offset), value);

    public void Set32(uint offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan((int)offset), value);

    public uint Get(uint offset, int width)
    {
        uint value = 0;
        for (int i = 0; i < width; i++)
        {
            value |= (uint)_config[offset + i] << (8 * i);
        }

        return value;
    }

    /// <summary>Marks bits software may change, as a field's sw=rw does.</summary>
    public void SetWritable(uint offset, int width, uint mask)
    {
        for (int i = 0; i < width; i++)
        {
            _writable[offset + i] = (byte)(mask >> (8 * i));
        }
    }

    /// <summary>Points the capability list at <paramref name="first"/> and sets the status bit that says it exists.</summary>
    public void SetCapabilityPointer(byte first)
    {
        Set16(PciHeader.Status.Offset, (ushort)(Get(PciHeader.Status.Offset, 2) | PciHeader.Status.CapabilitiesList.Mask));
        Set8(PciHeader.CapabilitiesPtr.Offset, first);
    }
}
