namespace VirtioHw.Registers;

public enum SwAccess
{
    R,
    W,
    RW,
}

public enum HwAccess
{
    R,
    W,
    RW,
    NA,
}

/// <summary>Access behaviour of a field beyond plain read/write (see hw/regs/README.md).</summary>
[Flags]
public enum FieldFlags
{
    None = 0,
    ReadClear = 1 << 0,
    WriteOneToClear = 1 << 1,
    WriteOneToSet = 1 << 2,
    SinglePulse = 1 << 3,
    SwMod = 1 << 4,
    SwAcc = 1 << 5,
    HwSet = 1 << 6,
    HwClear = 1 << 7,
}

/// <summary>A field as described in hw/regs: placement, access and reset.</summary>
public sealed record FieldInfo(string Name, string Description, int Lsb, int Width, SwAccess Sw, HwAccess Hw, ulong Reset, FieldFlags Flags)
{
    public int Msb => Lsb + Width - 1;

    public ulong Mask { get; } = (Width == 64 ? ulong.MaxValue : (1UL << Width) - 1) << Lsb;

    public bool SwReadable => Sw != SwAccess.W;

    public bool SwWritable => Sw != SwAccess.R;

    public bool Has(FieldFlags flag) => (Flags & flag) != 0;

    public string AccessText => Sw switch { SwAccess.R => "RO", SwAccess.W => "WO", _ => "RW" }
        + (Has(FieldFlags.ReadClear) ? "/RC" : "")
        + (Has(FieldFlags.WriteOneToClear) ? "/W1C" : "")
        + (Has(FieldFlags.WriteOneToSet) ? "/W1S" : "")
        + (Has(FieldFlags.SinglePulse) ? "/pulse" : "");
}

/// <summary>
/// A register (or an array of them: element <c>i</c> at <c>Offset + i * Stride</c>). <paramref name="Ram"/>:
/// the RTL stores the array in a RAM (hardware reads it through a read port, not a <c>q</c> per
/// element); the access semantics are the same.
/// </summary>
public sealed record RegisterInfo(string Name, string Description, uint Offset, int Width, int Count, uint Stride, bool IsArray, bool External, IReadOnlyList<FieldInfo> Fields, bool Ram = false)
{
    public int Bytes => Width / 8;

    public uint ElementOffset(int index) => Offset + (uint)index * Stride;

    // Computed once: the model consults these on every bus access.
    public bool SwReadable { get; } = Fields.Any(f => f.SwReadable);

    public bool SwWritable { get; } = Fields.Any(f => f.SwWritable);

    public ulong ResetValue { get; } = Fields.Aggregate(0UL, (acc, f) => acc | (f.Reset << f.Lsb));

    /// <summary>Bits software reads back: readable fields other than single pulses.</summary>
    public ulong SoftwareVisibleMask { get; } = Fields
        .Where(f => f.SwReadable && !f.Has(FieldFlags.SinglePulse))
        .Aggregate(0UL, (acc, f) => acc | f.Mask);
}

/// <summary>A register block: one top-level addrmap of hw/regs.</summary>
public sealed record BlockInfo(string Name, string DisplayName, string Description, string Source, uint Size, IReadOnlyList<RegisterInfo> Registers)
{
    public RegisterInfo? Find(string name) => Registers.FirstOrDefault(r => r.Name == name);
}
