using System.Text.Json;

namespace Annex.Formats;

/// <summary>The split an item belongs to: its metadata's <c>split</c> when that is train, val or test, else train.</summary>
public static class Splits
{
    public const string Train = "train";
    public const string Val = "val";
    public const string Test = "test";

    public static IReadOnlyList<string> All { get; } = [Train, Val, Test];

    public static string Of(string metadataJson)
    {
        if (string.IsNullOrEmpty(metadataJson))
        {
            return Train;
        }

        try
        {
            using var document = JsonDocument.Parse(metadataJson);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("split", out var split)
                && split.ValueKind == JsonValueKind.String)
            {
                var name = split.GetString()!.Trim().ToLowerInvariant();
                if (name is Val or Test or Train)
                {
                    return name;
                }
            }
        }
        catch (JsonException)
        {
            // Metadata is validated on the way in; an unreadable value is no reason to fail an export.
        }

        return Train;
    }
}
