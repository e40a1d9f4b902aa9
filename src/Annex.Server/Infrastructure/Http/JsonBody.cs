using System.Globalization;
using System.Text.Json;
using Annex.Formats;

namespace Annex.Server.Infrastructure.Http;

/// <summary>Reads request bodies by hand so every malformed input gets the exact DRF message rather than
/// a framework default.</summary>
public static class JsonBody
{
    /// <summary>Parses the body as a JSON object (or, for bulk endpoints, an array). An empty body counts as <c>{}</c>.</summary>
    public static async Task<(JsonDocument? Document, BadRequestError? Error)> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken, bool allowArray = false)
    {
        JsonDocument document;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
            if (bytes.Span.IndexOfAnyExcept(" \t\r\n"u8) < 0)
            {
                return (JsonDocument.Parse("{}"), null);
            }

            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            return (null, BadRequestError.Detail($"JSON parse error - {ParseMessage(ex)}"));
        }

        if (FindInvalidText(document.RootElement) is { } problem)
        {
            document.Dispose();
            return (null, BadRequestError.Detail($"JSON parse error - {problem}"));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object && !(allowArray && document.RootElement.ValueKind == JsonValueKind.Array))
        {
            var type = PythonTypeName(document.RootElement);
            document.Dispose();
            var errors = new ValidationErrors();
            errors.Add("non_field_errors", $"Invalid data. Expected a dictionary, but got {type}.");
            return (null, errors.ToBadRequest());
        }

        return (document, null);
    }

    /// <summary>JSON allows escapes such as "\ud83d" alone, which no .NET string (or database) can hold,
    /// and "\u0000", which PostgreSQL cannot store in text or jsonb; finding them here turns what would fail
    /// deep inside a handler into a clear 400.</summary>
    internal static string? FindInvalidText(JsonElement value)
    {
        try
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    return value.GetString()!.Contains('\0', StringComparison.Ordinal) ? NullCharacter : null;
                case JsonValueKind.Array:
                    return value.EnumerateArray().Select(FindInvalidText).FirstOrDefault(p => p is not null);
                case JsonValueKind.Object:
                    foreach (var property in value.EnumerateObject())
                    {
                        if (property.Name.Contains('\0', StringComparison.Ordinal))
                        {
                            return NullCharacter;
                        }

                        if (FindInvalidText(property.Value) is { } problem)
                        {
                            return problem;
                        }
                    }

                    return null;
                default:
                    return null;
            }
        }
        catch (InvalidOperationException)
        {
            return UnpairedSurrogate;
        }
    }

    internal const string NullCharacter = "Null characters are not allowed (a string holds \\u0000).";

    internal const string UnpairedSurrogate = "a string holds an unpaired \\u surrogate escape, which is not valid text.";

    /// <summary>The type name a Python client would see for a JSON value, as DRF messages use it.</summary>
    public static string PythonTypeName(JsonElement value) => JsonTypeNames.Python(value);

    internal static string ParseMessage(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }

        return ex.LineNumber is { } line && ex.BytePositionInLine is { } column
            ? string.Create(CultureInfo.InvariantCulture, $"{message.TrimEnd('.')} (line {line + 1}, column {column + 1}).")
            : message;
    }
}
