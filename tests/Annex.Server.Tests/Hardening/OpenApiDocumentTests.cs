using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Hardening;

/// <summary>The OpenAPI document (<c>/openapi/v1.json</c>, rendered at <c>/reference</c>) describes every body:
/// each operation that takes one has its request schema, and each answers with a schema for its success status
/// and for its error statuses, in DRF's shapes (400: field errors; other errors: <c>{"detail": string}</c>).</summary>
public sealed class OpenApiDocumentTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    /// <summary>Writes that take no body.</summary>
    private static readonly string[] OperationsWithoutBody =
    [
        "POST /api/v1/exports/{uid}/abort",
        "POST /api/v1/webhooks/{uid}/test",
    ];

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options"];

    private async Task<JsonNode> DocumentAsync()
    {
        using var client = fixture.Factory.CreateClientWithKey(null);
        return JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
    }

    [Fact]
    public async Task Every_operation_describes_its_request_body_and_each_answer_with_a_schema()
    {
        var document = await DocumentAsync();
        var schemas = document["components"]!["schemas"]!.AsObject();
        var problems = new List<string>();
        var checkedOperations = 0;
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var method in Methods.Where(m => item![m] is not null))
            {
                checkedOperations++;
                var operation = item![method]!;
                var name = $"{method.ToUpperInvariant()} {path}";
                CheckRequestBody(name, method, operation, schemas, problems);
                CheckResponses(name, operation, schemas, problems);
            }
        }

        Assert.True(checkedOperations >= 15, $"only {checkedOperations} operations were checked");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public async Task The_error_schemas_have_drf_shapes()
    {
        var schemas = (await DocumentAsync())["components"]!["schemas"]!;

        var detail = schemas["ErrorDetail"]!;
        Assert.Equal("object", detail["type"]!.GetValue<string>());
        Assert.Equal("string", detail["properties"]!["detail"]!["type"]!.GetValue<string>());
        Assert.Contains("detail", detail["required"]!.AsArray().Select(r => r!.GetValue<string>()));

        // {"field": ["message", ...]}, nested for list elements and sub-fields: a map, not fixed properties.
        var validation = schemas["ValidationErrors"]!;
        Assert.Equal("object", validation["type"]!.GetValue<string>());
        Assert.Null(validation["properties"]);
        var messages = validation["additionalProperties"]!["anyOf"]!.AsArray();
        Assert.Contains(messages, m => m!["type"]!.GetValue<string>() == "array" && m["items"]!["type"]!.GetValue<string>() == "string");
        Assert.Contains(messages, m => m!["type"]!.GetValue<string>() == "object");
    }

    [Fact]
    public async Task Every_endpoint_of_the_api_is_in_the_document()
    {
        var paths = (await DocumentAsync())["paths"]!.AsObject();
        var missing = EndpointCatalog.ApiEndpoints(fixture.Factory.Services)
            .Where(e => paths[e.Template]?[e.Method.ToLowerInvariant()] is null)
            .Select(e => e.ToString())
            .ToList();
        Assert.True(missing.Count == 0, "not in the OpenAPI document: " + string.Join(", ", missing));
        Assert.NotNull(paths["/healthz"]?["get"]);
        Assert.NotNull(paths["/readyz"]?["get"]);
    }

    /// <summary>A documented body is not a routing rule: a request with another Content-Type still reaches the
    /// handler and gets its DRF answer, never a bare 415.</summary>
    [Fact]
    public async Task Documenting_a_body_leaves_requests_with_other_content_types_to_the_handler()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];

        using var export = await tenant.Http.PostAsync("/api/v1/exports/", new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, export.StatusCode);
        Assert.NotNull(JsonNode.Parse(await export.Content.ReadAsStringAsync())!["name"]);

        using var key = await tenant.Http.PostAsync("/api/v1/api-keys/", new StringContent("name=k", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, key.StatusCode);

        var bytes = new ByteArrayContent([1, 2, 3]);
        bytes.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var media = await tenant.Http.PutAsync($"/api/v1/datasets/{dataset}/items/{item}/media/", bytes);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, media.StatusCode);
        Api.AssertJson("""{"file": ["No file was submitted. Check the encoding type on the form."]}""", JsonNode.Parse(await media.Content.ReadAsStringAsync()));
    }

    private static void CheckRequestBody(string name, string method, JsonNode operation, JsonObject schemas, List<string> problems)
    {
        if (method is not ("post" or "put" or "patch") || OperationsWithoutBody.Contains(name))
        {
            return;
        }

        var content = operation["requestBody"]?["content"]?.AsObject();
        if (content is null || content.Count == 0)
        {
            problems.Add($"{name}: no request body");
            return;
        }

        foreach (var (mediaType, body) in content)
        {
            var schema = Resolve(body?["schema"], schemas);
            if (schema?["properties"] is not JsonObject { Count: > 0 })
            {
                problems.Add($"{name}: the {mediaType} request body has no schema with properties");
            }
        }
    }

    private static void CheckResponses(string name, JsonNode operation, JsonObject schemas, List<string> problems)
    {
        var responses = operation["responses"]?.AsObject() ?? [];
        if (!responses.Any(r => r.Key.StartsWith('2')))
        {
            problems.Add($"{name}: no success status");
        }

        foreach (var (status, response) in responses)
        {
            // HTTP forbids a body on these two.
            if (status is "204" or "304")
            {
                continue;
            }

            var content = response?["content"]?.AsObject();
            if (content is null || content.Count == 0)
            {
                problems.Add($"{name}: {status} has no body schema");
                continue;
            }

            foreach (var (mediaType, body) in content)
            {
                var reference = body?["schema"]?["$ref"]?.GetValue<string>();
                var expected = status switch
                {
                    "400" => "#/components/schemas/ValidationErrors",
                    _ when status.StartsWith('4') => "#/components/schemas/ErrorDetail",
                    _ => null,
                };
                if (expected is not null && reference != expected)
                {
                    problems.Add($"{name}: {status} {mediaType} is {reference ?? "inline"}, not {expected}");
                }
                else if (Resolve(body?["schema"], schemas) is not JsonObject { Count: > 0 })
                {
                    problems.Add($"{name}: {status} {mediaType} has an empty schema");
                }
            }
        }
    }

    private static JsonNode? Resolve(JsonNode? schema, JsonObject schemas) =>
        schema?["$ref"]?.GetValue<string>() is { } reference
            ? schemas[reference["#/components/schemas/".Length..]]
            : schema;
}
