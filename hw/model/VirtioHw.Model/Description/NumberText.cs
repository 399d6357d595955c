using System.Globalization;

namespace VirtioHw.Model;

/// <summary>Numbers as descriptions write them: decimal, <c>0x</c> hex, <c>_</c> separators, and a K, M or G (binary) suffix.</summary>
internal static class NumberText
{
    public static bool TryParse(string text, out ulong value)
    {
        value = 0;
        ReadOnlySpan<char> s = text.Trim();
        int shift = 0;
        if (s.Length > 1 && char.ToUpperInvariant(s[^1]) is 'K' or 'M' or 'G' && !s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            shift = char.ToUpperInvariant(s[^1]) switch { 'K' => 10, 'M' => 20, _ => 30 };
            s = s[..^1];
        }

        string digits = s.ToString().Replace("_", "", StringComparison.Ordinal);
        bool parsed = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(digits.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!parsed || (shift > 0 && value > ulong.MaxValue >> shift))
        {
            value = 0;
            return false;
        }

        value <<= shift;
        return true;
    }
}
