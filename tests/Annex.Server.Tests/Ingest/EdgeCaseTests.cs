using System.Net;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>Races between clients and the corners of DRF's error rules.</summary>
public sealed class EdgeCaseTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Parallel_creates_of_the_same_ref_id_give_one_201_and_clear_400s_never_500()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => tenant.Http.PostJsonAsync($"/api/v1/datasets/{dataset}/items/", """[{"ref_id": "race"}]""")));

        Assert.Single(answers, a => a.Status == HttpStatusCode.Created);
        foreach (var (status, body) in answers.Where(a => a.Status != HttpStatusCode.Created))
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Api.AssertJson("""{"items": {"0": {"ref_id": ["An item with ref_id \"race\" already exists in this dataset."]}}}""", body);
        }

        var stored = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/");
        Assert.Equal(1, stored["item_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Parallel_upserts_of_a_new_result_all_succeed()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        var body = $$"""[{"dataset_item_uid": "{{item}}", "annotations": []}]""";
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => tenant.Http.PostJsonAsync($"/api/v1/projects/{project}/results/", body)));

        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)a.Status} {a.Body?.ToJsonString()}"));
        var results = await tenant.Http.GetOkAsync($"/api/v1/projects/{project}/results/");
        Assert.Single(results["results"]!.AsArray());
    }

    public static TheoryData<string, string, string> NullsAndNestedErrors => new()
    {
        { "items", """{"items": null}""", """{"items": ["This field may not be null."]}""" },
        { "project", """{"name": "x", "labels": null}""", """{"labels": ["This field may not be null."]}""" },
        { "results", """{"results": null}""", """{"results": ["This field may not be null."]}""" },
        { "results", """[{"dataset_item_uid": null, "annotations": []}]""", """{"results": {"0": {"dataset_item_uid": ["This field may not be null."]}}}""" },
        { "results", """[{"dataset_item_uid": "ITEM", "annotations": null}]""", """{"results": {"0": {"annotations": ["This field may not be null."]}}}""" },
        { "results", """[{"dataset_item_uid": "ITEM", "annotations": [null]}]""", """{"results": {"0": {"annotations": {"0": {"non_field_errors": ["This field may not be null."]}}}}}""" },
        { "results", """[{"dataset_item_uid": "ITEM", "annotations": [{"label": "car", "type": "polygon", "coordinates": {"vertices": [[0, 0], [1]]}, "attributes": {}}]}]""", """{"results": {"0": {"annotations": {"0": {"coordinates": {"vertices": {"1": ["Expected a pair of numbers [x, y]."]}}}}}}}""" },
        { "results", """[{"dataset_item_uid": "ITEM", "annotations": [{"label": "car", "type": "classification", "coordinates": null, "attributes": {"a": 1, "a": 2}}]}]""", """{"results": {"0": {"annotations": ["The key \"a\" appears twice in one object; send each key once."]}}}""" },
        { "items", """{"items": [{"ref_id": "dup", "metadata": {"a": 1, "a": 2}}]}""", """{"items": {"0": {"metadata": ["The key \"a\" appears twice in one object; send each key once."]}}}""" },
    };

    [Theory]
    [MemberData(nameof(NullsAndNestedErrors))]
    public async Task Nulls_duplicates_and_nested_errors_follow_drf(string endpoint, string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        var url = endpoint switch
        {
            "items" => $"/api/v1/datasets/{dataset}/items/",
            "project" => "/api/v1/projects/",
            _ => $"/api/v1/projects/{project}/results/",
        };
        var (status, json) = await tenant.Http.PostJsonAsync(url, body.Replace("ITEM", item, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson(expected, json);
    }

    [Theory]
    [InlineData("/api/v1/datasets/")]
    [InlineData("/api/v1/exports/")]
    public async Task A_cursor_without_a_position_is_invalid(string url)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, body) = await tenant.Http.GetJsonAsync(url + "?cursor=e30");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"detail": "Invalid cursor"}""", body);
    }

    [Theory]
    [InlineData("/api/v1/exports/", """{"name": "x\ud83d", "format": "avala-json-external", "datasets": [], "projects": [], "slices": []}""")]
    [InlineData("/api/v1/datasets/", """{"name": "ok", "\udc00": 1}""")]
    [InlineData("/api/v1/projects/", """{"name": "p", "labels": [{"name": "\ud800", "color": "#FF0000"}]}""")]
    public async Task Unpaired_surrogate_escapes_are_a_400_not_a_500(string url, string body)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, json) = await tenant.Http.PostJsonAsync(url, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("JSON parse error - ", json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_null_character_in_a_body_or_a_url_is_a_400_that_says_so()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, body) = await tenant.Http.PostJsonAsync("/api/v1/datasets/", """{"name": "a\u0000b"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"detail": "JSON parse error - Null characters are not allowed (a string holds \\u0000)."}""", body);

        (status, body) = await tenant.Http.GetJsonAsync("/api/v1/exports/?cursor=a%00b");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"detail": "Null characters are not allowed in the URL."}""", body);

        var datasets = await tenant.Http.GetOkAsync("/api/v1/datasets/");
        Assert.Empty(datasets["results"]!.AsArray());
    }
}
