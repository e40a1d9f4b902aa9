using System.Net;
using System.Text.Json;

namespace Annex.Client;

/// <summary>The server answered with an error status. Subclasses name the common cases.</summary>
public class AnnexApiException : Exception
{
    public AnnexApiException(HttpStatusCode statusCode, string message, string? detail, IReadOnlyDictionary<string, IReadOnlyList<string>> fieldErrors, string? body)
        : base(message)
    {
        StatusCode = statusCode;
        Detail = detail;
        FieldErrors = fieldErrors;
        Body = body;
    }

    public AnnexApiException()
        : this(HttpStatusCode.InternalServerError, "The server answered with an error.", null, new Dictionary<string, IReadOnlyList<string>>(), null)
    {
    }

    public AnnexApiException(string message)
        : this(HttpStatusCode.InternalServerError, message, null, new Dictionary<string, IReadOnlyList<string>>(), null)
    {
    }

    public AnnexApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = HttpStatusCode.InternalServerError;
        FieldErrors = new Dictionary<string, IReadOnlyList<string>>();
    }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The server's <c>detail</c> message, when the body had one.</summary>
    public string? Detail { get; }

    /// <summary>Field errors of a 400, keyed by a dotted path into the request body:
    /// <c>{"results": {"0": {"label": ["..."]}}}</c> becomes <c>results.0.label</c>.
    /// Errors about the body as a whole are under <c>non_field_errors</c>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> FieldErrors { get; }

    /// <summary>The raw answer body (possibly cut to its first few kilobytes).</summary>
    public string? Body { get; }
}

/// <summary>400: the request was refused; <see cref="AnnexApiException.FieldErrors"/> says what to fix.</summary>
public sealed class AnnexValidationException(string message, string? detail, IReadOnlyDictionary<string, IReadOnlyList<string>> fieldErrors, string? body)
    : AnnexApiException(HttpStatusCode.BadRequest, message, detail, fieldErrors, body);

/// <summary>401: the API key is missing, wrong or revoked.</summary>
public sealed class AnnexAuthenticationException(string message, string? detail, string? body)
    : AnnexApiException(HttpStatusCode.Unauthorized, message, detail, new Dictionary<string, IReadOnlyList<string>>(), body);

/// <summary>403: the key may not do this (e.g. the object belongs to another organization, or a download link expired).</summary>
public sealed class AnnexPermissionException(string message, string? detail, string? body)
    : AnnexApiException(HttpStatusCode.Forbidden, message, detail, new Dictionary<string, IReadOnlyList<string>>(), body);

/// <summary>404: no such object (in the key's organization).</summary>
public sealed class AnnexNotFoundException(string message, string? detail, string? body)
    : AnnexApiException(HttpStatusCode.NotFound, message, detail, new Dictionary<string, IReadOnlyList<string>>(), body);

/// <summary>429: still rate limited after the client's retries.</summary>
public sealed class AnnexRateLimitException(string message, string? detail, TimeSpan? retryAfter, string? body)
    : AnnexApiException(HttpStatusCode.TooManyRequests, message, detail, new Dictionary<string, IReadOnlyList<string>>(), body)
{
    /// <summary>How long the server last asked to wait, when it said.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>A downloaded archive did not have the size the server announced, even after resuming.</summary>
public sealed class AnnexDownloadException : Exception
{
    public AnnexDownloadException()
    {
    }

    public AnnexDownloadException(string message)
        : base(message)
    {
    }

    public AnnexDownloadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

internal static class ErrorReader
{
    private const int MaxBodyChars = 8192;

    public static AnnexApiException Create(HttpStatusCode status, string body, TimeSpan? retryAfter)
    {
        if (body.Length > MaxBodyChars)
        {
            body = body[..MaxBodyChars];
        }

        string? detail = null;
        var fields = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("detail", out var detailValue) && detailValue.ValueKind == JsonValueKind.String)
            {
                detail = detailValue.GetString();
            }
            else if (root.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                Flatten(root, string.Empty, fields);
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the status and the raw body are all there is.
        }

        var code = (int)status;
        var summary = detail ?? (fields.Count > 0
            ? string.Join("; ", fields.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}"))
            : status.ToString());
        var message = $"{code} {status}: {summary}";
        return status switch
        {
            HttpStatusCode.BadRequest => new AnnexValidationException(message, detail, fields, body),
            HttpStatusCode.Unauthorized => new AnnexAuthenticationException(message, detail, body),
            HttpStatusCode.Forbidden => new AnnexPermissionException(message, detail, body),
            HttpStatusCode.NotFound => new AnnexNotFoundException(message, detail, body),
            HttpStatusCode.TooManyRequests => new AnnexRateLimitException(message, detail, retryAfter, body),
            _ => new AnnexApiException(status, message, detail, fields, body),
        };
    }

    private static void Flatten(JsonElement node, string path, Dictionary<string, IReadOnlyList<string>> fields)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in node.EnumerateObject())
                {
                    Flatten(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", fields);
                }

                break;
            case JsonValueKind.Array when node.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String):
                fields[path.Length == 0 ? "non_field_errors" : path] = [.. node.EnumerateArray().Select(e => e.GetString()!)];
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var element in node.EnumerateArray())
                {
                    Flatten(element, path.Length == 0 ? $"{index}" : $"{path}.{index}", fields);
                    index++;
                }

                break;
            case JsonValueKind.String:
                fields[path.Length == 0 ? "non_field_errors" : path] = [node.GetString()!];
                break;
        }
    }
}
