using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>POST/GET /api/v1/projects/: the label taxonomy and its validation.</summary>
public sealed class ProjectsTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private const string Taxonomy = """
        [
          {"name": "car", "color": "#FF0000", "attributes": [{"name": "occluded", "type": "boolean"}, {"name": "make", "values": ["vw", "bmw"]}]},
          {"name": "person", "color": "#00FF00", "keypoints": ["head", "left_hand", "right_hand"], "skeleton": [[1, 2], [1, 3]]},
          {"name": "sign", "color": "#0000FF"}
        ]
        """;

    [Fact]
    public async Task Create_is_201_with_the_project_shape_and_the_taxonomy_in_order()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var created = await tenant.Http.PostOkAsync("/api/v1/projects/", $$"""{"name": " Detection ", "labels": {{Taxonomy}}}""");

        Shape.HasFields(created, "uid", "name", "status", "labels", "created_at", "updated_at");
        var uid = Shape.Uid(created["uid"]);
        Assert.Equal("Detection", created["name"]!.GetValue<string>());
        Assert.Equal("active", created["status"]!.GetValue<string>());
        Assert.Equal(Shape.Timestamp(created["created_at"]), Shape.Timestamp(created["updated_at"]));
        Api.AssertJson(Taxonomy, created["labels"]);
        Assert.Equal(["car", "person", "sign"], created["labels"]!.AsArray().Select(l => l!["name"]!.GetValue<string>()));

        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/projects/{uid}/"));
        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/projects/{uid}"));
        var list = await tenant.Http.GetOkAsync("/api/v1/projects");
        Api.AssertJson($"[{created.ToJsonString()}]", list["results"]);
    }

    [Fact]
    public async Task Skeleton_edges_may_use_the_last_keypoint_number()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var created = await tenant.Http.PostOkAsync("/api/v1/projects/", """{"name": "Pose", "labels": [{"name": "p", "color": "#123abc", "keypoints": ["a", "b", "c"], "skeleton": [[3, 1], [2, 3]]}]}""");
        Api.AssertJson("[[3, 1], [2, 3]]", created["labels"]![0]!["skeleton"]);
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { "{}", """{"name": ["This field is required."], "labels": ["This field is required."]}""" },
        { """{"name": "", "labels": []}""", """{"name": ["This field may not be blank."]}""" },
        { """{"name": "P", "labels": "car"}""", """{"labels": ["Expected a list of items but got type \"str\"."]}""" },
        { """{"name": "P", "labels": {"name": "car"}}""", """{"labels": ["Expected a list of items but got type \"dict\"."]}""" },
        { """{"name": "P", "labels": ["car"]}""", """{"labels": {"0": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}}}""" },
        { """{"name": "P", "labels": [{"color": "#FF0000"}]}""", """{"labels": {"0": {"name": ["This field is required."]}}}""" },
        { """{"name": "P", "labels": [{"name": " ", "color": "#FF0000"}]}""", """{"labels": {"0": {"name": ["This field may not be blank."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car"}]}""", """{"labels": {"0": {"color": ["This field is required."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": null}]}""", """{"labels": {"0": {"color": ["This field may not be null."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": "#FF0000"}, {"name": "truck", "color": "#00FF00"}, {"name": "car", "color": "#0000FF"}]}""", """{"labels": {"2": {"name": ["Label \"car\" appears more than once; names are unique in a project."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": "#FF0000"}, {"name": "bus", "color": "red"}]}""", """{"labels": {"1": {"color": ["Enter a color as #RRGGBB."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": "#FF00"}]}""", """{"labels": {"0": {"color": ["Enter a color as #RRGGBB."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": "FF0000"}]}""", """{"labels": {"0": {"color": ["Enter a color as #RRGGBB."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": "#GG0000"}]}""", """{"labels": {"0": {"color": ["Enter a color as #RRGGBB."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": "#FF000000"}]}""", """{"labels": {"0": {"color": ["Enter a color as #RRGGBB."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": "#FF0000", "attributes": {"name": "occluded"}}]}""", """{"labels": {"0": {"attributes": ["Expected a list of attribute definitions, each an object with a \"name\"."]}}}""" },
        { """{"name": "P", "labels": [{"name": "car", "color": "#FF0000", "attributes": [{"values": [1]}]}]}""", """{"labels": {"0": {"attributes": ["Expected a list of attribute definitions, each an object with a \"name\"."]}}}""" },
        { """{"name": "P", "labels": [{"name": "p", "color": "#FF0000", "keypoints": []}]}""", """{"labels": {"0": {"keypoints": ["Expected a non-empty list of distinct keypoint names."]}}}""" },
        { """{"name": "P", "labels": [{"name": "p", "color": "#FF0000", "keypoints": ["a", "a"]}]}""", """{"labels": {"0": {"keypoints": ["Expected a non-empty list of distinct keypoint names."]}}}""" },
        { """{"name": "P", "labels": [{"name": "p", "color": "#FF0000", "keypoints": ["a", 2]}]}""", """{"labels": {"0": {"keypoints": ["Expected a non-empty list of distinct keypoint names."]}}}""" },
        { """{"name": "P", "labels": [{"name": "p", "color": "#FF0000", "skeleton": [[1, 2]]}]}""", """{"labels": {"0": {"skeleton": ["A skeleton needs keypoints."]}}}""" },
        { """{"name": "P", "labels": [{"name": "p", "color": "#FF0000", "keypoints": ["a", "b", "c"], "skeleton": [[0, 1]]}]}""", """{"labels": {"0": {"skeleton": ["Expected a list of [a, b] edges between keypoint numbers 1 to 3 (1-based, as COCO numbers them)."]}}}""" },
        { """{"name": "P", "labels": [{"name": "p", "color": "#FF0000", "keypoints": ["a", "b", "c"], "skeleton": [[1, 4]]}]}""", """{"labels": {"0": {"skeleton": ["Expected a list of [a, b] edges between keypoint numbers 1 to 3 (1-based, as COCO numbers them)."]}}}""" },
        { """{"name": "P", "labels": [{"name": "p", "color": "#FF0000", "keypoints": ["a", "b", "c"], "skeleton": [[1, 2, 3]]}]}""", """{"labels": {"0": {"skeleton": ["Expected a list of [a, b] edges between keypoint numbers 1 to 3 (1-based, as COCO numbers them)."]}}}""" },
        { """{"name": "P", "labels": [{"name": "p", "color": "#FF0000", "keypoints": ["a", "b", "c"], "skeleton": [["a", "b"]]}]}""", """{"labels": {"0": {"skeleton": ["Expected a list of [a, b] edges between keypoint numbers 1 to 3 (1-based, as COCO numbers them)."]}}}""" },
        {
            """{"name": "P", "labels": [{"name": "ok", "color": "#FF0000"}, {"color": "blue"}, {"name": "ok", "color": "#00FF00"}]}""",
            """{"labels": {"1": {"name": ["This field is required."], "color": ["Enter a color as #RRGGBB."]}, "2": {"name": ["Label \"ok\" appears more than once; names are unique in a project."]}}}"""
        },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_bodies_are_400_with_errors_under_the_label_and_create_nothing(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        await tenant.Http.PostRejectedAsync("/api/v1/projects/", body, expected);

        var list = await tenant.Http.GetOkAsync("/api/v1/projects/");
        Api.AssertJson("[]", list["results"]);
    }

    [Fact]
    public async Task The_key_owners_projects_under_users_me_are_the_organizations_projects()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var created = await tenant.Http.PostOkAsync("/api/v1/projects/", $$"""{"name": "Mine", "labels": {{Taxonomy}}}""");
        var uid = created["uid"]!.GetValue<string>();

        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/users/me/projects/{uid}/"));
        var list = await tenant.Http.GetOkAsync("/api/v1/users/me/projects/?limit=10");
        Api.AssertJson($"[{created.ToJsonString()}]", list["results"]);
        Assert.Null(list["next"]);

        var (status, body) = await other.Http.GetJsonAsync($"/api/v1/users/me/projects/{uid}/");
        Shape.IsNotFound(status, body);
        Api.AssertJson("[]", (await other.Http.GetOkAsync("/api/v1/users/me/projects/"))["results"]);
    }

    [Theory]
    [InlineData("/api/v1/users/me/projects/not-a-uuid/")]
    [InlineData("/api/v1/projects/0190a5c4-0000-7000-8000-000000000000/")]
    [InlineData("/api/v1/projects/not-a-uuid/")]
    [InlineData("/api/v1/projects/0190a5c4-0000-7000-8000-000000000000/results/")]
    [InlineData("/api/v1/projects/not-a-uuid/results/")]
    public async Task Unknown_or_malformed_uids_are_404(string url)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, body) = await tenant.Http.GetJsonAsync(url);
        Shape.IsNotFound(status, body);
    }
}
