using System.Collections.Immutable;

namespace VirtioHw.Flash;

/// <summary>One erase granularity of a part: size, opcodes and datasheet times.</summary>
/// <param name="Size">Bytes erased; a power of two, and the erase address is aligned to it.</param>
/// <param name="Opcode">Opcode with a 3-byte address (or a 4-byte one in 4-byte mode).</param>
/// <param name="Opcode4Byte">Dedicated opcode taking a 4-byte address, or 0 when the part has none.</param>
/// <param name="Typical">Typical busy time (datasheet), for progress estimates and the chip model.</param>
/// <param name="Max">Maximum busy time (datasheet); the driver's timeout is derived from it.</param>
public readonly record struct EraseType(int Size, byte Opcode, byte Opcode4Byte, TimeSpan Typical, TimeSpan Max);

/// <summary>How a part reaches addresses at and above 16 MiB.</summary>
public enum FourByteAddressing
{
    /// <summary>16 MiB or smaller: 3-byte addresses only.</summary>
    None,

    /// <summary>Dedicated opcodes with 4-byte addresses (0x13, 0x0c, 0x12, 0x21, 0xdc); no mode to leave behind.</summary>
    DedicatedOpcodes,

    /// <summary>0xb7 switches every opcode to 4-byte addresses until 0xe9 or power-off.</summary>
    EnterMode,

    /// <summary>As <see cref="EnterMode"/>, but 0xb7 and 0xe9 need write enable first (Micron).</summary>
    EnterModeAfterWriteEnable,
}

/// <summary>Busy times of a part that do not depend on erase size.</summary>
public sealed record FlashTiming(
    TimeSpan PageProgramTypical,
    TimeSpan PageProgramMax,
    TimeSpan WriteStatusTypical,
    TimeSpan WriteStatusMax,
    TimeSpan ChipEraseTypical,
    TimeSpan ChipEraseMax);

/// <summary>What the programmer needs to know about one SPI NOR part. Immutable.</summary>
public sealed record FlashPart
{
    public required string Name { get; init; }

    public required string Vendor { get; init; }

    /// <summary>Manufacturer, memory type and capacity bytes of the 0x9f answer, as 0xMMTTCC.</summary>
    public required int JedecId { get; init; }

    public required long Size { get; init; }

    public int PageSize { get; init; } = 256;

    /// <summary>Erase granularities, smallest first.</summary>
    public required ImmutableArray<EraseType> EraseTypes { get; init; }

    public FourByteAddressing Addressing { get; init; } = FourByteAddressing.None;

    public required ProtectionScheme Protection { get; init; }

    public required FlashTiming Timing { get; init; }

    /// <summary>Where the description came from: the built-in table or the part's SFDP table.</summary>
    public string Source { get; init; } = "table";

    public override string ToString() =>
        $"{Vendor} {Name} ({Units.Size(Size)}, JEDEC {JedecId:x6})";
}
