using System.Buffers.Binary;
using System.Security.Cryptography;

namespace VirtioHw.Flash;

/// <summary>
/// Where the programmer keeps its record of what it last wrote, or that it keeps none. A record
/// lives only in an area the user named (<c>--record-area</c>) or the board profile reserved for it
/// (<c>flash: record-area:</c>): nothing outside the image is changed unless it was asked for.
/// </summary>
public sealed record FlashRecordSettings
{
    /// <summary>The size of an area named by its offset alone: one 64 KiB block.</summary>
    public const long DefaultAreaLength = 64 * 1024;

    /// <summary>No record: every write plans by reading and comparing the whole range.</summary>
    public static FlashRecordSettings Off { get; } = new() { Enabled = false, OffReason = "the flash record is switched off" };

    /// <summary>
    /// No record because none was asked for: the board profile reserves no area for it and the
    /// command line names none (what <c>virtiohw flash</c> does by default).
    /// </summary>
    public static FlashRecordSettings Undeclared { get; } = new()
    {
        Enabled = false,
        OffReason = "no flash record area is declared: none in the board profile, no --record-area",
    };

    /// <summary>The record in the part's last 64 KiB block (tests and benchmarks; never a default).</summary>
    public static FlashRecordSettings LastBlock { get; } = new();

    public bool Enabled { get; init; } = true;

    /// <summary>Why no record is kept, for the plan's description.</summary>
    public string OffReason { get; init; } = "the flash record is switched off";

    /// <summary>First address of the area; null places it at the end of the part.</summary>
    public long? AreaStart { get; init; }

    /// <summary>Bytes in the area; a multiple of the smallest erase size.</summary>
    public long AreaLength { get; init; } = DefaultAreaLength;

    /// <summary>
    /// The area reserved for the record that this run does not keep its record in (the board
    /// profile's area when the command line turns the record off or moves it): a record standing
    /// there is withdrawn before this run changes anything, so that it cannot later claim sectors
    /// this run rewrote. Never an area nobody declared.
    /// </summary>
    public FlashRecordSettings? WithdrawFrom { get; init; }

    /// <summary>
    /// Parses <c>OFFSET[,LENGTH]</c> (decimal, 0x hex, or with a K/M suffix) as <c>--record-area</c>
    /// and a board profile's <c>record-area</c> take it; null if it is malformed.
    /// </summary>
    public static FlashRecordSettings? TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        long length = DefaultAreaLength;
        if (parts.Length > 2 || !Units.TryParse(parts[0], out long start) || (parts.Length == 2 && !Units.TryParse(parts[1], out length)))
        {
            return null;
        }

        return new FlashRecordSettings { AreaStart = start, AreaLength = length };
    }

    /// <summary>
    /// These settings for a board that reserves <paramref name="declared"/> (or nothing) for the
    /// record: when this run keeps its record elsewhere or none, a record in the reserved area is
    /// withdrawn before this run's first change.
    /// </summary>
    public FlashRecordSettings WithdrawingFrom(FlashRecordSettings? declared)
    {
        return declared is not { Enabled: true } || SameArea(declared) ? this : this with { WithdrawFrom = declared };
    }

    private bool SameArea(FlashRecordSettings other) =>
        Enabled && other.Enabled && AreaStart == other.AreaStart && AreaLength == other.AreaLength;

    /// <summary>The area on a part of <paramref name="part"/>'s size, checked against its erase unit.</summary>
    public AddressRange AreaOn(FlashPart part, int eraseUnit)
    {
        ArgumentNullException.ThrowIfNull(part);
        long start = AreaStart ?? part.Size - AreaLength;
        var area = new AddressRange(start, AreaLength);
        if (AreaLength <= 0 || start < 0 || area.End > part.Size)
        {
            throw new FlashException($"the flash record area {area} is not inside the {Units.Size(part.Size)} {part.Name}");
        }

        if (start % eraseUnit != 0 || AreaLength % eraseUnit != 0)
        {
            throw new FlashException(
                $"the flash record area {area} must start and end on the {Units.Size(eraseUnit)} erase size of the {part.Name}");
        }

        return area;
    }
}

/// <summary>
/// What the programmer last wrote and verified: the sector-aligned regions of the image, and a
/// hash of every erase sector in them, so the next write can plan without reading them.
/// </summary>
/// <remarks>
/// Layout (little-endian), starting on a page boundary of the record area:
/// <code>
/// 0   magic "VHFR"
/// 4   withdrawn flag: 0xff while the record stands, programmed to 0x00 to withdraw it
/// 5   format version (1)
/// 6   hash algorithm (1: the first 16 bytes of SHA-256)
/// 7   hash length in bytes (16)
/// 8   record length in bytes, CRC included (u32)
/// 12  sector size (u32)
/// 16  image length: data bytes of the image (u64)
/// 24  region count (u32)
/// 28  committed flag: written 0xff, programmed to 0x00 once the whole record reads back right
/// 29  zero (3 bytes)
/// 32  per region: start (u64), length (u64)
/// ..  per region, per sector in address order: the hash of its contents
/// end CRC-32 (IEEE) of all bytes before it, both flags counted as 0xff (u32)
/// </code>
/// A record stands only while it is committed (0x00) and not withdrawn (0xff): a cut while it is
/// written leaves it uncommitted, and an erase cut part-way, which raises bits, uncommits it
/// rather than bringing a withdrawn record back.
/// </remarks>
public sealed class FlashRecord
{
    public const int HeaderLength = 32;
    public const byte FormatVersion = 1;
    public const byte Sha256Truncated = 1;
    public const int HashLength = 16;
    public const int FlagOffset = 4;
    public const int CommitOffset = 28;

    private static ReadOnlySpan<byte> Magic => "VHFR"u8;

    private readonly Dictionary<long, byte[]> _hashes;

    public FlashRecord(int sectorSize, long imageLength, IReadOnlyList<AddressRange> regions, Dictionary<long, byte[]> hashes)
    {
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(hashes);
        SectorSize = sectorSize;
        ImageLength = imageLength;
        Regions = regions;
        _hashes = hashes;
    }

    public int SectorSize { get; }

    public long ImageLength { get; }

    public IReadOnlyList<AddressRange> Regions { get; }

    /// <summary>Bytes the record takes on the flash.</summary>
    public int Length => LengthFor(Regions, SectorSize);

    /// <summary>The record of <paramref name="regions"/>, each with the contents it holds.</summary>
    public static FlashRecord Describe(int sectorSize, long imageLength, IReadOnlyList<(AddressRange Region, byte[] Contents)> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        var hashes = new Dictionary<long, byte[]>();
        foreach ((AddressRange region, byte[] contents) in regions)
        {
            for (int offset = 0; offset < contents.Length; offset += sectorSize)
            {
                hashes[region.Start + offset] = HashOf(contents.AsSpan(offset, sectorSize));
            }
        }

        return new FlashRecord(sectorSize, imageLength, regions.Select(r => r.Region).ToList(), hashes);
    }

    public static int LengthFor(IReadOnlyList<AddressRange> regions, int sectorSize)
    {
        ArgumentNullException.ThrowIfNull(regions);
        long sectors = regions.Sum(r => r.Length / sectorSize);
        long length = HeaderLength + (16L * regions.Count) + (sectors * HashLength) + 4;
        return length > int.MaxValue ? int.MaxValue : (int)length;
    }

    /// <summary>The hash a sector's contents are recorded by.</summary>
    public static byte[] HashOf(ReadOnlySpan<byte> sector)
    {
        Span<byte> full = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(sector, full);
        return full[..HashLength].ToArray();
    }

    /// <summary>The recorded hash of the sector at <paramref name="address"/>, or null if the record does not cover it.</summary>
    public byte[]? HashAt(long address) => _hashes.GetValueOrDefault(address);

    public byte[] ToBytes()
    {
        byte[] bytes = new byte[Length];
        Span<byte> b = bytes;
        Magic.CopyTo(b);
        b[FlagOffset] = 0xff;
        b[CommitOffset] = 0xff;
        b[5] = FormatVersion;
        b[6] = Sha256Truncated;
        b[7] = HashLength;
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], (uint)SectorSize);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], ImageLength);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], (uint)Regions.Count);
        int at = HeaderLength;
        foreach (AddressRange region in Regions)
        {
            BinaryPrimitives.WriteInt64LittleEndian(b[at..], region.Start);
            BinaryPrimitives.WriteInt64LittleEndian(b[(at + 8)..], region.Length);
            at += 16;
        }

        foreach (AddressRange region in Regions)
        {
            for (long a = region.Start; a < region.End; a += SectorSize)
            {
                _hashes[a].CopyTo(b[at..]);
                at += HashLength;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(b[at..], Crc32.Of(b[..at]));
        return bytes;
    }

    /// <summary>The record length a header announces, or null if <paramref name="header"/> does not start a record.</summary>
    public static int? AnnouncedLength(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderLength || !header.StartsWith(Magic))
        {
            return null;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        return length is >= HeaderLength + 4 and <= int.MaxValue ? (int)length : null;
    }

    /// <summary>
    /// The record in <paramref name="bytes"/> if it is whole, committed, not withdrawn and of a
    /// format this code knows; otherwise null.
    /// </summary>
    public static FlashRecord? Parse(ReadOnlySpan<byte> bytes)
    {
        if (AnnouncedLength(bytes) is not int length || length != bytes.Length || bytes[FlagOffset] != 0xff ||
            bytes[CommitOffset] != 0x00 || bytes[5] != FormatVersion || bytes[6] != Sha256Truncated || bytes[7] != HashLength)
        {
            return null;
        }

        byte[] asWritten = bytes[..^4].ToArray();
        asWritten[CommitOffset] = 0xff;
        if (Crc32.Of(asWritten) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]))
        {
            return null;
        }

        int sectorSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        long imageLength = BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes[24..]);
        if (sectorSize <= 0 || count > (uint)(length / 16))
        {
            return null;
        }

        var regions = new List<AddressRange>();
        int at = HeaderLength;
        for (int i = 0; i < count; i++)
        {
            var region = new AddressRange(BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[(at + 8)..]));
            if (region.Start < 0 || region.Length <= 0 || region.Start % sectorSize != 0 || region.Length % sectorSize != 0)
            {
                return null;
            }

            regions.Add(region);
            at += 16;
        }

        if (LengthFor(regions, sectorSize) != length)
        {
            return null;
        }

        var hashes = new Dictionary<long, byte[]>();
        foreach (AddressRange region in regions)
        {
            for (long a = region.Start; a < region.End; a += sectorSize)
            {
                hashes[a] = bytes.Slice(at, HashLength).ToArray();
                at += HashLength;
            }
        }

        return new FlashRecord(sectorSize, imageLength, regions, hashes);
    }
}

/// <summary>CRC-32 (IEEE 802.3, reflected, polynomial 0xedb88320), as zlib computes it.</summary>
public static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Of(ReadOnlySpan<byte> data)
    {
        uint crc = 0xffffffff;
        foreach (byte b in data)
        {
            crc = Table[(crc ^ b) & 0xff] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        uint[] table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xedb88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
