namespace Annex.Server.Infrastructure.Http;

/// <summary>
/// The <c>Prefer: return=minimal</c> request header (RFC 7240): a bulk write endpoint then answers with counts
/// (and, for items, each element's uid and ref_id) instead of echoing every row it wrote, and says so with
/// <c>Preference-Applied: return=minimal</c>. Without it the answer is the full one.
/// </summary>
public static class ReturnPreference
{
    public const string Header = "Prefer";
    public const string AppliedHeader = "Preference-Applied";
    public const string Minimal = "return=minimal";

    /// <summary>True when one of the request's preferences is <c>return=minimal</c> (names and values compared
    /// without case; parameters after <c>;</c> and other preferences are ignored).</summary>
    public static bool WantsMinimal(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var header in request.Headers[Header])
        {
            if (header is null)
            {
                continue;
            }

            foreach (var preference in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var token = preference.Split(';', 2)[0];
                var equals = token.IndexOf('=', StringComparison.Ordinal);
                if (equals < 0)
                {
                    continue;
                }

                var name = token[..equals].Trim();
                var value = token[(equals + 1)..].Trim().Trim('"');
                if (name.Equals("return", StringComparison.OrdinalIgnoreCase) && value.Equals("minimal", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Marks the answer as minimal.</summary>
    public static void Applied(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers[AppliedHeader] = Minimal;
    }
}
