using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>Small helpers for talking JSON to the server and reading answers as JSON trees.</summary>
public static class Api
{
    public static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(this HttpClient client, HttpMethod method, string url, object? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is string raw)
        {
            request.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public static Task<(HttpStatusCode Status, JsonNode? Body)> GetJsonAsync(this HttpClient client, string url) => client.SendAsync(HttpMethod.Get, url);

    public static Task<(HttpStatusCode Status, JsonNode? Body)> PostJsonAsync(this HttpClient client, string url, object? body) => client.SendAsync(HttpMethod.Post, url, body);

    /// <summary>GETs a URL and asserts 200.</summary>
    public static async Task<JsonNode> GetOkAsync(this HttpClient client, string url)
    {
        var (status, body) = await client.GetJsonAsync(url);
        Assert.True(status == HttpStatusCode.OK, $"GET {url}: expected 200, got {(int)status}: {body?.ToJsonString()}");
        return body!;
    }

    /// <summary>POSTs and asserts the status; returns the body.</summary>
    public static async Task<JsonNode> PostOkAsync(this HttpClient client, string url, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var (status, json) = await client.PostJsonAsync(url, body);
        Assert.True(status == expected, $"POST {url}: expected {(int)expected}, got {(int)status}: {json?.ToJsonString()}");
        return json!;
    }

    public static void AssertJson(string expectedJson, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expectedJson), actual), $"expected {expectedJson}\n but got {actual?.ToJsonString()}");

    public static string Compact(object value) => JsonSerializer.Serialize(value);
}
