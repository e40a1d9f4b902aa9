using System.Net;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>Bodies that are not JSON, or not the JSON type an endpoint needs, on every ingest write.</summary>
public sealed class RequestBodyTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    public static TheoryData<string, string> NotJson => new()
    {
        { "datasets", "{\"name\": " },
        { "datasets", "name=Highway" },
        { "projects", "{'name': 'x', 'labels': []}" },
        { "slices", "{\"name\": \"x\", \"items\": []} trailing" },
        { "items", "[{\"ref_id\": \"a\"},]" },
        { "results", "{\"results\": [" },
    };

    [Theory]
    [MemberData(nameof(NotJson))]
    public async Task A_body_that_is_not_json_is_400_with_a_parse_error_detail(string endpoint, string body)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var url = await UrlAsync(tenant.Http, endpoint);

        var (status, json) = await tenant.Http.PostJsonAsync(url, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Shape.HasFields(json, "detail");
        Assert.StartsWith("JSON parse error - ", json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> NotAnObject => new()
    {
        { "datasets", "[]", "list" },
        { "datasets", "[{\"name\": \"x\"}]", "list" },
        { "datasets", "\"Highway\"", "str" },
        { "datasets", "12", "int" },
        { "datasets", "1.5", "float" },
        { "datasets", "true", "bool" },
        { "datasets", "null", "NoneType" },
        { "projects", "[]", "list" },
        { "projects", "\"x\"", "str" },
        { "slices", "[]", "list" },
        { "slices", "12", "int" },
        { "items", "\"a\"", "str" },
        { "items", "12", "int" },
        { "results", "false", "bool" },
        { "results", "null", "NoneType" },
    };

    [Theory]
    [MemberData(nameof(NotAnObject))]
    public async Task Json_that_is_not_an_object_is_400_with_non_field_errors(string endpoint, string body, string type)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var url = await UrlAsync(tenant.Http, endpoint);

        await tenant.Http.PostRejectedAsync(url, body, $$"""{"non_field_errors": ["Invalid data. Expected a dictionary, but got {{type}}."]}""");
    }

    [Theory]
    [InlineData("datasets", "", """{"name": ["This field is required."]}""")]
    [InlineData("projects", "  ", """{"name": ["This field is required."], "labels": ["This field is required."]}""")]
    [InlineData("slices", "", """{"name": ["This field is required."], "items": ["This field is required."]}""")]
    [InlineData("items", "\n", """{"items": ["This field is required."]}""")]
    [InlineData("results", "", """{"results": ["This field is required."]}""")]
    public async Task An_empty_body_reads_as_an_empty_object(string endpoint, string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var url = await UrlAsync(tenant.Http, endpoint);
        await tenant.Http.PostRejectedAsync(url, body, expected);
    }

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var created = await tenant.Http.PostOkAsync("/api/v1/datasets/", """{"name": "Highway", "uid": "0190a5c4-0000-7000-8000-000000000001", "item_count": 99}""");
        Assert.NotEqual("0190a5c4-0000-7000-8000-000000000001", created["uid"]!.GetValue<string>());
        Assert.Equal(0, created["item_count"]!.GetValue<long>());
    }

    private static async Task<string> UrlAsync(HttpClient client, string endpoint) => endpoint switch
    {
        "items" => $"/api/v1/datasets/{await Seed.DatasetAsync(client)}/items/",
        "results" => $"/api/v1/projects/{await Seed.ProjectAsync(client)}/results/",
        _ => $"/api/v1/{endpoint}/",
    };
}
