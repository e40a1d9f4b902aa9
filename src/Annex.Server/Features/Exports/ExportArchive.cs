namespace Annex.Server.Features.Exports;

public static class ExportArchive
{
    /// <summary>Blob key of an export's archive.</summary>
    public static string Key(Guid exportUid) => $"exports/{exportUid:D}.zip";

    /// <summary>The export an archive key belongs to.</summary>
    public static bool TryParseKey(string key, out Guid exportUid)
    {
        exportUid = Guid.Empty;
        return key.StartsWith("exports/", StringComparison.Ordinal) && key.EndsWith(".zip", StringComparison.Ordinal)
            && Guid.TryParseExact(key["exports/".Length..^".zip".Length], "D", out exportUid);
    }

    /// <summary>File name offered to browsers: the export name made safe, and the uid to keep it unique.</summary>
    public static string DownloadName(Export export)
    {
        var safe = new string([.. export.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]).Trim('_', '.');
        if (safe.Length > 80)
        {
            safe = safe[..80];
        }

        return safe.Length == 0 ? $"export-{export.Uid:D}.zip" : $"{safe}-{export.Uid:D}.zip";
    }
}
