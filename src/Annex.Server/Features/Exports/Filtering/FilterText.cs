namespace Annex.Server.Features.Exports.Filtering;

/// <summary>Text helpers for filter error messages.</summary>
internal static class FilterText
{
    private const int MaxShown = 40;

    /// <summary>Keeps a quoted piece of user input short enough that the message stays readable.</summary>
    public static string Shorten(string s) => s.Length <= MaxShown ? s : string.Concat(s.AsSpan(0, MaxShown - 3), "...");

    /// <summary>The field the user probably meant: the closest name within edit distance 2, else the first name
    /// the input is a prefix of. For keyed fields the keys are kept ("metdata.camera" suggests "metadata.camera").
    /// Case is ignored when comparing, since "Label" is a likely slip for "label".</summary>
    public static string? Suggest(string written, IReadOnlyList<string> fieldNames)
    {
        // Long inputs cannot be within distance 2 of a short name, and skipping them keeps this cheap.
        if (written.Length > 40)
            return null;

        var lower = written.ToLowerInvariant();
        var dot = lower.IndexOf('.', StringComparison.Ordinal);
        string? best = null;
        var bestDistance = int.MaxValue;
        string? prefixMatch = null;
        foreach (var name in fieldNames)
        {
            string compared;
            string candidate;
            string target;
            var keyed = name.EndsWith(".<key>", StringComparison.Ordinal);
            if (keyed)
            {
                target = name[..^".<key>".Length];
                compared = dot < 0 ? lower : lower[..dot];
                candidate = dot < 0 ? name : target + written[dot..];
            }
            else
            {
                target = name;
                compared = lower;
                candidate = name;
            }

            var distance = Distance(compared, target);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }

            if (prefixMatch is null && compared.Length > 0 && target.StartsWith(compared, StringComparison.Ordinal))
                prefixMatch = candidate;
        }

        return bestDistance <= 2 ? best : prefixMatch;
    }

    /// <summary>Levenshtein distance, one row at a time.</summary>
    private static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            row[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(above + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }
}
