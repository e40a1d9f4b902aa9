namespace Annex.Server.Infrastructure.Http;

/// <summary>
/// The <c>existing</c> query parameter of the bulk write endpoints: what to do with a row whose natural key
/// (an item's <c>ref_id</c>, a result's item) is already stored. <c>skip</c> leaves the stored row as it is and
/// reports it, so an import that stopped half-way can be sent again without duplicates or failures; left out,
/// the endpoint keeps its own default.
/// </summary>
public static class ExistingRows
{
    public const string Parameter = "existing";
    public const string Skip = "skip";

    /// <summary>True for <c>?existing=skip</c>, false when absent or the endpoint's <paramref name="defaultChoice"/>;
    /// null (with the error recorded) for anything else.</summary>
    public static bool? ReadSkip(HttpRequest request, string defaultChoice, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Query.TryGetValue(Parameter, out var values))
        {
            return false;
        }

        var value = values.ToString();
        if (value == Skip)
        {
            return true;
        }

        if (value == defaultChoice)
        {
            return false;
        }

        var shown = value.Length > 50 ? value[..50] + "..." : value;
        errors.Add(Parameter, $"\"{shown}\" is not a valid choice. Choose one of: {defaultChoice}, {Skip}.");
        return null;
    }
}
