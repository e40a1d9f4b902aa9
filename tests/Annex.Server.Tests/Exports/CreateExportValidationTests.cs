using System.Net;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>POST /api/v1/exports/ answers malformed bodies with DRF's exact shapes and wording.</summary>
public sealed class CreateExportValidationTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private const string Uid = "550e8400-e29b-41d4-a716-446655440000";

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { "{}", """{"name": ["This field is required."], "format": ["This field is required."], "datasets": ["This field is required."], "projects": ["This field is required."], "slices": ["This field is required."]}""" },
        { """{"name": "x", "format": "invalid", "datasets": [], "projects": [], "slices": []}""", """{"format": ["\"invalid\" is not a valid choice."]}""" },
        { """{"format": "invalid", "datasets": [], "projects": [], "slices": []}""", """{"name": ["This field is required."], "format": ["\"invalid\" is not a valid choice."]}""" },
        { """{"name": "   ", "format": "avala-json-external", "datasets": [], "projects": [], "slices": []}""", """{"name": ["This field may not be blank."]}""" },
        { """{"name": "", "format": "avala-json-external", "datasets": [], "projects": [], "slices": []}""", """{"name": ["This field may not be blank."]}""" },
        { $$"""{"name": "{{new string('n', 256)}}", "format": "avala-json-external", "datasets": [], "projects": [], "slices": []}""", """{"name": ["Ensure this field has no more than 255 characters."]}""" },
        { """{"name": null, "format": null, "datasets": null, "projects": [], "slices": []}""", """{"name": ["This field may not be null."], "format": ["This field may not be null."], "datasets": ["This field may not be null."]}""" },
        { """{"name": ["x"], "format": "avala-json-external", "datasets": [], "projects": [], "slices": []}""", """{"name": ["Not a valid string."]}""" },
        { """{"name": "x", "format": "YOLOv8", "datasets": [], "projects": [], "slices": []}""", """{"format": ["\"YOLOv8\" is not a valid choice."]}""" },
        { """{"name": "x", "format": "avala-json-external", "datasets": ["not-a-uuid", "550e8400-e29b-41d4-a716-446655440000", 7], "projects": [], "slices": []}""", """{"datasets": {"0": ["Must be a valid UUID."], "2": ["Must be a valid UUID."]}}""" },
        { """{"name": "x", "format": "avala-json-external", "datasets": "550e8400-e29b-41d4-a716-446655440000", "projects": {}, "slices": 3}""", """{"datasets": ["Expected a list of items but got type \"str\"."], "projects": ["Expected a list of items but got type \"dict\"."], "slices": ["Expected a list of items but got type \"int\"."]}""" },
        { """{"name": "x", "format": "avala-json-external", "datasets": [], "projects": [], "slices": []}""", """{"non_field_errors": ["Name at least one dataset, project or slice to export."]}""" },
        { """{"name": "x", "format": "avala-json-external", "dataset": "nope"}""", """{"dataset": ["Must be a valid UUID."]}""" },
        { """{"name": "x", "format": "avala-json-external", "filter_query_string": true, "datasets": [], "projects": [], "slices": []}""", """{"filter_query_string": ["Not a valid string."]}""" },
        { """{"dataset": "nope"}""", """{"dataset": ["Must be a valid UUID."]}""" },
        { """{"project": null}""", """{"non_field_errors": ["Name at least one dataset, project or slice to export."]}""" },
        { """{"dataset": "550e8400-e29b-41d4-a716-446655440000", "projects": []}""", """{"name": ["This field is required."], "format": ["This field is required."]}""" },
        { """{"dataset": "550e8400-e29b-41d4-a716-446655440000", "format": "invalid"}""", """{"format": ["\"invalid\" is not a valid choice."]}""" },
        { """{"dataset": "550e8400-e29b-41d4-a716-446655440000", "name": ""}""", """{"name": ["This field may not be blank."]}""" },
        { "[]", """{"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}""" },
        { "\"text\"", """{"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}""" },
        { "12", """{"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}""" },
        { "null", """{"non_field_errors": ["Invalid data. Expected a dictionary, but got NoneType."]}""" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_bodies_are_400_with_field_errors(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, json) = await tenant.Http.PostJsonAsync("/api/v1/exports/", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson(expected, json);
    }

    [Theory]
    [InlineData("{\"name\": ")]
    [InlineData("not json")]
    [InlineData("{'name': 'x'}")]
    public async Task A_body_that_is_not_json_is_400_with_detail(string body)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, json) = await tenant.Http.PostJsonAsync("/api/v1/exports/", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("JSON parse error - ", json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(json.AsObject());
    }

    [Fact]
    public async Task Name_is_trimmed()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var created = await tenant.Http.PostOkAsync("/api/v1/exports/", new { name = "  Nightly  ", format = "avala-json-external", datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>() });
        Assert.Equal("Nightly", created["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_sdk_form_with_only_a_singular_key_needs_no_name_or_format()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http, name: "Night drive");
        var project = await Seed.ProjectAsync(tenant.Http);
        var created = await tenant.Http.PostOkAsync("/api/v1/exports/", new { dataset });
        Assert.Equal("avala-json-external", created["format"]!.GetValue<string>());
        Assert.Matches(@"^Night drive \d{4}-\d\d-\d\d \d\d:\d\d UTC$", created["name"]!.GetValue<string>());
        Api.AssertJson($"[\"{dataset}\"]", created["datasets"]);

        var byProject = await tenant.Http.PostOkAsync("/api/v1/exports/", new { project, format = "COCO" });
        Assert.Equal("COCO", byProject["format"]!.GetValue<string>());
        Assert.StartsWith("Detection ", byProject["name"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Singular_keys_join_their_lists_and_missing_lists_count_as_empty()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var created = await tenant.Http.PostOkAsync("/api/v1/exports/", new { name = "single", format = "avala-json-external", dataset, project });
        Api.AssertJson($"[\"{dataset}\"]", created["datasets"]);
        Api.AssertJson($"[\"{project}\"]", created["projects"]);
        Api.AssertJson("[]", created["slices"]);

        var both = await tenant.Http.PostOkAsync("/api/v1/exports/", new { name = "both", format = "avala-json-external", dataset, datasets = new[] { dataset }, projects = new[] { project } });
        Api.AssertJson($"[\"{dataset}\"]", both["datasets"]);
    }

    [Fact]
    public async Task Unknown_references_are_404_and_another_organizations_are_403()
    {
        var owner = await fixture.Factory.CreateTenantAsync("Owner");
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var dataset = await Seed.DatasetAsync(owner.Http);
        var project = await Seed.ProjectAsync(owner.Http);

        var (missing, missingBody) = await other.Http.PostJsonAsync("/api/v1/exports/", new { name = "x", format = "avala-json-external", datasets = new[] { Uid }, projects = Array.Empty<string>(), slices = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Api.AssertJson("""{"detail": "Not found."}""", missingBody);

        foreach (var body in new object[]
        {
            new { name = "x", format = "avala-json-external", datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>() },
            new { name = "x", format = "avala-json-external", datasets = Array.Empty<string>(), projects = new[] { project }, slices = Array.Empty<string>() },
        })
        {
            var (status, json) = await other.Http.PostJsonAsync("/api/v1/exports/", body);
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Api.AssertJson("""{"detail": "You do not have permission to perform this action."}""", json);
        }

        var (listStatus, list) = await other.Http.GetJsonAsync("/api/v1/exports/");
        Assert.Equal(HttpStatusCode.OK, listStatus);
        Assert.Empty(list!["results"]!.AsArray());
    }
}
