using System.Text.Json;

namespace Annex.Server.Infrastructure.Http;

/// <summary>Field readers with Django REST Framework's rules and wording, shared by every write endpoint.</summary>
public static class Fields
{
    public const string Required = "This field is required.";
    public const string NotNull = "This field may not be null.";
    public const string NotBlank = "This field may not be blank.";
    public const string NotAString = "Not a valid string.";
    public const string InvalidUuid = "Must be a valid UUID.";
    public const string InvalidInteger = "A valid integer is required.";

    /// <summary>A string field: trimmed, with optional blank and length checks. Numbers are accepted as
    /// their text, as DRF's CharField does.</summary>
    public static string? Text(JsonElement body, string name, ValidationErrors errors, bool required = true, bool allowNull = false, bool allowBlank = false, int maxLength = int.MaxValue, bool trim = true)
    {
        if (!body.TryGetProperty(name, out var value))
        {
            if (required)
            {
                errors.Add(name, Required);
            }

            return null;
        }

        return StringValue(value, [name], errors, allowNull, allowBlank, maxLength, trim);
    }

    public static string? StringValue(JsonElement value, IReadOnlyList<string> path, ValidationErrors errors, bool allowNull = false, bool allowBlank = false, int maxLength = int.MaxValue, bool trim = true)
    {
        string text;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                if (!allowNull)
                {
                    errors.Add(path, NotNull);
                }

                return null;
            case JsonValueKind.String:
                text = value.GetString()!;
                break;
            case JsonValueKind.Number:
                text = value.GetRawText();
                break;
            default:
                errors.Add(path, NotAString);
                return null;
        }

        if (trim)
        {
            text = text.Trim();
        }

        if (text.Length == 0 && !allowBlank)
        {
            errors.Add(path, NotBlank);
            return null;
        }

        if (text.Length > maxLength)
        {
            errors.Add(path, $"Ensure this field has no more than {maxLength} characters.");
            return null;
        }

        return text;
    }

    /// <summary>A list of UUIDs. Returns null when absent (and records "required" if it must be there).</summary>
    public static List<Guid>? UuidList(JsonElement body, string name, ValidationErrors errors, bool required)
    {
        if (!body.TryGetProperty(name, out var value))
        {
            if (required)
            {
                errors.Add(name, Required);
            }

            return null;
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(name, NotNull);
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(name, $"Expected a list of items but got type \"{JsonBody.PythonTypeName(value)}\".");
            return null;
        }

        var result = new List<Guid>();
        var index = 0;
        var ok = true;
        foreach (var element in value.EnumerateArray())
        {
            if (TryUuid(element, out var uid))
            {
                result.Add(uid);
            }
            else
            {
                errors.Add([name, index.ToString(System.Globalization.CultureInfo.InvariantCulture)], InvalidUuid);
                ok = false;
            }

            index++;
        }

        return ok ? result : null;
    }

    /// <summary>A single UUID field; absent or null gives null without an error.</summary>
    public static Guid? OptionalUuid(JsonElement body, string name, ValidationErrors errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (TryUuid(value, out var uid))
        {
            return uid;
        }

        errors.Add(name, InvalidUuid);
        return null;
    }

    public static bool TryUuid(JsonElement value, out Guid uid)
    {
        uid = default;
        return value.ValueKind == JsonValueKind.String && Guid.TryParse(value.GetString(), out uid);
    }

    /// <summary>An optional non-negative integer (pixels, counts).</summary>
    public static int? OptionalPositiveInt(JsonElement body, string name, IReadOnlyList<string> path, ValidationErrors errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            errors.Add([.. path, name], InvalidInteger);
            return null;
        }

        if (number < 1)
        {
            errors.Add([.. path, name], "Ensure this value is greater than or equal to 1.");
            return null;
        }

        return number;
    }

    /// <summary>A list of names from a fixed set, duplicates dropped, each wrong element reported under its
    /// index. Missing or null is an empty list unless <paramref name="required"/>.</summary>
    public static List<string>? ChoiceList(JsonElement body, string name, IReadOnlyCollection<string> choices, string choicesNoun, ValidationErrors errors, bool required)
    {
        if (!body.TryGetProperty(name, out var value) || (!required && value.ValueKind == JsonValueKind.Null))
        {
            if (required)
            {
                errors.Add(name, Required);
                return null;
            }

            return [];
        }

        if (ListValue(value, [name], errors) is not { } elements)
        {
            return null;
        }

        if (required && elements.Count == 0)
        {
            errors.Add(name, "This list may not be empty.");
            return null;
        }

        var chosen = new List<string>();
        for (var index = 0; index < elements.Count; index++)
        {
            var element = elements[index];
            var text = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
            if (element.ValueKind != JsonValueKind.String || !choices.Contains(text))
            {
                errors.Add([name, Index(index)], $"\"{text}\" is not a valid choice; the {choicesNoun} are {string.Join(", ", choices)}.");
            }
            else if (!chosen.Contains(text))
            {
                chosen.Add(text);
            }
        }

        return chosen;
    }

    /// <summary>A JSON array's elements, or a DRF error for null and for other types.</summary>
    public static List<JsonElement>? ListValue(JsonElement value, IReadOnlyList<string> path, ValidationErrors errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(path, NotNull);
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(path, $"Expected a list of items but got type \"{JsonBody.PythonTypeName(value)}\".");
            return null;
        }

        return [.. value.EnumerateArray()];
    }

    /// <summary>A required UUID inside a nested object.</summary>
    public static Guid? RequiredUuid(JsonElement parent, string name, IReadOnlyList<string> path, ValidationErrors errors)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            errors.Add([.. path, name], Required);
            return null;
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            errors.Add([.. path, name], NotNull);
            return null;
        }

        if (!TryUuid(value, out var uid))
        {
            errors.Add([.. path, name], InvalidUuid);
            return null;
        }

        return uid;
    }

    /// <summary>The first key that appears twice in one object, anywhere inside <paramref name="value"/>.
    /// Such JSON parses differently in different languages, so it is refused rather than stored.</summary>
    public static string? DuplicateKey(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in value.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                    {
                        return property.Name;
                    }

                    if (DuplicateKey(property.Value) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var element in value.EnumerateArray())
                {
                    if (DuplicateKey(element) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    public static string Index(int index) => index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
