using System.Globalization;

namespace VirtioHw.Host.Pci;

/// <summary>Text forms shared by diagnostics and the lspci listing.</summary>
public static class PciFormat
{
    /// <summary>A size the way lspci prints it: 256, 4K, 16M, 2G.</summary>
    public static string Size(ulong bytes)
    {
        string[] units = ["", "K", "M", "G", "T", "P", "E"];
        int unit = 0;
        while (unit < units.Length - 1 && bytes >= 1024 && bytes % 1024 == 0)
        {
            bytes /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes}{units[unit]}");
    }
}
