using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Annex.Server.Tests.Infrastructure;
using Annex.Server.Tests.Ingest;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>Training formats through the real pipeline: data in over the API, an export, the archive checked.</summary>
public sealed class TrainingExportTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private static readonly object[] Labels =
    [
        new { name = "car", color = "#FF0000" },
        new { name = "person", color = "#00FF00", keypoints = new[] { "nose", "left_eye", "right_eye" }, skeleton = new[] { new[] { 1, 2 }, [1, 3] } },
        new { name = "sign", color = "#0000FF" },
    ];

    private sealed record Seeded(TenantClient Tenant, string Dataset, string Project, List<string> Items, byte[] Png);

    private async Task<Seeded> SeedAsync(string name)
    {
        var tenant = await fixture.Factory.CreateTenantAsync(name);
        var dataset = await Seed.DatasetAsync(tenant.Http, name);
        var project = await Seed.ProjectAsync(tenant.Http, name, Labels);
        var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", new
        {
            items = new object[]
            {
                new { ref_id = "a.jpg", metadata = new { split = "train" } },
                new { ref_id = "b.jpg", metadata = new { split = "val" }, width = 200, height = 100 },
                new { ref_id = "c.jpg", metadata = new { }, width = 200, height = 100, media_url = "https://example.com/c.jpg" },
            },
        });
        var items = created["items"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()).ToList();
        var png = TestImages.Png(200, 100);
        var (uploaded, body) = await ItemMediaTests.UploadAsync(tenant.Http, dataset, items[0], png, "a.png");
        Assert.True(uploaded == HttpStatusCode.OK, body?.ToJsonString());

        object Box(string label, double x, double y, double w, double h, double? rotation = null) => rotation is null
            ? new { label, type = "bounding_box", coordinates = new { x, y, width = w, height = h } }
            : new { label, type = "bounding_box", coordinates = new { x, y, width = w, height = h, rotation } };
        var (status, results) = await tenant.Http.PostJsonAsync($"/api/v1/projects/{project}/results/", new
        {
            results = new object[]
            {
                new
                {
                    dataset_item_uid = items[0],
                    annotations = new object[]
                    {
                        Box("car", 10, 10, 50, 30),
                        Box("car", -20, 60, 60, 60),
                        Box("car", 250, 10, 20, 20),
                        Box("sign", 80, 20, 40, 20, Math.PI / 6),
                        new { label = "sign", type = "polygon", coordinates = new { vertices = new[] { new[] { 150.0, 10 }, [230, 20], [160, 90] } } },
                        new { label = "person", type = "keypoints", coordinates = new { points = new object[] { new { x = 50, y = 40, label = "nose" }, new { x = 300, y = 35, label = "right_eye" } } } },
                        new { label = "car", type = "cuboid", coordinates = new { center = new { x = 1, y = 2, z = 3 }, dimensions = new { length = 4, width = 2, height = 1 } } },
                    },
                },
                new { dataset_item_uid = items[1], annotations = new object[] { Box("person", 20, 20, 30, 60), Box("car", 199, 99, 10, 10) } },
            },
        });
        Assert.True((int)status < 300, results?.ToJsonString());
        return new Seeded(tenant, dataset, project, items, png);
    }

    private async Task<ZipArchive> ExportAsync(Seeded seeded, string format)
    {
        var created = await seeded.Tenant.Http.PostOkAsync("/api/v1/exports/", new { name = format, format, datasets = new[] { seeded.Dataset }, projects = new[] { seeded.Project }, slices = Array.Empty<string>() });
        var done = await Seed.WaitForAsync(seeded.Tenant.Http, created["uid"]!.GetValue<string>(), ["exported", "failed"]);
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());
        Assert.Equal(2, done["total_task_count"]!.GetValue<int>());
        Assert.Equal(2, done["exported_task_count"]!.GetValue<int>());
        var bytes = await Archives.DownloadAsync(fixture.Factory, done["download_url"]!.GetValue<string>());
        return new ZipArchive(new MemoryStream(bytes));
    }

    [Fact]
    public async Task A_slice_of_scattered_items_exports_only_their_labels()
    {
        // Items 1, 3 and 5 of seven, all annotated: the export reads results by ranges of item ids and must
        // leave out the items between that the slice does not hold.
        var tenant = await fixture.Factory.CreateTenantAsync("Scattered");
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 7);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);
        var slice = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "odd", items = new[] { items[0], items[2], items[4] } }))["uid"]!.GetValue<string>();

        var created = await tenant.Http.PostOkAsync("/api/v1/exports/", new { name = "odd", format = "YOLO", datasets = Array.Empty<string>(), projects = Array.Empty<string>(), slices = new[] { slice } });
        var done = await Seed.WaitForAsync(tenant.Http, created["uid"]!.GetValue<string>(), ["exported", "failed"]);
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());
        Assert.Equal(3, done["exported_task_count"]!.GetValue<int>());
        using var zip = new ZipArchive(new MemoryStream(await Archives.DownloadAsync(fixture.Factory, done["download_url"]!.GetValue<string>())));
        Assert.Equal(["frame_00001", "frame_00003", "frame_00005"], zip.Entries.Where(e => e.FullName.StartsWith("labels/", StringComparison.Ordinal)).Select(e => e.Name[..11]).Order());
    }

    [Theory]
    [InlineData("YOLO", "detect")]
    [InlineData("YOLO-SEG", "segment")]
    [InlineData("YOLO-OBB", "obb")]
    [InlineData("YOLO-POSE", "pose")]
    public async Task Yolo_exports_load_in_Ultralytics_without_a_dropped_image(string format, string task)
    {
        var seeded = await SeedAsync("Yolo" + task);
        using var zip = await ExportAsync(seeded, format);

        var check = UltralyticsChecks.Check(zip, task);
        Assert.Empty(check.Problems);
        Assert.Equal(3, check.LabelFiles);

        // The uploaded image is in the archive byte for byte, beside its labels.
        var image = Assert.Single(zip.Entries, e => e.FullName.StartsWith("images/", StringComparison.Ordinal));
        Assert.Equal($"images/train/a_{Guid.Parse(seeded.Items[0]):N}.png", image.FullName);
        using (var content = new MemoryStream())
        {
            await image.Open().CopyToAsync(content);
            Assert.Equal(seeded.Png, content.ToArray());
        }

        using var report = JsonDocument.Parse(zip.GetEntry("export_report.json")!.Open());
        var root = report.RootElement;
        Assert.Equal(format, root.GetProperty("format").GetString());
        Assert.Equal(3, root.GetProperty("items").GetInt32());
        Assert.Equal(1, root.GetProperty("unsupported").GetProperty("cuboid").GetInt32());
        Assert.True(root.GetProperty("changes").GetProperty("clipped_to_image").GetInt32() >= 1);
        Assert.True(root.GetProperty("changes").GetProperty("dropped_zero_area").GetInt32() >= 1);
        Assert.Equal("https://example.com/c.jpg", Assert.Single(root.GetProperty("external_media").EnumerateArray()).GetProperty("media_url").GetString());
    }

    [Fact]
    public async Task Coco_export_passes_the_COCO_checks_with_the_stored_image_beside_it()
    {
        var seeded = await SeedAsync("Coco");
        using var zip = await ExportAsync(seeded, "COCO");

        var files = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("annotations/instances_train.json", files);
        Assert.Contains("annotations/instances_val.json", files);
        Assert.Contains("annotations/person_keypoints_train.json", files);
        Assert.Contains("annotations/person_keypoints_val.json", files);
        Assert.Contains($"images/train/a_{Guid.Parse(seeded.Items[0]):N}.png", files);
        Assert.Empty(CocoChecks.CheckArchive(zip));
        var annotations = 0;
        foreach (var name in files.Where(f => f.StartsWith("annotations/instances_", StringComparison.Ordinal)))
        {
            using var document = JsonDocument.Parse(zip.GetEntry(name)!.Open());
            annotations += document.RootElement.GetProperty("annotations").GetArrayLength();
            Assert.Equal(["car", "person", "sign"], document.RootElement.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        }

        // Of 9 annotations the box outside the image and the single keypoint without a box span no area, and the
        // cuboid cannot be written.
        Assert.Equal(6, annotations);
        using var report = JsonDocument.Parse(zip.GetEntry("export_report.json")!.Open());
        Assert.Equal(1, report.RootElement.GetProperty("unsupported").GetProperty("cuboid").GetInt32());
        Assert.Equal(2, report.RootElement.GetProperty("changes").GetProperty("dropped_zero_area").GetInt32());
    }

    [Theory]
    [InlineData("VOC", "Annotations/a_")]
    [InlineData("CSV", "annotations.csv")]
    public async Task Voc_and_csv_export_through_the_pipeline(string format, string expectedEntry)
    {
        var seeded = await SeedAsync(format);
        using var zip = await ExportAsync(seeded, format);
        Assert.Contains(zip.Entries, e => e.FullName.StartsWith(expectedEntry, StringComparison.Ordinal));
        using var report = JsonDocument.Parse(zip.GetEntry("export_report.json")!.Open());
        Assert.Equal(3, report.RootElement.GetProperty("items").GetInt32());
        Assert.Equal(9, report.RootElement.GetProperty("annotations").GetProperty("read").GetInt32());
    }

    [Theory]
    [InlineData("avala-json-external")]
    [InlineData("YOLO")]
    [InlineData("YOLO-SEG")]
    [InlineData("YOLO-OBB")]
    [InlineData("YOLO-POSE")]
    [InlineData("COCO")]
    [InlineData("VOC")]
    [InlineData("CSV")]
    public async Task Two_exports_of_the_same_data_are_the_same_apart_from_their_own_name_and_time(string format)
    {
        var seeded = await SeedAsync("Twice" + format);
        var first = await DownloadAsync(seeded, format, "first");
        var second = await DownloadAsync(seeded, format, "second");

        Assert.Equal(ArchiveEntries.Normalized(first), ArchiveEntries.Normalized(second));
    }

    private async Task<byte[]> DownloadAsync(Seeded seeded, string format, string name)
    {
        var created = await seeded.Tenant.Http.PostOkAsync("/api/v1/exports/", new { name, format, datasets = new[] { seeded.Dataset }, projects = new[] { seeded.Project }, slices = Array.Empty<string>() });
        var done = await Seed.WaitForAsync(seeded.Tenant.Http, created["uid"]!.GetValue<string>(), ["exported", "failed"]);
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());
        return await Archives.DownloadAsync(fixture.Factory, done["download_url"]!.GetValue<string>());
    }

    [Fact]
    public async Task Every_training_format_is_listed()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("TrainingFormats");
        var (_, body) = await tenant.Http.GetJsonAsync("/api/v1/exports/formats/");
        var names = body!.AsArray().Select(f => f!["name"]!.GetValue<string>()).ToList();
        Assert.Subset(names.ToHashSet(), new HashSet<string> { "avala-json-external", "YOLO", "YOLO-SEG", "YOLO-OBB", "YOLO-POSE", "COCO", "VOC", "CSV" });
    }
}
