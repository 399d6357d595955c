using System.Collections.Immutable;

namespace VirtioHw.Flash;

/// <summary>How a family's block-protect bits map to a protected address range.</summary>
public enum ProtectionLayout
{
    /// <summary>
    /// Winbond W25Q32/64/128 and GigaDevice GD25Q32/64/128: BP0-2, TB, SEC in status register 1.
    /// BP 1-6 protect 1/64 up to 1/2 of the part (SEC=0) or 4-32 KiB (SEC=1); BP 7 protects all.
    /// </summary>
    WinbondFraction,

    /// <summary>
    /// Four BP bits count 64 KiB blocks: BP = n protects 2^(n-1) blocks (capped at the whole part)
    /// from the top, or from the bottom when TB is set (W25Q256, Micron N25Q/MT25Q).
    /// </summary>
    BlockCount,

    /// <summary>
    /// The position of the protected area is not in the status register (a one-time register on
    /// Macronix and ISSI parts) or the part is unknown: any BP bit set counts as the whole part.
    /// </summary>
    WholePartIfAnySet,
}

/// <summary>
/// Where a part keeps its protection bits and how to decode them. Decoding is deliberately
/// conservative where the datasheets differ: a range is never reported smaller than the part protects.
/// </summary>
public sealed class ProtectionScheme
{
    public required ProtectionLayout Layout { get; init; }

    /// <summary>Bit positions of BP0, BP1, ... in status register 1.</summary>
    public required ImmutableArray<int> BpBits { get; init; }

    /// <summary>Bit of TB (protect from the bottom) in status register 1, if there.</summary>
    public int? TbBit { get; init; }

    /// <summary>Bit of SEC (4 KiB sectors instead of fractions) in status register 1, if there.</summary>
    public int? SecBit { get; init; }

    /// <summary>Bit of CMP (complement the range) in status register 2, if the part has it.</summary>
    public int? CmpBit { get; init; }

    /// <summary>The bits of status register 1 that <c>--unprotect</c> clears.</summary>
    public byte Status1ClearMask
    {
        get
        {
            int mask = 0;
            foreach (int b in BpBits)
            {
                mask |= 1 << b;
            }

            if (TbBit is int tb)
            {
                mask |= 1 << tb;
            }

            if (SecBit is int sec)
            {
                mask |= 1 << sec;
            }

            return (byte)mask;
        }
    }

    /// <summary>Winbond W25Q32/64/128JV, GigaDevice GD25Q32/64/128: BP0-2 bits 2-4, TB 5, SEC 6, CMP in SR2 bit 6.</summary>
    public static ProtectionScheme WinbondSecTb { get; } = new()
    {
        Layout = ProtectionLayout.WinbondFraction,
        BpBits = [2, 3, 4],
        TbBit = 5,
        SecBit = 6,
        CmpBit = 6,
    };

    /// <summary>Winbond W25Q256JV: BP0-3 bits 2-5, TB bit 6, CMP in SR2 bit 6.</summary>
    public static ProtectionScheme WinbondBp4 { get; } = new()
    {
        Layout = ProtectionLayout.BlockCount,
        BpBits = [2, 3, 4, 5],
        TbBit = 6,
        CmpBit = 6,
    };

    /// <summary>Micron N25Q/MT25Q: BP0-2 bits 2-4, TB bit 5, BP3 bit 6; no CMP.</summary>
    public static ProtectionScheme Micron { get; } = new()
    {
        Layout = ProtectionLayout.BlockCount,
        BpBits = [2, 3, 4, 6],
        TbBit = 5,
    };

    /// <summary>Macronix MX25L, ISSI IS25LP: BP0-3 bits 2-5; TB lives in a one-time register.</summary>
    public static ProtectionScheme Bp4TopBottomUnknown { get; } = new()
    {
        Layout = ProtectionLayout.WholePartIfAnySet,
        BpBits = [2, 3, 4, 5],
    };

    /// <summary>GigaDevice GD25Q256: BP0-3 bits 2-5 and TB/BP4 bit 6, decoded conservatively.</summary>
    public static ProtectionScheme Bp5Conservative { get; } = new()
    {
        Layout = ProtectionLayout.WholePartIfAnySet,
        BpBits = [2, 3, 4, 5, 6],
    };

    /// <summary>Parts found through SFDP: bits 2-5 are BP bits on every vendor's part.</summary>
    public static ProtectionScheme Unknown => Bp4TopBottomUnknown;

    /// <summary>Value of the BP field (BP0 is bit 0 of the result).</summary>
    public int BpValue(byte status1)
    {
        int value = 0;
        for (int i = 0; i < BpBits.Length; i++)
        {
            value |= ((status1 >> BpBits[i]) & 1) << i;
        }

        return value;
    }

    /// <summary>Whether CMP is set in <paramref name="status2"/>.</summary>
    public bool IsComplemented(byte status2) => CmpBit is int cmp && ((status2 >> cmp) & 1) != 0;

    /// <summary>The protected range of a part of <paramref name="size"/> bytes for these register values.</summary>
    public AddressRange Decode(byte status1, byte status2, long size)
    {
        AddressRange range = DecodeUncomplemented(status1, size);
        if (!IsComplemented(status2))
        {
            return range;
        }

        // CMP protects everything the BP bits would leave unprotected; the range is at one end, so
        // its complement is one range too.
        if (range.IsEmpty)
        {
            return new AddressRange(0, size);
        }

        if (range.Length >= size)
        {
            return new AddressRange(0, 0);
        }

        return range.Start == 0
            ? new AddressRange(range.End, size - range.End)
            : new AddressRange(0, range.Start);
    }

    private AddressRange DecodeUncomplemented(byte status1, long size)
    {
        int bp = BpValue(status1);
        if (bp == 0)
        {
            return new AddressRange(0, 0);
        }

        bool bottom = TbBit is int tb && ((status1 >> tb) & 1) != 0;
        long length;
        switch (Layout)
        {
            case ProtectionLayout.WinbondFraction:
                bool sectors = SecBit is int sec && ((status1 >> sec) & 1) != 0;
                if (bp == 7)
                {
                    length = size;
                }
                else if (sectors)
                {
                    // 4, 8, 16 KiB, then 32 KiB for every larger setting.
                    length = 4096L << Math.Min(bp - 1, 3);
                }
                else
                {
                    length = size >> (7 - bp);
                }

                break;
            case ProtectionLayout.BlockCount:
                length = bp - 1 >= 31 ? size : Math.Min(size, 65536L << (bp - 1));
                break;
            default:
                length = size;
                break;
        }

        return bottom ? new AddressRange(0, length) : new AddressRange(size - length, length);
    }
}
