using System.Text;

namespace Annex.Formats;

/// <summary>
/// File names for items inside an archive. A stem is the item's ref_id made safe (ASCII letters, digits,
/// '-' and '_' only, so no separators, dots, or names a file system reserves; at most
/// <see cref="MaxRefLength"/> characters of it) followed by '_' and the item's uid, which keeps stems unique
/// even when items of different datasets share a ref_id, without remembering the stems already given.
/// </summary>
public static class FileStems
{
    public const int MaxRefLength = 64;

    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"];

    private static readonly HashSet<string> ReservedNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    /// <summary>True for the extensions of the image files archives hold (with the dot, in any case).</summary>
    public static bool IsImageExtension(string extension) => ImageExtensions.Contains(extension, StringComparer.OrdinalIgnoreCase);

    public static string For(string refId, Guid uid) => string.Concat(SafeRef(refId), "_", uid.ToString("N"));

    /// <summary>The ref_id part of a stem: an image extension dropped, every other character mapped to '_'.</summary>
    public static string SafeRef(string refId)
    {
        ArgumentNullException.ThrowIfNull(refId);
        var text = refId.Trim();
        foreach (var extension in ImageExtensions)
        {
            if (text.Length > extension.Length && text.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                text = text[..^extension.Length];
                break;
            }
        }

        // Only the last path segment names the file; folders in a ref_id would otherwise dominate the stem.
        var slash = text.LastIndexOfAny(['/', '\\']);
        if (slash >= 0 && slash < text.Length - 1)
        {
            text = text[(slash + 1)..];
        }

        var builder = new StringBuilder(Math.Min(text.Length, MaxRefLength));
        foreach (var c in text)
        {
            // Leading replacements are trimmed below, so a little more than the bound is kept here.
            if (builder.Length == 2 * MaxRefLength)
            {
                break;
            }

            var safe = char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_';
            // Runs of replaced characters collapse, so "a / b" becomes "a_b" rather than "a___b".
            if (safe == '_' && builder.Length > 0 && builder[^1] == '_' && c != '_')
            {
                continue;
            }

            builder.Append(safe);
        }

        var stem = builder.ToString().Trim('_');
        if (stem.Length > MaxRefLength)
        {
            stem = stem[..MaxRefLength].TrimEnd('_');
        }
        if (stem.Length == 0)
        {
            return "item";
        }

        return ReservedNames.Contains(stem) ? "_" + stem : stem;
    }

    /// <summary>The extension of an uploaded image by its content type, with the leading dot.</summary>
    public static string? ImageExtension(string? contentType) => contentType?.ToLowerInvariant() switch
    {
        "image/jpeg" or "image/jpg" => ".jpg",
        "image/png" => ".png",
        "image/webp" => ".webp",
        "image/bmp" => ".bmp",
        "image/gif" => ".gif",
        "image/tiff" => ".tif",
        _ => null,
    };
}
