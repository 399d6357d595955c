using System.Text;

namespace VirtioHw.Flash;

/// <summary>Reads an image file in the format its name (or <c>--format</c>) says.</summary>
public static class ImageLoader
{
    /// <summary>Parses a --format value: auto, raw (bin), bit, hex (ihex, mcs).</summary>
    public static ImageFormat ParseFormat(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => ImageFormat.Auto,
        "raw" or "bin" => ImageFormat.Raw,
        "bit" => ImageFormat.XilinxBit,
        "hex" or "ihex" or "mcs" => ImageFormat.IntelHex,
        _ => throw new FlashException($"--format {text} is not one of auto, raw, bit, hex"),
    };

    public static FlashImage Load(string path, ImageFormat format = ImageFormat.Auto)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FlashException(Directory.Exists(path) ? $"image {path} is a directory" : $"image {path} does not exist");
        }

        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlashException($"cannot read image {path}: {e.Message}", e);
        }

        if (data.Length == 0)
        {
            throw new FlashException($"image {path} is empty");
        }

        if (format == ImageFormat.Auto)
        {
            format = Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".bit" => ImageFormat.XilinxBit,
                ".hex" or ".ihex" or ".mcs" => ImageFormat.IntelHex,
                // A .bit renamed to .bin would otherwise be flashed with its header in front.
                _ when XilinxBitFile.LooksLikeBit(data) => ImageFormat.XilinxBit,
                _ => ImageFormat.Raw,
            };
        }

        return format switch
        {
            ImageFormat.XilinxBit => XilinxBitFile.Parse(path, data),
            ImageFormat.IntelHex => IntelHexFile.Parse(path, DecodeText(path, data)),
            _ => FlashImage.FromBytes(path, data),
        };
    }

    private static string DecodeText(string path, byte[] data)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(data);
        }
        catch (DecoderFallbackException)
        {
            throw new FlashException($"{path} is not a text file, so it is not Intel HEX (use --format raw for binary)");
        }
    }
}
