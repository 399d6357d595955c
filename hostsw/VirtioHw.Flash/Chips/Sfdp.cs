using System.Buffers.Binary;
using System.Collections.Immutable;

namespace VirtioHw.Flash;

/// <summary>Reads <paramref name="destination"/>.Length bytes of SFDP space at <paramref name="address"/>.</summary>
public delegate void SfdpReader(int address, Span<byte> destination);

/// <summary>What a part says about itself in its JESD216 Basic Flash Parameter Table.</summary>
public sealed class SfdpInfo
{
    public required int MajorRevision { get; init; }

    public required int MinorRevision { get; init; }

    /// <summary>Revision of the basic flash parameter table itself.</summary>
    public required int TableMajorRevision { get; init; }

    public required int TableMinorRevision { get; init; }

    /// <summary>Length of the basic table in 32-bit words.</summary>
    public required int TableDwords { get; init; }

    public required long Size { get; init; }

    public required int PageSize { get; init; }

    /// <summary>Erase types the table lists: (size, opcode), smallest first.</summary>
    public required ImmutableArray<(int Size, byte Opcode)> EraseTypes { get; init; }

    /// <summary>DWORD 1 bits 18:17: 0 three-byte only, 1 three or four, 2 four only.</summary>
    public required int AddressBytesField { get; init; }

    /// <summary>DWORD 16 bits 31:24 (JESD216B and later), or 0 when the table is shorter.</summary>
    public required int EnterFourByteMethods { get; init; }

    /// <summary>DWORD 16 bit 29: the part has the dedicated 4-byte-address instruction set.</summary>
    public bool HasFourByteInstructions => (EnterFourByteMethods & 0x20) != 0;
}

/// <summary>JESD216 Serial Flash Discoverable Parameters: header, parameter headers, basic table.</summary>
public static class Sfdp
{
    /// <summary>"SFDP" read as a little-endian 32-bit word.</summary>
    public const uint Signature = 0x50444653;

    /// <summary>Parses the header and the basic table; throws <see cref="FlashException"/> on anything malformed.</summary>
    public static SfdpInfo Parse(SfdpReader read)
    {
        ArgumentNullException.ThrowIfNull(read);
        Span<byte> header = stackalloc byte[8];
        read(0, header);
        uint signature = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (signature != Signature)
        {
            throw new FlashException($"the flash has no SFDP table (signature reads 0x{signature:x8}, expected 0x{Signature:x8})");
        }

        int minor = header[4];
        int major = header[5];
        int headerCount = header[6] + 1;
        if (major != 1)
        {
            throw new FlashException($"SFDP major revision {major} is not supported (JESD216 is revision 1)");
        }

        // The basic table is the parameter header with ID 0xff00 (MSB byte 7, LSB byte 0); the
        // newest revision wins when a part lists several.
        int bestPointer = -1, bestDwords = 0, bestMajor = 0, bestMinor = 0;
        Span<byte> ph = stackalloc byte[8];
        for (int i = 0; i < headerCount; i++)
        {
            read(8 + (8 * i), ph);
            if (ph[0] != 0x00 || ph[7] != 0xff)
            {
                continue;
            }

            int revision = (ph[2] << 8) | ph[1];
            if (bestPointer < 0 || revision > ((bestMajor << 8) | bestMinor))
            {
                bestMajor = ph[2];
                bestMinor = ph[1];
                bestDwords = ph[3];
                bestPointer = ph[4] | (ph[5] << 8) | (ph[6] << 16);
            }
        }

        if (bestPointer < 0)
        {
            throw new FlashException("the SFDP table lists no basic flash parameter table");
        }

        if (bestDwords < 9)
        {
            throw new FlashException($"the SFDP basic flash parameter table is {bestDwords} words long; JESD216 needs at least 9");
        }

        byte[] table = new byte[bestDwords * 4];
        read(bestPointer, table);
        return ParseBasicTable(table, major, minor, bestMajor, bestMinor);
    }

    private static uint Dword(ReadOnlySpan<byte> table, int oneBased) =>
        BinaryPrimitives.ReadUInt32LittleEndian(table[((oneBased - 1) * 4)..]);

    private static SfdpInfo ParseBasicTable(ReadOnlySpan<byte> table, int major, int minor, int tableMajor, int tableMinor)
    {
        int dwords = table.Length / 4;
        uint dw1 = Dword(table, 1);
        uint dw2 = Dword(table, 2);

        // Density: bit 31 clear gives bits - 1; set gives a power of two in bits 30:0.
        long bits;
        if ((dw2 & 0x8000_0000) == 0)
        {
            bits = (long)dw2 + 1;
        }
        else
        {
            int exponent = (int)(dw2 & 0x7fff_ffff);
            if (exponent is < 10 or > 40)
            {
                throw new FlashException($"the SFDP density 2^{exponent} bits is not a plausible flash size");
            }

            bits = 1L << exponent;
        }

        if (bits < 8 * 1024 || bits % 8 != 0)
        {
            throw new FlashException($"the SFDP density of {bits} bits is not a plausible flash size");
        }

        var erases = new List<(int Size, byte Opcode)>();
        foreach (uint dw in new[] { Dword(table, 8), Dword(table, 9) })
        {
            for (int half = 0; half < 2; half++)
            {
                int exponent = (int)((dw >> (16 * half)) & 0xff);
                byte opcode = (byte)((dw >> ((16 * half) + 8)) & 0xff);
                // Exponent 0 marks an unused slot; erase blocks between 256 B and 256 KiB are real ones.
                if (exponent is >= 8 and <= 18 && erases.TrueForAll(e => e.Size != 1 << exponent))
                {
                    erases.Add((1 << exponent, opcode));
                }
            }
        }

        // JESD216 rev 0 tables have no erase type list beyond DWORD 1's 4 KiB opcode.
        if (erases.Count == 0 && (dw1 & 0x3) == 0x1)
        {
            erases.Add((4096, (byte)((dw1 >> 8) & 0xff)));
        }

        if (erases.Count == 0)
        {
            throw new FlashException("the SFDP table lists no usable erase type");
        }

        erases.Sort((a, b) => a.Size.CompareTo(b.Size));

        int pageSize = 256;
        if (dwords >= 11)
        {
            int exponent = (int)((Dword(table, 11) >> 4) & 0xf);
            if (exponent is >= 4 and <= 12)
            {
                pageSize = 1 << exponent;
            }
        }

        return new SfdpInfo
        {
            MajorRevision = major,
            MinorRevision = minor,
            TableMajorRevision = tableMajor,
            TableMinorRevision = tableMinor,
            TableDwords = dwords,
            Size = bits / 8,
            PageSize = pageSize,
            EraseTypes = [.. erases],
            AddressBytesField = (int)((dw1 >> 17) & 0x3),
            EnterFourByteMethods = dwords >= 16 ? (int)(Dword(table, 16) >> 24) : 0,
        };
    }

    /// <summary>Builds a part description from an SFDP answer for a part the table does not know.</summary>
    public static FlashPart ToPart(SfdpInfo info, int jedecId)
    {
        ArgumentNullException.ThrowIfNull(info);
        bool big = info.Size > 16 * PartTable.MiB;
        FourByteAddressing addressing = FourByteAddressing.None;
        if (big)
        {
            addressing = info.HasFourByteInstructions ? FourByteAddressing.DedicatedOpcodes
                : (info.EnterFourByteMethods & 0x01) != 0 ? FourByteAddressing.EnterMode
                : (info.EnterFourByteMethods & 0x02) != 0 ? FourByteAddressing.EnterModeAfterWriteEnable
                : throw new FlashException(
                    $"the flash (JEDEC {jedecId:x6}) is larger than 16 MiB but its SFDP table names no 4-byte addressing method this tool supports");
        }

        var erases = ImmutableArray.CreateBuilder<EraseType>();
        foreach ((int size, byte opcode) in info.EraseTypes)
        {
            byte op4 = addressing == FourByteAddressing.DedicatedOpcodes ? FourByteEraseOpcode(opcode) : (byte)0;
            // SFDP gives no times in its first revision; these bound a slow part generously.
            double typicalMs = 50.0 * Math.Sqrt(size / 4096.0);
            erases.Add(new EraseType(size, opcode, op4, TimeSpan.FromMilliseconds(typicalMs),
                TimeSpan.FromMilliseconds(Math.Max(2000, typicalMs * 10))));
        }

        // With dedicated opcodes, an erase type without a 4-byte opcode cannot reach high addresses.
        if (addressing == FourByteAddressing.DedicatedOpcodes)
        {
            var usable = erases.Where(e => e.Opcode4Byte != 0).ToImmutableArray();
            if (usable.IsEmpty)
            {
                throw new FlashException($"the flash (JEDEC {jedecId:x6}) has no erase opcode with a 4-byte address");
            }

            erases.Clear();
            erases.AddRange(usable);
        }

        double mib = Math.Max(1.0, info.Size / (double)PartTable.MiB);
        return new FlashPart
        {
            Name = $"SFDP part {jedecId:x6}",
            Vendor = VendorName(jedecId >> 16),
            JedecId = jedecId,
            Size = info.Size,
            PageSize = info.PageSize,
            EraseTypes = erases.ToImmutable(),
            Addressing = addressing,
            Protection = ProtectionScheme.Unknown,
            Timing = new FlashTiming(
                TimeSpan.FromMilliseconds(0.7), TimeSpan.FromMilliseconds(5),
                TimeSpan.FromMilliseconds(15), TimeSpan.FromMilliseconds(100),
                TimeSpan.FromSeconds(mib * 3), TimeSpan.FromSeconds(mib * 20)),
            Source = $"SFDP {info.MajorRevision}.{info.MinorRevision}",
        };
    }

    /// <summary>The 4-byte-address twin of a 3-byte erase opcode, by the common JEDEC assignment.</summary>
    public static byte FourByteEraseOpcode(byte opcode) => opcode switch
    {
        SpiNorOpcodes.SectorErase => SpiNorOpcodes.SectorErase4Byte,
        SpiNorOpcodes.BlockErase32K => SpiNorOpcodes.BlockErase32K4Byte,
        SpiNorOpcodes.BlockErase64K => SpiNorOpcodes.BlockErase64K4Byte,
        _ => 0,
    };

    /// <summary>Manufacturer name for a JEDEC bank-0 manufacturer byte.</summary>
    public static string VendorName(int manufacturer) => manufacturer switch
    {
        0xef => "Winbond",
        0xc2 => "Macronix",
        0x9d => "ISSI",
        0x20 => "Micron",
        0xc8 => "GigaDevice",
        0x01 => "Infineon/Spansion",
        0x1f => "Adesto",
        0xbf => "Microchip/SST",
        0x85 => "Puya",
        0x68 => "Boya",
        0x0b => "XTX",
        _ => $"manufacturer 0x{manufacturer:x2}",
    };
}
