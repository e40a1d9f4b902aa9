using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>Assertions shared by the ingest tests: exact field sets, lowercase uids, UTC timestamps.</summary>
public static class Shape
{
    /// <summary>The object has exactly these keys, no more and no fewer.</summary>
    public static void HasFields(JsonNode? node, params string[] names)
    {
        Assert.NotNull(node);
        var actual = node.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names.Order(StringComparer.Ordinal).ToArray(), actual);
    }

    /// <summary>A uid as Avala writes it: 36 characters, lowercase, dashed.</summary>
    public static string Uid(JsonNode? value)
    {
        var text = value!.GetValue<string>();
        Assert.True(Guid.TryParseExact(text, "D", out _), $"not a dashed uuid: {text}");
        Assert.Equal(text.ToLowerInvariant(), text);
        return text;
    }

    /// <summary>An ISO 8601 UTC timestamp ending in Z, and recent (so a zero or local time fails).</summary>
    public static DateTime Timestamp(JsonNode? value)
    {
        var text = value!.GetValue<string>();
        Assert.EndsWith("Z", text, StringComparison.Ordinal);
        var parsed = DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        Assert.InRange(parsed, DateTime.UtcNow.AddMinutes(-10), DateTime.UtcNow.AddMinutes(1));
        return parsed;
    }

    /// <summary>POSTs and asserts a 400 whose body is exactly <paramref name="expectedJson"/>.</summary>
    public static async Task PostRejectedAsync(this HttpClient client, string url, object body, string expectedJson)
    {
        var (status, json) = await client.PostJsonAsync(url, body);
        Assert.True(status == HttpStatusCode.BadRequest, $"POST {url}: expected 400, got {(int)status}: {json?.ToJsonString()}");
        Api.AssertJson(expectedJson, json);
    }

    /// <summary>Asserts the 404 every ingest endpoint gives for a missing or foreign object.</summary>
    public static void IsNotFound(HttpStatusCode status, JsonNode? body)
    {
        Assert.Equal(HttpStatusCode.NotFound, status);
        Api.AssertJson("""{"detail": "Not found."}""", body);
    }

    /// <summary>Every row of a paginated list, following <c>next</c> links.</summary>
    public static async Task<List<JsonNode>> AllPagesAsync(this HttpClient client, string url)
    {
        var rows = new List<JsonNode>();
        string? next = url;
        while (next is not null)
        {
            var page = await client.GetOkAsync(next);
            rows.AddRange(page["results"]!.AsArray().Select(r => r!));
            next = page["next"]?.GetValue<string>();
        }

        return rows;
    }
}
