using System.Buffers.Binary;

namespace VirtioHw.Flash;

/// <summary>
/// Builds the 256-byte SFDP space the chip model answers 0x5a with: a JESD216B header, one
/// parameter header, and a 16-word basic flash parameter table at 0x80 describing the part.
/// </summary>
internal static class SfdpImage
{
    public const int Length = 256;
    private const int TablePointer = 0x80;
    private const int TableDwords = 16;

    public static byte[] Build(SimulatedChipSpec spec)
    {
        FlashPart part = spec.Part;
        byte[] sfdp = new byte[Length];
        sfdp.AsSpan().Fill(0xff);

        BinaryPrimitives.WriteUInt32LittleEndian(sfdp, Sfdp.Signature);
        sfdp[4] = 6; // JESD216B is revision 1.6
        sfdp[5] = 1;
        sfdp[6] = 0; // one parameter header
        sfdp[7] = 0xff;

        sfdp[8] = 0x00; // basic flash parameter table: ID 0xff00
        sfdp[9] = 6;
        sfdp[10] = 1;
        sfdp[11] = TableDwords;
        sfdp[12] = TablePointer;
        sfdp[13] = 0;
        sfdp[14] = 0;
        sfdp[15] = 0xff;

        bool big = spec.HasFourByteAddressing;
        Span<uint> dw = stackalloc uint[TableDwords];
        dw.Clear();

        // DW1: uniform 4 KiB erase (opcode 0x20), 64-byte or larger write granularity, address
        // bytes 3-only or 3-or-4; unused high bits read as ones.
        dw[0] = 0xff80_0000u | ((big ? 1u : 0u) << 17) | (0x20u << 8) | 0x04u | 0x01u;
        dw[1] = (uint)((part.Size * 8) - 1);

        // DW8/DW9: erase types as (2^N size, opcode) pairs.
        uint EraseSlot(int index)
        {
            if (index >= part.EraseTypes.Length)
            {
                return 0;
            }

            EraseType e = part.EraseTypes[index];
            return (uint)(((e.Opcode & 0xff) << 8) | System.Numerics.BitOperations.Log2((uint)e.Size));
        }

        dw[7] = EraseSlot(0) | (EraseSlot(1) << 16);
        dw[8] = EraseSlot(2) | (EraseSlot(3) << 16);

        // DW10: typical erase times and the typical-to-maximum multiplier.
        uint dw10 = 3; // maximum = 2 * (3 + 1) * typical
        for (int i = 0; i < Math.Min(4, part.EraseTypes.Length); i++)
        {
            dw10 |= EncodeEraseTime(part.EraseTypes[i].Typical) << (4 + (7 * i));
        }

        dw[9] = dw10;

        // DW11: page size 2^8, page program and chip erase typical times.
        uint pageExponent = (uint)System.Numerics.BitOperations.Log2((uint)part.PageSize);
        dw[10] = 3u | (pageExponent << 4) | (EncodeProgramTime(part.Timing.PageProgramTypical) << 8)
            | (EncodeChipEraseTime(part.Timing.ChipEraseTypical) << 24);

        dw[11] = 0x8000_0000; // DW12 bit 31: no program/erase suspend modelled

        // DW14: deep power-down entered by 0xb9, left by 0xab after about 3 us; busy by 0x05 bit 0.
        dw[13] = (0xb9u << 23) | (0xabu << 15) | (0b01u << 13) | (2u << 8) | (1u << 2);

        // DW16: 4-byte entry by 0xb7 plus the dedicated opcode set, exit by 0xe9; reset by 0x66 0x99.
        dw[15] = (big ? (0x21u << 24) | (0x01u << 14) : 0u) | (0x10u << 8);

        for (int i = 0; i < TableDwords; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(sfdp.AsSpan(TablePointer + (4 * i)), dw[i]);
        }

        return sfdp;
    }

    // Time fields are a 5-bit count with a unit: value = (count + 1) * unit.
    private static uint EncodeCount(double value, double unit) =>
        (uint)Math.Clamp(Math.Round(value / unit) - 1, 0, 31);

    private static uint EncodeEraseTime(TimeSpan t)
    {
        double ms = t.TotalMilliseconds;
        (uint code, double unit) = ms <= 32 ? (0u, 1.0) : ms <= 512 ? (1u, 16.0) : ms <= 4096 ? (2u, 128.0) : (3u, 1000.0);
        return EncodeCount(ms, unit) | (code << 5);
    }

    private static uint EncodeProgramTime(TimeSpan t)
    {
        double us = t.TotalMicroseconds;
        return us <= 256 ? EncodeCount(us, 8) : EncodeCount(us, 64) | (1u << 5);
    }

    private static uint EncodeChipEraseTime(TimeSpan t)
    {
        double ms = t.TotalMilliseconds;
        (uint code, double unit) = ms <= 512 ? (0u, 16.0) : ms <= 8192 ? (1u, 256.0) : ms <= 128_000 ? (2u, 4000.0) : (3u, 64_000.0);
        return EncodeCount(ms, unit) | (code << 5);
    }
}
