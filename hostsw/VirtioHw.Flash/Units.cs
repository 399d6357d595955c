using System.Globalization;

namespace VirtioHw.Flash;

/// <summary>Sizes and addresses as people write them: <c>0x10000</c>, <c>64K</c>, <c>1M</c>, <c>4096</c>.</summary>
public static class Units
{
    /// <summary>"16 MiB", "4 KiB", "300 B": exact binary units where they divide evenly.</summary>
    public static string Size(long bytes) =>
        bytes >= PartTable.MiB && bytes % PartTable.MiB == 0 ? $"{bytes / PartTable.MiB} MiB"
        : bytes >= 1024 && bytes % 1024 == 0 ? $"{bytes / 1024} KiB"
        : $"{bytes} B";

    /// <summary>Human rate for progress lines.</summary>
    public static string Rate(double bytesPerSecond) =>
        bytesPerSecond >= PartTable.MiB ? $"{bytesPerSecond / PartTable.MiB:0.00} MiB/s"
        : bytesPerSecond >= 1024 ? $"{bytesPerSecond / 1024:0.0} KiB/s"
        : $"{bytesPerSecond:0} B/s";

    /// <summary>
    /// Parses a non-negative size or address: decimal, 0x hexadecimal, with an optional K, M or G
    /// suffix (powers of 1024). Returns false for anything else, including overflow.
    /// </summary>
    public static bool TryParse(string? text, out long value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        ReadOnlySpan<char> s = text.Trim();
        long multiplier = 1;
        char last = char.ToUpperInvariant(s[^1]);
        bool hex = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (!hex || last is 'K' or 'M' or 'G')
        {
            multiplier = last switch
            {
                'K' => 1024,
                'M' => 1024 * 1024,
                'G' => 1024 * 1024 * 1024,
                _ => 1,
            };
        }

        if (multiplier != 1)
        {
            s = s[..^1];
        }

        long parsed;
        bool ok = hex
            ? long.TryParse(s[Math.Min(2, s.Length)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out parsed)
            : long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out parsed);
        if (!ok || parsed < 0)
        {
            return false;
        }

        try
        {
            value = checked(parsed * multiplier);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>
    /// Parses a clock frequency as people write it: <c>6000000</c>, <c>6M</c>, <c>6MHz</c>,
    /// <c>500k</c>, <c>1.5M</c> (decimal multiples, as iceprog and openFPGALoader take them), or
    /// plain <c>0x</c> hexadecimal.
    /// Returns false for anything else, and for zero, a fraction of a hertz or overflow.
    /// </summary>
    public static bool TryParseHertz(string? text, out long hertz)
    {
        hertz = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        ReadOnlySpan<char> s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return TryParse(text, out hertz) && hertz > 0;
        }

        if (s.EndsWith("hz", StringComparison.OrdinalIgnoreCase))
        {
            s = s[..^2];
        }

        if (s.IsEmpty)
        {
            return false;
        }

        decimal multiplier = char.ToUpperInvariant(s[^1]) switch
        {
            'K' => 1_000m,
            'M' => 1_000_000m,
            'G' => 1_000_000_000m,
            _ => 1m,
        };
        if (multiplier != 1m)
        {
            s = s[..^1];
        }

        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value))
        {
            return false;
        }

        decimal result = value * multiplier;
        if (result < 1 || result != decimal.Truncate(result) || result > long.MaxValue)
        {
            return false;
        }

        hertz = (long)result;
        return true;
    }
}
