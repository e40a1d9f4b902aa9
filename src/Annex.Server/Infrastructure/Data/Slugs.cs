using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Infrastructure.Data;

/// <summary>URL names (<c>[a-z0-9-]</c>) of organizations, datasets and slices, as Avala's routes use them
/// (<c>/datasets/&lt;owner&gt;/&lt;slug&gt;/</c>).</summary>
public static class Slugs
{
    public const int MaxLength = 100;

    /// <summary>Whether <paramref name="slug"/> is a well-formed slug a client may choose.</summary>
    public static bool IsValid(string slug) =>
        slug.Length is > 0 and <= MaxLength
        && slug.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && slug[0] != '-' && slug[^1] != '-';

    /// <summary>The slug a name reads as: accents dropped, lower case, every other run of characters one
    /// hyphen; <paramref name="fallback"/> when nothing of the name is left.</summary>
    public static string FromName(string name, string fallback)
    {
        var decomposed = name.Normalize(NormalizationForm.FormD);
        var slug = new StringBuilder(Math.Min(decomposed.Length, MaxLength));
        var hyphen = false;
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            var lower = char.ToLowerInvariant(c);
            var letters = lower is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? null : Fold(lower);
            if (lower is (>= 'a' and <= 'z') or (>= '0' and <= '9') || letters is not null)
            {
                if (hyphen && slug.Length > 0)
                {
                    slug.Append('-');
                }

                hyphen = false;
                if (letters is null)
                {
                    slug.Append(lower);
                }
                else
                {
                    slug.Append(letters);
                }

                if (slug.Length >= MaxLength - 8)
                {
                    break;
                }
            }
            else
            {
                hyphen = true;
            }
        }

        return slug.Length == 0 ? fallback : slug.ToString();
    }

    // Latin letters with marks, for when Normalize cannot decompose them (the server runs with invariant
    // globalization, where it leaves text as it is): each group folds to the letters after the colon.
    private static readonly Dictionary<char, string> Folds = BuildFolds(
        "àáâãäåāăą:a", "çćĉċč:c", "ďđð:d", "èéêëēĕėęě:e", "ĝğġģ:g", "ĥħ:h", "ìíîïĩīĭįı:i", "ĵ:j", "ķ:k", "ĺļľŀł:l",
        "ñńņňŉ:n", "òóôõöøōŏő:o", "ŕŗř:r", "śŝşšș:s", "ţťŧț:t", "ùúûüũūŭůűų:u", "ŵ:w", "ýÿŷ:y", "źżž:z",
        "ß:ss", "æ:ae", "œ:oe", "þ:th");

    private static Dictionary<char, string> BuildFolds(params string[] groups)
    {
        var folds = new Dictionary<char, string>();
        foreach (var group in groups)
        {
            var colon = group.IndexOf(':', StringComparison.Ordinal);
            foreach (var letter in group[..colon])
            {
                folds[letter] = group[(colon + 1)..];
            }
        }

        return folds;
    }

    private static string? Fold(char lower) => Folds.GetValueOrDefault(lower);

    /// <summary>The first of <c>base</c>, <c>base-2</c>, <c>base-3</c>, ... that <paramref name="taken"/>
    /// does not hold. The unique index stays the guard against a concurrent insert of the same slug.</summary>
    public static async Task<string> FirstFreeAsync(IQueryable<string> taken, string slug, CancellationToken cancellationToken)
    {
        var prefix = slug + "-";
        var used = await taken.Where(s => s == slug || s.StartsWith(prefix)).ToListAsync(cancellationToken);
        if (!used.Contains(slug))
        {
            return slug;
        }

        var set = used.ToHashSet(StringComparer.Ordinal);
        for (var n = 2; ; n++)
        {
            var candidate = $"{slug}-{n.ToString(CultureInfo.InvariantCulture)}";
            if (!set.Contains(candidate))
            {
                return candidate;
            }
        }
    }
}
