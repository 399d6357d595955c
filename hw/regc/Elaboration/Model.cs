namespace VirtioHw.Regc.Elaboration;

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

public enum ReadEffect
{
    None,
    Clear,
}

public enum WriteEffect
{
    None,
    OneToClear,
    OneToSet,
}

public sealed record EnumValue(string Name, ulong Value, string Description);

public sealed record RegEnum(string Name, string Description, IReadOnlyList<EnumValue> Values);

/// <summary>A field of a register after elaboration: placed, typed and checked.</summary>
public sealed record RegField(
    string Name,
    string DisplayName,
    string Description,
    int Lsb,
    int Width,
    SwAccess Sw,
    HwAccess Hw,
    ulong Reset,
    ReadEffect OnRead,
    WriteEffect OnWrite,
    bool SinglePulse,
    bool SwMod,
    bool SwAcc,
    bool HwSet,
    bool HwClr,
    RegEnum? Enum,
    SourceLocation Location)
{
    public int Msb => Lsb + Width - 1;

    /// <summary>The field's bits within its register.</summary>
    public ulong Mask => (Width == 64 ? ulong.MaxValue : (1UL << Width) - 1) << Lsb;

    public bool SwReadable => Sw != SwAccess.W;

    public bool SwWritable => Sw != SwAccess.R;

    public bool HwReadable => Hw is HwAccess.R or HwAccess.RW;

    public bool HwWritable => Hw is HwAccess.W or HwAccess.RW;
}

/// <summary>
/// A register (or a one-dimensional array of registers) at a byte offset in its block.
/// Element <c>i</c> of an array sits at <c>Offset + i * Stride</c>.
/// </summary>
public sealed record Register(
    string Name,
    string DisplayName,
    string Description,
    uint Offset,
    int Width,
    int Count,
    uint Stride,
    bool IsArray,
    bool External,
    IReadOnlyList<RegField> Fields,
    SourceLocation Location)
{
    public int Bytes => Width / 8;

    public uint End => Offset + (uint)(Count - 1) * Stride + (uint)Bytes;

    public ulong ResetValue => Fields.Aggregate(0UL, (acc, f) => acc | (f.Reset << f.Lsb));

    public uint ElementOffset(int index) => Offset + (uint)index * Stride;

    /// <summary>
    /// <c>ram</c>: the array is stored in an inferable RAM in the generated RTL (one read port for
    /// software, one for hardware); the access semantics, and the C# model, are those of any register.
    /// </summary>
    public bool Ram { get; init; }
}

/// <summary>One top-level addrmap: the unit every generator emits.</summary>
public sealed record RegBlock(
    string Name,
    string DisplayName,
    string Description,
    string SourcePath,
    uint Size,
    IReadOnlyList<Register> Registers,
    IReadOnlyList<RegEnum> Enums);
