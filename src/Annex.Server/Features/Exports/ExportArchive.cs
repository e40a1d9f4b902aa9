namespace Annex.Server.Features.Exports;

public static class ExportArchive
{
    /// <summary>Blob key of the archive one attempt (claim) of an export writes: attempts never share an
    /// archive, so one that lost its lease cannot overwrite or delete the archive of the one that took over.</summary>
    public static string Key(Guid exportUid, Guid claimToken) => $"exports/{exportUid:D}.{claimToken:N}.zip";

    /// <summary>The export an archive key belongs to (keys of one attempt, and the older one-per-export keys).</summary>
    public static bool TryParseKey(string key, out Guid exportUid)
    {
        exportUid = Guid.Empty;
        if (!key.StartsWith("exports/", StringComparison.Ordinal) || !key.EndsWith(".zip", StringComparison.Ordinal))
        {
            return false;
        }

        var name = key["exports/".Length..^".zip".Length];
        const int uidLength = 36;
        return name.Length >= uidLength
            && (name.Length == uidLength || (name[uidLength] == '.' && Guid.TryParseExact(name[(uidLength + 1)..], "N", out _)))
            && Guid.TryParseExact(name[..uidLength], "D", out exportUid);
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
