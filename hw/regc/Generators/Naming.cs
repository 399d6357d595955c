using System.Globalization;
using System.Text;

namespace VirtioHw.Regc.Generators;

/// <summary>How RDL names become identifiers in each output language.</summary>
internal static class Naming
{
    /// <summary><c>device_feature_select</c> and <c>FEATURES_OK</c> become <c>DeviceFeatureSelect</c>, <c>FeaturesOk</c>.</summary>
    public static string Pascal(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (string part in name.Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            sb.Append(char.ToUpperInvariant(part[0]));
            sb.Append(part.Length > 1 && part.All(c => !char.IsLower(c)) ? part[1..].ToLowerInvariant() : part[1..]);
        }
        return sb.Length == 0 ? "_" : sb.ToString();
    }

    public static string Upper(string name) => name.ToUpperInvariant();

    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static string Dec(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string XmlEscape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>A description on one line (generated comments and tables are line-oriented).</summary>
    public static string OneLine(string text) =>
        string.Join(' ', text.Split(['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
}
