using System.Collections.Immutable;
using static VirtioHw.Flash.SpiNorOpcodes;

namespace VirtioHw.Flash;

/// <summary>
/// Common SPI NOR parts by JEDEC ID. Sizes, erase granularities and times are taken from each
/// family's datasheet; parts not listed are described from their SFDP table instead.
/// </summary>
public static class PartTable
{
    public const long MiB = 1024 * 1024;

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    private static TimeSpan S(double s) => TimeSpan.FromSeconds(s);

    // Winbond W25Q..JV: 0x20/0x52/0xd8 at 45/120/150 ms typical, 400/1600/2000 ms maximum.
    private static ImmutableArray<EraseType> WinbondErase(bool fourByte) =>
    [
        new(4096, SectorErase, (byte)(fourByte ? SectorErase4Byte : 0), Ms(45), Ms(400)),
        new(32768, BlockErase32K, 0, Ms(120), Ms(1600)),
        new(65536, BlockErase64K, (byte)(fourByte ? BlockErase64K4Byte : 0), Ms(150), Ms(2000)),
    ];

    private static FlashTiming WinbondTiming(double chipEraseTypicalS, double chipEraseMaxS) =>
        new(Ms(0.4), Ms(3), Ms(10), Ms(15), S(chipEraseTypicalS), S(chipEraseMaxS));

    // Macronix MX25L..35F/45G and ISSI IS25LP: all three granularities, 4-byte opcodes above 16 MiB.
    private static ImmutableArray<EraseType> MacronixIssiErase(bool fourByte) =>
    [
        new(4096, SectorErase, (byte)(fourByte ? SectorErase4Byte : 0), Ms(40), Ms(300)),
        new(32768, BlockErase32K, (byte)(fourByte ? BlockErase32K4Byte : 0), Ms(150), Ms(1000)),
        new(65536, BlockErase64K, (byte)(fourByte ? BlockErase64K4Byte : 0), Ms(300), Ms(2000)),
    ];

    private static FlashTiming MacronixIssiTiming(long size) =>
        new(Ms(0.5), Ms(3), Ms(5), Ms(40), S(size / MiB * 3.0), S(size / MiB * 12.0));

    // Micron N25Q: 4 KiB subsector and 64 KiB sector only; sector erase is slow (0.7 s typical, 3 s maximum).
    private static ImmutableArray<EraseType> MicronErase() =>
    [
        new(4096, SectorErase, 0, Ms(250), Ms(800)),
        new(65536, BlockErase64K, 0, Ms(700), Ms(3000)),
    ];

    private static FlashTiming MicronTiming(long size) =>
        new(Ms(0.5), Ms(5), Ms(1.3), Ms(8), S(size / MiB * 11.0), S(size / MiB * 16.0));

    // GigaDevice GD25Q..C: Winbond-compatible command set and status registers.
    private static ImmutableArray<EraseType> GigaDeviceErase(bool fourByte) =>
    [
        new(4096, SectorErase, (byte)(fourByte ? SectorErase4Byte : 0), Ms(50), Ms(400)),
        new(32768, BlockErase32K, 0, Ms(150), Ms(1600)),
        new(65536, BlockErase64K, (byte)(fourByte ? BlockErase64K4Byte : 0), Ms(250), Ms(2000)),
    ];

    private static FlashTiming GigaDeviceTiming(long size) =>
        new(Ms(0.6), Ms(2.4), Ms(5), Ms(30), S(size / MiB * 3.0), S(size / MiB * 10.0));

    private static FlashPart Winbond(string name, int id, long size)
    {
        bool big = size > 16 * MiB;
        return new FlashPart
        {
            Name = name,
            Vendor = "Winbond",
            JedecId = id,
            Size = size,
            EraseTypes = WinbondErase(big),
            Addressing = big ? FourByteAddressing.DedicatedOpcodes : FourByteAddressing.None,
            Protection = big ? ProtectionScheme.WinbondBp4 : ProtectionScheme.WinbondSecTb,
            Timing = WinbondTiming(size / MiB * 2.5, size / MiB * 12.5),
        };
    }

    private static FlashPart Macronix(string name, int id, long size)
    {
        bool big = size > 16 * MiB;
        return new FlashPart
        {
            Name = name,
            Vendor = "Macronix",
            JedecId = id,
            Size = size,
            EraseTypes = MacronixIssiErase(big),
            Addressing = big ? FourByteAddressing.DedicatedOpcodes : FourByteAddressing.None,
            Protection = ProtectionScheme.Bp4TopBottomUnknown,
            Timing = MacronixIssiTiming(size),
        };
    }

    private static FlashPart Issi(string name, int id, long size)
    {
        bool big = size > 16 * MiB;
        return new FlashPart
        {
            Name = name,
            Vendor = "ISSI",
            JedecId = id,
            Size = size,
            EraseTypes = MacronixIssiErase(big),
            Addressing = big ? FourByteAddressing.DedicatedOpcodes : FourByteAddressing.None,
            Protection = ProtectionScheme.Bp4TopBottomUnknown,
            Timing = MacronixIssiTiming(size),
        };
    }

    private static FlashPart Micron(string name, int id, long size) => new()
    {
        Name = name,
        Vendor = "Micron",
        JedecId = id,
        Size = size,
        EraseTypes = MicronErase(),
        // N25Q256 and MT25Q share the ID; both take 0xb7 after write enable, not all have 4-byte opcodes.
        Addressing = size > 16 * MiB ? FourByteAddressing.EnterModeAfterWriteEnable : FourByteAddressing.None,
        Protection = ProtectionScheme.Micron,
        Timing = MicronTiming(size),
    };

    private static FlashPart GigaDevice(string name, int id, long size)
    {
        bool big = size > 16 * MiB;
        return new FlashPart
        {
            Name = name,
            Vendor = "GigaDevice",
            JedecId = id,
            Size = size,
            EraseTypes = GigaDeviceErase(big),
            Addressing = big ? FourByteAddressing.DedicatedOpcodes : FourByteAddressing.None,
            Protection = big ? ProtectionScheme.Bp5Conservative : ProtectionScheme.WinbondSecTb,
            Timing = GigaDeviceTiming(size),
        };
    }

    /// <summary>Every part the table knows, in vendor order.</summary>
    public static ImmutableArray<FlashPart> Parts { get; } =
    [
        Winbond("W25Q32JV", 0xef4016, 4 * MiB),
        Winbond("W25Q64JV", 0xef4017, 8 * MiB),
        Winbond("W25Q128JV", 0xef4018, 16 * MiB),
        Winbond("W25Q256JV", 0xef4019, 32 * MiB),
        Winbond("W25Q32JV-IM", 0xef7016, 4 * MiB),
        Winbond("W25Q64JV-IM", 0xef7017, 8 * MiB),
        Winbond("W25Q128JV-IM", 0xef7018, 16 * MiB),
        Winbond("W25Q256JV-IM", 0xef7019, 32 * MiB),
        Macronix("MX25L3233F", 0xc22016, 4 * MiB),
        Macronix("MX25L6433F", 0xc22017, 8 * MiB),
        Macronix("MX25L12835F", 0xc22018, 16 * MiB),
        Macronix("MX25L25645G", 0xc22019, 32 * MiB),
        Issi("IS25LP032", 0x9d6016, 4 * MiB),
        Issi("IS25LP064", 0x9d6017, 8 * MiB),
        Issi("IS25LP128", 0x9d6018, 16 * MiB),
        Issi("IS25LP256", 0x9d6019, 32 * MiB),
        Micron("N25Q032A", 0x20ba16, 4 * MiB),
        Micron("N25Q064A", 0x20ba17, 8 * MiB),
        Micron("N25Q128A/MT25QL128", 0x20ba18, 16 * MiB),
        Micron("N25Q256A/MT25QL256", 0x20ba19, 32 * MiB),
        Micron("MT25QL512", 0x20ba20, 64 * MiB),
        GigaDevice("GD25Q32C", 0xc84016, 4 * MiB),
        GigaDevice("GD25Q64C", 0xc84017, 8 * MiB),
        GigaDevice("GD25Q128C", 0xc84018, 16 * MiB),
        GigaDevice("GD25Q256D", 0xc84019, 32 * MiB),
    ];

    /// <summary>The part with this JEDEC ID, or null.</summary>
    public static FlashPart? Find(int jedecId)
    {
        foreach (FlashPart part in Parts)
        {
            if (part.JedecId == jedecId)
            {
                return part;
            }
        }

        return null;
    }

    /// <summary>The part with this name (case-insensitive), or null.</summary>
    public static FlashPart? FindByName(string name)
    {
        foreach (FlashPart part in Parts)
        {
            if (string.Equals(part.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return part;
            }
        }

        return null;
    }
}
