using System.Net;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>POST/GET /api/v1/projects/{uid}/results/: upserts, canonical annotations, nested errors, all-or-nothing.</summary>
public sealed class ResultsTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    /// <summary>The seed's bounding box exactly as the server stores and returns it.</summary>
    private const string CanonicalBox = """{"label":"car","type":"bounding_box","coordinates":{"x":100,"y":200,"width":150,"height":80},"attributes":{"occluded":false,"truncated":false}}""";

    private const string ValidBox = """{"label": "car", "type": "bounding_box", "coordinates": {"x": 1, "y": 2, "width": 3, "height": 4}}""";

    [Fact]
    public async Task A_submitted_bounding_box_is_stored_in_canonical_form()
    {
        var (client, project, items) = await SetUpAsync(1);

        // Keys shuffled, integers written as floats, an explicit null rotation and fields the format does not know.
        var submitted = $$"""
            {"results": [{"dataset_item_uid": "{{items[0].ToUpperInvariant()}}", "annotations": [
              {"attributes": {"occluded": false, "truncated": false}, "id": "client-side-id",
               "coordinates": {"height": 80.0, "width": 150, "y": 200.00, "x": 1.0e2, "rotation": null, "z": 5},
               "type": "bounding_box", "label": "car"}
            ]}]}
            """;
        var upserted = await client.PostOkAsync($"/api/v1/projects/{project}/results/", submitted);
        Assert.Equal(CanonicalBox, upserted["results"]![0]!["annotations"]![0]!.ToJsonString());

        var listed = await client.GetOkAsync($"/api/v1/projects/{project}/results/?dataset_item={items[0]}");
        var annotation = listed["results"]![0]!["annotations"]![0];
        Api.AssertJson(CanonicalBox, annotation);
        Assert.Equal(CanonicalBox, annotation!.ToJsonString());
    }

    public static TheoryData<string, string> ValidAnnotations => new()
    {
        // Attributes default to an empty object; a rotation, when given, is kept.
        { """{"label": "car", "type": "bounding_box", "coordinates": {"x": 0, "y": -5.5, "width": 0.25, "height": 1e3, "rotation": 12.5}}""", """{"label":"car","type":"bounding_box","coordinates":{"x":0,"y":-5.5,"width":0.25,"height":1000,"rotation":12.5},"attributes":{}}""" },
        { """{"label": "car", "type": "polygon", "coordinates": {"vertices": [[0, 0], [10, 0], [10.5, 7]]}, "attributes": {"a": [1, {"b": null}]}}""", """{"label":"car","type":"polygon","coordinates":{"vertices":[[0,0],[10,0],[10.5,7]]},"attributes":{"a":[1,{"b":null}]}}""" },
        { """{"label": "truck", "type": "polyline", "coordinates": {"vertices": [[1, 2], [3, 4]]}, "attributes": null}""", """{"label":"truck","type":"polyline","coordinates":{"vertices":[[1,2],[3,4]]},"attributes":{}}""" },
        { """{"label": "pedestrian", "type": "keypoints", "coordinates": {"points": [{"x": 1, "y": 2, "label": "head", "visible": true}, {"y": 4.0, "x": 3}]}}""", """{"label":"pedestrian","type":"keypoints","coordinates":{"points":[{"x":1,"y":2,"label":"head","visible":true},{"x":3,"y":4}]},"attributes":{}}""" },
        { """{"label": "car", "type": "classification", "coordinates": null, "attributes": {"weather": "rain"}}""", """{"label":"car","type":"classification","coordinates":null,"attributes":{"weather":"rain"}}""" },
        { """{"label": "car", "type": "classification"}""", """{"label":"car","type":"classification","coordinates":null,"attributes":{}}""" },
        { """{"label": "car", "type": "cuboid", "coordinates": {"center": {"x": 1, "y": 2, "z": -3}, "dimensions": {"length": 4.5, "width": 2, "height": 1.5}, "rotation": {"yaw": 0.1, "pitch": 0, "roll": -0.2}}}""", """{"label":"car","type":"cuboid","coordinates":{"center":{"x":1,"y":2,"z":-3},"dimensions":{"length":4.5,"width":2,"height":1.5},"rotation":{"yaw":0.1,"pitch":0,"roll":-0.2}},"attributes":{}}""" },
        { """{"label": "car", "type": "cuboid", "coordinates": {"center": {"x": 1, "y": 2, "z": 3}, "dimensions": {"length": 4, "width": 2, "height": 1}}}""", """{"label":"car","type":"cuboid","coordinates":{"center":{"x":1,"y":2,"z":3},"dimensions":{"length":4,"width":2,"height":1},"rotation":{"yaw":0,"pitch":0,"roll":0}},"attributes":{}}""" },
    };

    [Theory]
    [MemberData(nameof(ValidAnnotations))]
    public async Task Every_annotation_type_is_accepted_and_returned_canonically(string annotation, string canonical)
    {
        var (client, project, items) = await SetUpAsync(1);
        await client.PostOkAsync($"/api/v1/projects/{project}/results/", $$"""[{"dataset_item_uid": "{{items[0]}}", "annotations": [{{annotation}}]}]""");

        var listed = await client.GetOkAsync($"/api/v1/projects/{project}/results/?dataset_item={items[0]}");
        Assert.Equal($"[{canonical}]", listed["results"]![0]!["annotations"]!.ToJsonString());
    }

    [Fact]
    public async Task Create_is_201_with_the_result_shape()
    {
        var (client, project, items) = await SetUpAsync(2);
        var upserted = await client.PostOkAsync($"/api/v1/projects/{project}/results/", $$"""
            {"results": [
              {"dataset_item_uid": "{{items[0]}}", "annotations": [{{ValidBox}}, {"label": "truck", "type": "classification"}]},
              {"dataset_item_uid": "{{items[1]}}", "annotations": []}
            ]}
            """);

        Shape.HasFields(upserted, "created", "updated", "results", "skipped");
        Assert.Equal(2, upserted["created"]!.GetValue<int>());
        Assert.Equal(0, upserted["updated"]!.GetValue<int>());
        var results = upserted["results"]!.AsArray();
        Assert.Equal(items, results.Select(r => r!["dataset_item_uid"]!.GetValue<string>()));
        Assert.Equal([2, 0], results.Select(r => r!["annotation_count"]!.GetValue<int>()));
        foreach (var result in results)
        {
            Shape.HasFields(result, "uid", "dataset_item_uid", "project_uid", "annotations", "annotation_count", "created_at", "updated_at");
            Shape.Uid(result!["uid"]);
            Shape.Uid(result["dataset_item_uid"]);
            Assert.Equal(project, Shape.Uid(result["project_uid"]));
            Assert.Equal(Shape.Timestamp(result["created_at"]), Shape.Timestamp(result["updated_at"]));
        }

        var listed = await client.GetOkAsync($"/api/v1/projects/{project}/results/");
        Api.AssertJson(results.ToJsonString(), listed["results"]);
    }

    [Fact]
    public async Task Posting_the_same_items_again_updates_them_with_200()
    {
        var (client, project, items) = await SetUpAsync(1);
        var first = await client.PostOkAsync($"/api/v1/projects/{project}/results/", $$"""[{"dataset_item_uid": "{{items[0]}}", "annotations": [{{ValidBox}}]}]""");
        var before = first["results"]![0]!;

        var second = await client.PostOkAsync(
            $"/api/v1/projects/{project}/results/",
            $$"""[{"dataset_item_uid": "{{items[0]}}", "annotations": [{"label": "truck", "type": "classification"}, {"label": "car", "type": "classification"}]}]""",
            HttpStatusCode.OK);

        Assert.Equal(0, second["created"]!.GetValue<int>());
        Assert.Equal(1, second["updated"]!.GetValue<int>());
        var after = second["results"]![0]!;
        Assert.Equal(before["uid"]!.GetValue<string>(), after["uid"]!.GetValue<string>());
        Assert.Equal(before["created_at"]!.GetValue<string>(), after["created_at"]!.GetValue<string>());
        Assert.True(Shape.Timestamp(after["updated_at"]) >= Shape.Timestamp(before["updated_at"]));
        Assert.Equal(2, after["annotation_count"]!.GetValue<int>());

        // Replaced, not appended: the item still has one result, holding only the new annotations.
        var listed = await client.GetOkAsync($"/api/v1/projects/{project}/results/?dataset_item={items[0]}");
        var only = Assert.Single(listed["results"]!.AsArray());
        Api.AssertJson("""[{"label":"truck","type":"classification","coordinates":null,"attributes":{}},{"label":"car","type":"classification","coordinates":null,"attributes":{}}]""", only!["annotations"]);
    }

    [Fact]
    public async Task A_batch_that_creates_and_updates_is_201_and_counts_both()
    {
        var (client, project, items) = await SetUpAsync(3);
        await client.PostOkAsync($"/api/v1/projects/{project}/results/", $$"""[{"dataset_item_uid": "{{items[1]}}", "annotations": []}]""");

        var mixed = await client.PostOkAsync($"/api/v1/projects/{project}/results/", $$"""
            [{"dataset_item_uid": "{{items[0]}}", "annotations": []},
             {"dataset_item_uid": "{{items[1]}}", "annotations": [{{ValidBox}}]},
             {"dataset_item_uid": "{{items[2]}}", "annotations": []}]
            """);

        Assert.Equal(2, mixed["created"]!.GetValue<int>());
        Assert.Equal(1, mixed["updated"]!.GetValue<int>());
        var rows = await client.AllPagesAsync($"/api/v1/projects/{project}/results/");
        Assert.Equal(3, rows.Count);
    }

    public static TheoryData<string, string> InvalidAnnotations => new()
    {
        { """{"label": "car", "type": "bounding_box", "coordinates": {"x": 1, "y": 2, "width": 0, "height": 4}}""", """{"coordinates": {"width": ["Ensure this value is greater than 0."]}}""" },
        { """{"label": "car", "type": "bounding_box", "coordinates": {"x": 1, "y": 2, "width": -3, "height": -4}}""", """{"coordinates": {"width": ["Ensure this value is greater than 0."], "height": ["Ensure this value is greater than 0."]}}""" },
        { """{"label": "car", "type": "bounding_box", "coordinates": {"y": 2, "width": 3, "height": 4}}""", """{"coordinates": {"x": ["This field is required."]}}""" },
        { """{"label": "car", "type": "bounding_box", "coordinates": {"x": "1", "y": null, "width": 3, "height": 4}}""", """{"coordinates": {"x": ["A valid number is required."], "y": ["This field may not be null."]}}""" },
        { """{"label": "car", "type": "bounding_box", "coordinates": {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": "90"}}""", """{"coordinates": {"rotation": ["A valid number is required."]}}""" },
        { """{"label": "car", "type": "bounding_box"}""", """{"coordinates": ["This field is required."]}""" },
        { """{"label": "car", "type": "bounding_box", "coordinates": null}""", """{"coordinates": ["This field may not be null."]}""" },
        { """{"label": "car", "type": "bounding_box", "coordinates": [1, 2, 3, 4]}""", """{"coordinates": ["Expected a dictionary of items but got type \"list\"."]}""" },
        { """{"label": "car", "type": "polygon", "coordinates": {"vertices": [[0, 0], [1, 1]]}}""", """{"coordinates": {"vertices": ["Ensure this field has at least 3 elements."]}}""" },
        { """{"label": "car", "type": "polygon", "coordinates": {"vertices": [[0, 0], [1], [2, 2], [3, "3"]]}}""", """{"coordinates": {"vertices": {"1": ["Expected a pair of numbers [x, y]."], "3": ["Expected a pair of numbers [x, y]."]}}}""" },
        { """{"label": "car", "type": "polygon", "coordinates": {"vertices": {"0": [0, 0]}}}""", """{"coordinates": {"vertices": ["Expected a list of items but got type \"dict\"."]}}""" },
        { """{"label": "car", "type": "polygon", "coordinates": {}}""", """{"coordinates": {"vertices": ["This field is required."]}}""" },
        { """{"label": "car", "type": "polyline", "coordinates": {"vertices": [[0, 0]]}}""", """{"coordinates": {"vertices": ["Ensure this field has at least 2 elements."]}}""" },
        { """{"label": "car", "type": "keypoints", "coordinates": {"points": []}}""", """{"coordinates": {"points": ["Ensure this field has at least 1 elements."]}}""" },
        { """{"label": "car", "type": "keypoints", "coordinates": {"points": [{"x": 1, "y": 2}, {"x": 1, "visible": "yes", "label": 3}]}}""", """{"coordinates": {"points": {"1": {"y": ["This field is required."], "visible": ["Must be a valid boolean."], "label": ["Not a valid string."]}}}}""" },
        { """{"label": "car", "type": "keypoints", "coordinates": {"points": [[1, 2]]}}""", """{"coordinates": {"points": {"0": ["Expected a dictionary of items but got type \"list\"."]}}}""" },
        { """{"label": "car", "type": "classification", "coordinates": {}}""", """{"coordinates": ["A classification has no coordinates; send null."]}""" },
        { """{"label": "car", "type": "cuboid", "coordinates": {"dimensions": {"length": 0, "width": 1, "height": 1}}}""", """{"coordinates": {"center": ["This field is required."], "dimensions": {"length": ["Ensure this value is greater than 0."]}}}""" },
        { """{"label": "car", "type": "cuboid", "coordinates": {"center": {"x": 0, "y": 0}, "dimensions": {"length": 1, "width": 1, "height": 1}, "rotation": {"yaw": 0, "pitch": 0, "roll": "x"}}}""", """{"coordinates": {"center": {"z": ["This field is required."]}, "rotation": {"roll": ["A valid number is required."]}}}""" },
        { """{"label": "car", "type": "circle", "coordinates": {"x": 1}}""", """{"type": ["\"circle\" is not a valid choice."]}""" },
        { """{"label": "car", "type": "Bounding_Box", "coordinates": {"x": 1}}""", """{"type": ["\"Bounding_Box\" is not a valid choice."]}""" },
        { """{"label": "car", "coordinates": {"x": 1}}""", """{"type": ["This field is required."]}""" },
        { """{"label": "bicycle", "type": "classification"}""", """{"label": ["\"bicycle\" is not a label of this project."]}""" },
        { """{"label": "Car", "type": "classification"}""", """{"label": ["\"Car\" is not a label of this project."]}""" },
        { """{"type": "classification"}""", """{"label": ["This field is required."]}""" },
        { """{"label": "", "type": "classification"}""", """{"label": ["This field may not be blank."]}""" },
        { """{"label": 7, "type": "classification"}""", """{"label": ["Not a valid string."]}""" },
        { """{"label": "car", "type": "classification", "attributes": ["occluded"]}""", """{"attributes": ["Expected a dictionary of items but got type \"list\"."]}""" },
        { "\"car\"", """{"non_field_errors": ["Expected a dictionary of items but got type \"str\"."]}""" },
    };

    /// <summary>The bad annotation sits second in the second result, so the error must name both indexes,
    /// and the valid first result must not be written either.</summary>
    [Theory]
    [MemberData(nameof(InvalidAnnotations))]
    public async Task A_malformed_annotation_is_400_naming_result_annotation_and_field_and_writes_nothing(string annotation, string annotationErrors)
    {
        var (client, project, items) = await SetUpAsync(2);
        var body = $$"""
            {"results": [
              {"dataset_item_uid": "{{items[0]}}", "annotations": [{{ValidBox}}]},
              {"dataset_item_uid": "{{items[1]}}", "annotations": [{{ValidBox}}, {{annotation}}, {{ValidBox}}]}
            ]}
            """;

        await client.PostRejectedAsync($"/api/v1/projects/{project}/results/", body, """{"results": {"1": {"annotations": {"1": """ + annotationErrors + "}}}}");

        await AssertNoResultsAsync(client, project);
    }

    [Fact]
    public async Task A_failing_batch_leaves_existing_results_as_they_were()
    {
        var (client, project, items) = await SetUpAsync(2);
        await client.PostOkAsync($"/api/v1/projects/{project}/results/", $$"""[{"dataset_item_uid": "{{items[0]}}", "annotations": [{{ValidBox}}]}]""");
        var before = await client.GetOkAsync($"/api/v1/projects/{project}/results/");

        await client.PostRejectedAsync(
            $"/api/v1/projects/{project}/results/",
            $$"""
            [{"dataset_item_uid": "{{items[0]}}", "annotations": [{"label": "truck", "type": "classification"}]},
             {"dataset_item_uid": "{{items[1]}}", "annotations": [{"label": "tram", "type": "classification"}]}]
            """,
            """{"results": {"1": {"annotations": {"0": {"label": ["\"tram\" is not a label of this project."]}}}}}""");

        var after = await client.GetOkAsync($"/api/v1/projects/{project}/results/");
        Api.AssertJson(before.ToJsonString(), after);
    }

    public static TheoryData<string, string> InvalidResults => new()
    {
        { "{}", """{"results": ["This field is required."]}""" },
        { """{"results": []}""", """{"results": ["This list may not be empty."]}""" },
        { "[]", """{"results": ["This list may not be empty."]}""" },
        { """{"results": {"dataset_item_uid": "ITEM0"}}""", """{"results": ["Expected a list of items but got type \"dict\"."]}""" },
        { """[{"dataset_item_uid": "ITEM0", "annotations": []}, "ITEM1"]""", """{"results": {"1": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}}}""" },
        { """[{"dataset_item_uid": "ITEM0", "annotations": []}, {"annotations": []}]""", """{"results": {"1": {"dataset_item_uid": ["This field is required."]}}}""" },
        { """[{"dataset_item_uid": "ITEM0", "annotations": []}, {"dataset_item_uid": "item-1", "annotations": []}]""", """{"results": {"1": {"dataset_item_uid": ["Must be a valid UUID."]}}}""" },
        { """[{"dataset_item_uid": "ITEM0", "annotations": []}, {"dataset_item_uid": "ITEM1"}]""", """{"results": {"1": {"annotations": ["This field is required."]}}}""" },
        { """[{"dataset_item_uid": "ITEM0", "annotations": []}, {"dataset_item_uid": "ITEM1", "annotations": {}}]""", """{"results": {"1": {"annotations": ["Expected a list of items but got type \"dict\"."]}}}""" },
        { """[{"dataset_item_uid": "ITEM0", "annotations": []}, {"dataset_item_uid": "ITEM1", "annotations": []}, {"dataset_item_uid": "ITEM0", "annotations": []}]""", """{"results": {"2": {"dataset_item_uid": ["This item is also named at index 0; send one result per item."]}}}""" },
        { """[{"dataset_item_uid": "ITEM0", "annotations": []}, {"dataset_item_uid": "0190a5c4-0000-7000-8000-00000000dead", "annotations": []}]""", """{"results": {"1": {"dataset_item_uid": ["Invalid pk \"0190a5c4-0000-7000-8000-00000000dead\" - object does not exist."]}}}""" },
        {
            """[{"dataset_item_uid": 5, "annotations": [{"label": "car"}]}, {"dataset_item_uid": "ITEM1", "annotations": [{"label": "car", "type": "classification"}, {"label": "x", "type": "polygon"}]}]""",
            """{"results": {"0": {"dataset_item_uid": ["Must be a valid UUID."], "annotations": {"0": {"type": ["This field is required."]}}}, "1": {"annotations": {"1": {"label": ["\"x\" is not a label of this project."], "coordinates": ["This field is required."]}}}}}"""
        },
    };

    [Theory]
    [MemberData(nameof(InvalidResults))]
    public async Task A_malformed_result_is_400_with_errors_under_its_index_and_writes_nothing(string body, string expected)
    {
        var (client, project, items) = await SetUpAsync(2);
        await client.PostRejectedAsync($"/api/v1/projects/{project}/results/", body.Replace("ITEM0", items[0], StringComparison.Ordinal).Replace("ITEM1", items[1], StringComparison.Ordinal), expected);

        await AssertNoResultsAsync(client, project);
    }

    [Fact]
    public async Task More_than_five_thousand_results_in_one_request_is_400()
    {
        var (client, project, items) = await SetUpAsync(1);
        var results = Enumerable.Repeat(new { dataset_item_uid = items[0], annotations = Array.Empty<object>() }, 5_001).ToArray();
        await client.PostRejectedAsync($"/api/v1/projects/{project}/results/", new { results }, """{"results": ["Ensure this field has no more than 5000 elements."]}""");
        await AssertNoResultsAsync(client, project);
    }

    [Fact]
    public async Task Filtering_by_dataset_item_returns_only_that_items_result_and_projects_are_separate()
    {
        var (client, project, items) = await SetUpAsync(3);
        var other = await Seed.ProjectAsync(client, "Other");
        await Seed.ResultsAsync(client, project, items, perItem: 2);
        await Seed.ResultsAsync(client, other, [items[2]], perItem: 1);

        var filtered = await client.GetOkAsync($"/api/v1/projects/{project}/results/?dataset_item={items[1]}");
        var only = Assert.Single(filtered["results"]!.AsArray());
        Assert.Equal(items[1], only!["dataset_item_uid"]!.GetValue<string>());
        Assert.Equal(2, only["annotation_count"]!.GetValue<int>());

        var inOther = await client.AllPagesAsync($"/api/v1/projects/{other}/results/");
        Assert.Equal([items[2]], inOther.Select(r => r["dataset_item_uid"]!.GetValue<string>()));
        Assert.Equal(1, inOther[0]["annotation_count"]!.GetValue<int>());

        var none = await client.GetOkAsync($"/api/v1/projects/{other}/results/?dataset_item={items[0]}");
        Api.AssertJson("[]", none["results"]);
    }

    [Fact]
    public async Task A_malformed_dataset_item_filter_is_400()
    {
        var (client, project, _) = await SetUpAsync(1);
        var (status, body) = await client.GetJsonAsync($"/api/v1/projects/{project}/results/?dataset_item=frame_00001");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"dataset_item": ["Must be a valid UUID."]}""", body);
    }

    [Fact]
    public async Task Results_for_an_unknown_project_are_404()
    {
        var (client, _, items) = await SetUpAsync(1);
        var (status, body) = await client.PostJsonAsync($"/api/v1/projects/{Guid.NewGuid()}/results/", new { results = new[] { new { dataset_item_uid = items[0], annotations = Array.Empty<object>() } } });
        Shape.IsNotFound(status, body);
    }

    private async Task<(HttpClient Client, string Project, List<string> Items)> SetUpAsync(int itemCount)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, itemCount);
        var project = await Seed.ProjectAsync(tenant.Http);
        return (tenant.Http, project, items);
    }

    private static async Task AssertNoResultsAsync(HttpClient client, string project)
    {
        var listed = await client.GetOkAsync($"/api/v1/projects/{project}/results/");
        Assert.Empty(listed["results"]!.AsArray());
    }
}
