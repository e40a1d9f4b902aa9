using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Console;

/// <summary>GET /api/v1/datasets/{uid}/gallery/ and /gallery/{item_uid}/: items keyset-paged with their annotations in
/// pixels, label colours from the taxonomy and keypoint skeletons; narrowed by the filter language.</summary>
public sealed class GalleryTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private sealed record World(HttpClient Http, string Dataset, List<string> Items, string Project);

    private async Task<World> WorldAsync()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var http = tenant.Http;
        var dataset = await Seed.DatasetAsync(http);
        var items = await Seed.ItemsAsync(http, dataset, 4);
        var remote = await http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", new { items = new[] { new { ref_id = "remote", media_url = "https://images.example.com/r.jpg", width = 100, height = 50 } } });
        items.Add(remote["items"]![0]!["uid"]!.GetValue<string>());
        var file = new ByteArrayContent(TestImages.Png(40, 30));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using (var form = new MultipartFormDataContent { { file, "file", "a.png" } })
        using (var uploaded = await http.PutAsync($"/api/v1/datasets/{dataset}/items/{items[1]}/media/", form))
        {
            Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        }

        var project = await Seed.ProjectAsync(http, labels:
        [
            new { name = "car", color = "#FF0000" },
            new { name = "lane", color = "#00FF00" },
            new { name = "person", color = "#0000FF", keypoints = new[] { "head", "left_hand", "right_hand" }, skeleton = new[] { new[] { 1, 2 }, new[] { 1, 3 } } },
            new { name = "scene", color = "#777777" },
        ]);
        var results = new object[]
        {
            new
            {
                dataset_item_uid = items[0],
                annotations = new object[]
                {
                    new { label = "car", type = "bounding_box", coordinates = new { x = 10, y = 20, width = 40, height = 20, rotation = Math.PI / 2 }, attributes = new { occluded = true } },
                    new { label = "car", type = "polygon", coordinates = new { vertices = new[] { new[] { 0, 0 }, new[] { 10, 0 }, new[] { 10, 10 } } } },
                    new { label = "lane", type = "polyline", coordinates = new { vertices = new[] { new[] { 1, 2 }, new[] { 3, 4 } } } },
                    // Points in another order than the taxonomy's, one missing: edges follow the names.
                    new { label = "person", type = "keypoints", coordinates = new { points = new object[] { new { x = 5, y = 6, label = "left_hand", visible = true }, new { x = 1, y = 2, label = "head", visible = true } } } },
                    new { label = "scene", type = "classification", coordinates = (object?)null, attributes = new { weather = "rain" } },
                },
            },
            new { dataset_item_uid = items[1], annotations = new object[] { Seed.Box("person", 1, 2, 3, 4) } },
            new { dataset_item_uid = items[3], annotations = new object[] { Seed.Box("car", 5, 6, 7, 8) } },
        };
        await http.PostOkAsync($"/api/v1/projects/{project}/results/", new { results });
        return new World(http, dataset, items, project);
    }

    [Fact]
    public async Task Pages_hold_every_item_once_with_annotations_ready_to_draw()
    {
        var world = await WorldAsync();
        var seen = new List<JsonNode>();
        var url = $"/api/v1/datasets/{world.Dataset}/gallery/?limit=2";
        while (url is not null)
        {
            var page = await world.Http.GetOkAsync(url);
            var results = page["results"]!.AsArray();
            Assert.True(results.Count <= 2);
            seen.AddRange(results.Select(r => r!));
            url = page["next"]?.GetValue<string>() is { } next ? new Uri(next).PathAndQuery : null;
        }

        Assert.Equal(world.Items, seen.Select(i => i["uid"]!.GetValue<string>()));
        var first = seen[0];
        Assert.Equal(("frame_00001", 1920, 1080, "none"), (first["ref_id"]!.GetValue<string>(), first["width"]!.GetValue<int>(), first["height"]!.GetValue<int>(), first["media_source"]!.GetValue<string>()));
        Assert.Null(first["thumbnail_url"]);
        var annotations = first["annotations"]!.AsArray();
        Assert.Equal(["bounding_box", "polygon", "polyline", "keypoints", "classification"], annotations.Select(a => a!["type"]!.GetValue<string>()));
        Assert.All(annotations, a => Assert.Equal(world.Project, a!["project_uid"]!.GetValue<string>()));

        var box = annotations[0]!;
        Assert.Equal(("car", "#FF0000"), (box["label"]!.GetValue<string>(), box["color"]!.GetValue<string>()));
        Assert.True(box["attributes"]!["occluded"]!.GetValue<bool>());
        var geometry = box["geometry"]!;
        Assert.Equal([10.0, 20, 40, 20, Math.PI / 2], new[] { "x", "y", "width", "height", "rotation" }.Select(k => geometry[k]!.GetValue<double>()));
        // A quarter turn about the centre (30, 30): the top-left corner goes to the top-right of the turned box.
        var corners = geometry["corners"]!.AsArray().Select(c => (Math.Round(c![0]!.GetValue<double>(), 6), Math.Round(c[1]!.GetValue<double>(), 6))).ToList();
        Assert.Equal([(40.0, 10.0), (40.0, 50.0), (20.0, 50.0), (20.0, 10.0)], corners);

        Assert.Equal("[[0,0],[10,0],[10,10]]", annotations[1]!["geometry"]!["vertices"]!.ToJsonString());
        Assert.Equal(("#00FF00", "[[1,2],[3,4]]"), (annotations[2]!["color"]!.GetValue<string>(), annotations[2]!["geometry"]!["vertices"]!.ToJsonString()));
        var keypoints = annotations[3]!["geometry"]!;
        Assert.Equal(["left_hand", "head"], keypoints["points"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
        // Skeleton [[1,2],[1,3]] is head-left_hand and head-right_hand; right_hand is absent.
        Assert.Equal("[[1,0]]", keypoints["edges"]!.ToJsonString());
        Assert.Null(annotations[4]!["geometry"]);
        Assert.Equal("rain", annotations[4]!["attributes"]!["weather"]!.GetValue<string>());

        var stored = seen[1];
        Assert.Equal(("stored", 40, 30), (stored["media_source"]!.GetValue<string>(), stored["width"]!.GetValue<int>(), stored["height"]!.GetValue<int>()));
        Assert.EndsWith($"/api/v1/datasets/{world.Dataset}/items/{world.Items[1]}/media/", stored["media_url"]!.GetValue<string>(), StringComparison.Ordinal);
        using (var thumbnail = await world.Http.GetAsync(new Uri(stored["thumbnail_url"]!.GetValue<string>()).PathAndQuery))
        {
            Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
            Assert.Contains("immutable", thumbnail.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        }

        var remote = seen[4];
        Assert.Equal(("external", "https://images.example.com/r.jpg"), (remote["media_source"]!.GetValue<string>(), remote["media_url"]!.GetValue<string>()));
        Assert.Null(remote["thumbnail_url"]);
        Assert.Empty(remote["annotations"]!.AsArray());
    }

    [Fact]
    public async Task A_filter_keeps_the_items_of_the_tasks_it_keeps_and_a_wrong_one_is_a_positioned_field_error()
    {
        var world = await WorldAsync();
        var cars = await world.Http.GetOkAsync($"/api/v1/datasets/{world.Dataset}/gallery/?filter={Uri.EscapeDataString("label = \"car\"")}");
        Assert.Equal([world.Items[0], world.Items[3]], cars["results"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()));
        var night = await world.Http.GetOkAsync($"/api/v1/datasets/{world.Dataset}/gallery/?limit=1&filter={Uri.EscapeDataString("metadata.time = \"day\"")}");
        Assert.Equal([world.Items[1]], night["results"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()));
        Assert.Equal(world.Items[3], (await world.Http.GetOkAsync(new Uri(night["next"]!.GetValue<string>()).PathAndQuery))["results"]![0]!["uid"]!.GetValue<string>());

        var (status, body) = await world.Http.GetJsonAsync($"/api/v1/datasets/{world.Dataset}/gallery/?filter={Uri.EscapeDataString("label = ")}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("position", body!["filter"]![0]!.GetValue<string>(), StringComparison.Ordinal);

        var (badLimit, limitBody) = await world.Http.GetJsonAsync($"/api/v1/datasets/{world.Dataset}/gallery/?limit=zero");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit);
        Assert.NotNull(limitBody!["limit"]);
        var (badCursor, _) = await world.Http.GetJsonAsync($"/api/v1/datasets/{world.Dataset}/gallery/?cursor=nope");
        Assert.Equal(HttpStatusCode.BadRequest, badCursor);
    }

    [Fact]
    public async Task One_item_comes_with_its_metadata_projects_and_every_annotation()
    {
        var world = await WorldAsync();
        var item = await world.Http.GetOkAsync($"/api/v1/datasets/{world.Dataset}/gallery/{world.Items[0]}/");
        Assert.Equal(("frame_00001", 1, "night"), (item["ref_id"]!.GetValue<string>(), item["metadata"]!["index"]!.GetValue<int>(), item["metadata"]!["time"]!.GetValue<string>()));
        Assert.Equal(world.Project, item["projects"]!.AsArray().Single()!["uid"]!.GetValue<string>());
        Assert.Equal(5, item["annotations"]!.AsArray().Count);
        Assert.NotNull(item["created_at"]);

        var (missing, _) = await world.Http.GetJsonAsync($"/api/v1/datasets/{world.Dataset}/gallery/{Guid.NewGuid()}/");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        var other = await Seed.DatasetAsync(world.Http, "Other");
        var (elsewhere, _) = await world.Http.GetJsonAsync($"/api/v1/datasets/{other}/gallery/{world.Items[0]}/");
        Assert.Equal(HttpStatusCode.NotFound, elsewhere);
    }
}
