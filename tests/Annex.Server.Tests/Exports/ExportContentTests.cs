using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Annex.Formats;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>What an avala-json-external archive holds, checked against the data sent in.</summary>
public sealed class ExportContentTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private static readonly string[] Labels = ["car", "pedestrian", "truck"];

    private async Task<JsonDocument> ExportAndReadAsync(HttpClient client, object body)
    {
        var created = await client.PostOkAsync("/api/v1/exports/", body);
        var done = await Seed.WaitForAsync(client, created["uid"]!.GetValue<string>(), ["exported", "failed"], TimeSpan.FromMinutes(3));
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());
        var document = Archives.ReadSingleJson(await Archives.DownloadAsync(fixture.Factory, done["download_url"]!.GetValue<string>()));
        Assert.Empty(AvalaJsonSchema.Validate(document));
        Assert.Equal(done["total_task_count"]!.GetValue<long>(), document.RootElement.GetProperty("results").GetArrayLength());
        return document;
    }

    [Fact]
    public async Task An_export_of_100000_annotations_matches_the_source_item_by_item()
    {
        const int items = 20_000;
        const int perItem = 5;
        var tenant = await fixture.Factory.CreateTenantAsync("Large");
        var dataset = await Seed.DatasetAsync(tenant.Http, "Large");
        var project = await Seed.ProjectAsync(tenant.Http, "Large detection");
        var itemUids = await Seed.ItemsAsync(tenant.Http, dataset, items);
        await Seed.ResultsAsync(tenant.Http, project, itemUids, perItem);

        using var document = await ExportAndReadAsync(tenant.Http, new { name = "large", format = "avala-json-external", datasets = new[] { dataset }, projects = new[] { project }, slices = Array.Empty<string>() });
        var root = document.RootElement;
        var exportedItems = Assert.Single(root.GetProperty("datasets").EnumerateArray()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(items, exportedItems.Count);
        for (var n = 0; n < items; n++)
        {
            var item = exportedItems[n];
            Assert.Equal(itemUids[n], item.GetProperty("uid").GetString());
            Assert.Equal("frame_" + (n + 1).ToString("D5", CultureInfo.InvariantCulture), item.GetProperty("ref_id").GetString());
            Assert.Equal(n + 1, item.GetProperty("metadata").GetProperty("index").GetInt32());
            Assert.Equal((n + 1) % 2 == 0 ? "day" : "night", item.GetProperty("metadata").GetProperty("time").GetString());
            Assert.Equal(1920, item.GetProperty("width").GetInt32());
            Assert.Equal(1080, item.GetProperty("height").GetInt32());
        }

        var results = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(items, results.Count);
        var indexOfItem = itemUids.Select((uid, i) => (uid, i)).ToDictionary(x => x.uid, x => x.i);
        var annotationCount = 0;
        foreach (var result in results)
        {
            Assert.Equal(project, result.GetProperty("project_uid").GetString());
            var i = indexOfItem[result.GetProperty("dataset_item_uid").GetString()!];
            var annotations = result.GetProperty("annotations").EnumerateArray().ToList();
            Assert.Equal(perItem, annotations.Count);
            for (var a = 0; a < perItem; a++)
            {
                // Seed.ResultsAsync labels boxes by position and offsets each box by its index.
                var expected = $$$"""{"label":"{{{Labels[(i + a) % 3]}}}","type":"bounding_box","coordinates":{"x":{{{10 + a}}},"y":{{{20 + a}}},"width":{{{30 + a}}},"height":{{{40 + a}}}},"attributes":{"occluded":false}}""";
                Assert.Equal(expected, annotations[a].GetRawText());
                annotationCount++;
            }
        }

        Assert.Equal(items * perItem, annotationCount);
        Assert.Equal(itemUids.Count, results.Select(r => r.GetProperty("dataset_item_uid").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task Scope_is_datasets_and_slices_for_items_and_projects_for_results()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Scopes");
        var a = await Seed.DatasetAsync(tenant.Http, "A");
        var b = await Seed.DatasetAsync(tenant.Http, "B");
        var aItems = await Seed.ItemsAsync(tenant.Http, a, 3, prefix: "a_");
        var bItems = await Seed.ItemsAsync(tenant.Http, b, 2, prefix: "b_");
        var p1 = await Seed.ProjectAsync(tenant.Http, "P1");
        var p2 = await Seed.ProjectAsync(tenant.Http, "P2");
        await Seed.ResultsAsync(tenant.Http, p1, [aItems[0], aItems[1], bItems[0], bItems[1]], perItem: 1);
        await Seed.ResultsAsync(tenant.Http, p2, [aItems[2], bItems[0]], perItem: 2);
        var slice = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "S", items = new[] { bItems[0] } }))["uid"]!.GetValue<string>();
        string[] none = [];

        async Task<(string[] Datasets, string[] Items, string[] Projects, string[] Results)> Export(string[] datasets, string[] projects, string[] slices)
        {
            using var document = await ExportAndReadAsync(tenant.Http, new { name = "scope", format = "avala-json-external", datasets, projects, slices });
            var root = document.RootElement;
            return (
                [.. root.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("uid").GetString()!)],
                [.. root.GetProperty("datasets").EnumerateArray().SelectMany(d => d.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("uid").GetString()!)],
                [.. root.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("uid").GetString()!)],
                [.. root.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("dataset_item_uid").GetString()! + "@" + r.GetProperty("project_uid").GetString()!)]);
        }

        var onlyA = await Export([a], none, none);
        Assert.Equal([a], onlyA.Datasets);
        Assert.Equal(aItems, onlyA.Items);
        Assert.Equal([p1, p2], onlyA.Projects);
        Assert.Equal([$"{aItems[0]}@{p1}", $"{aItems[1]}@{p1}", $"{aItems[2]}@{p2}"], onlyA.Results);

        var onlySlice = await Export(none, none, [slice]);
        Assert.Equal([b], onlySlice.Datasets);
        Assert.Equal([bItems[0]], onlySlice.Items);
        Assert.Equal([$"{bItems[0]}@{p1}", $"{bItems[0]}@{p2}"], onlySlice.Results);

        var datasetAndSlice = await Export([a], [p1], [slice]);
        Assert.Equal([a, b], datasetAndSlice.Datasets);
        Assert.Equal([.. aItems, bItems[0]], datasetAndSlice.Items);
        Assert.Equal([p1], datasetAndSlice.Projects);
        Assert.Equal([$"{aItems[0]}@{p1}", $"{aItems[1]}@{p1}", $"{bItems[0]}@{p1}"], datasetAndSlice.Results);

        var onlyProject = await Export(none, [p2], none);
        Assert.Equal([a, b], onlyProject.Datasets);
        Assert.Equal([aItems[2], bItems[0]], onlyProject.Items);
        Assert.Equal([p2], onlyProject.Projects);
        Assert.Equal(3 - 1, onlyProject.Results.Length);
    }

    [Fact]
    public async Task Every_annotation_type_passes_through_unchanged()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Types");
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = (await tenant.Http.PostOkAsync("/api/v1/projects/", new
        {
            name = "All types",
            labels = new object[]
            {
                new { name = "car", color = "#ff0000" },
                new { name = "person", color = "#00FF00", keypoints = new[] { "head", "left_hand", "right_hand" }, skeleton = new[] { new[] { 1, 2 }, new[] { 1, 3 } } },
                new { name = "scene", color = "#0000FF", attributes = new[] { new { name = "weather", type = "select", options = new[] { "clear", "rain" } } } },
            },
        }))["uid"]!.GetValue<string>();
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        var annotations = JsonNode.Parse("""
            [
              {"label": "car", "type": "bounding_box", "coordinates": {"x": 100, "y": 200, "width": 150, "height": 80}, "attributes": {"occluded": false, "truncated": false}},
              {"label": "car", "type": "bounding_box", "coordinates": {"x": 1.5, "y": 2.25, "width": 3, "height": 4, "rotation": 0.5}, "attributes": {}},
              {"label": "car", "type": "polygon", "coordinates": {"vertices": [[0, 0], [10, 0], [10, 10.5]]}, "attributes": {}},
              {"label": "car", "type": "polyline", "coordinates": {"vertices": [[0, 0], [5, 5]]}, "attributes": {}},
              {"label": "person", "type": "keypoints", "coordinates": {"points": [{"x": 1, "y": 2, "label": "head", "visible": true}, {"x": 3, "y": 4}]}, "attributes": {}},
              {"label": "scene", "type": "classification", "coordinates": null, "attributes": {"weather": "rain"}},
              {"label": "car", "type": "cuboid", "coordinates": {"center": {"x": 1, "y": 2, "z": 3}, "dimensions": {"length": 4, "width": 2, "height": 1.5}, "rotation": {"yaw": 0.1, "pitch": 0, "roll": 0}}, "attributes": {}}
            ]
            """)!;
        await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/", new { results = new[] { new { dataset_item_uid = item, annotations } } });

        using var document = await ExportAndReadAsync(tenant.Http, new { name = "types", format = "avala-json-external", datasets = new[] { dataset }, projects = new[] { project }, slices = Array.Empty<string>() });
        var exported = JsonNode.Parse(document.RootElement.GetProperty("results")[0].GetProperty("annotations").GetRawText());
        Api.AssertJson(annotations.ToJsonString(), exported);
        var labels = document.RootElement.GetProperty("projects")[0].GetProperty("labels");
        Assert.Equal("#FF0000", labels[0].GetProperty("color").GetString());
        Assert.Equal(3, labels[1].GetProperty("keypoints").GetArrayLength());
        Assert.Equal("select", labels[2].GetProperty("attributes")[0].GetProperty("type").GetString());
    }
}
