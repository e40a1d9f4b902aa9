using System.IO.Compression;
using System.Text.Json;
using Annex.Client;
using Annex.Tests;
using Xunit;

namespace Annex.Cli.Tests;

/// <summary>Datasets go in and come out again through the <c>annex</c> commands alone.</summary>
public sealed class RoundTripTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private const string Coco = """
        {
          "images": [
            {"id": 1, "file_name": "frame_001.jpg", "width": 640, "height": 480},
            {"id": 2, "file_name": "frame_002.jpg", "width": 640, "height": 480},
            {"id": 3, "file_name": "frame_003.jpg", "width": 640, "height": 480}
          ],
          "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], "area": 1200, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [100, 100, 50, 80], "area": 4000, "iscrowd": 0},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "segmentation": [[0, 0, 10, 0, 10, 10]], "area": 50, "iscrowd": 0},
            {"id": 4, "image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "segmentation": {"counts": [1, 2], "size": [480, 640]}, "iscrowd": 1}
          ],
          "categories": [
            {"id": 1, "name": "car"},
            {"id": 2, "name": "pedestrian"}
          ]
        }
        """;

    [Fact]
    public async Task A_COCO_file_is_imported_exported_waited_for_and_downloaded()
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "instances_val.json"), Coco);

        var imported = await cli.RunAsync("datasets", "import", "instances_val.json", "--name", "Val", "--batch-size", "2", "--json");
        Assert.True(imported.ExitCode == ExitCodes.Done, imported.ToString());
        var summary = imported.Json();
        Assert.Equal((3, 3, 3), (summary.GetProperty("items").GetInt32(), summary.GetProperty("results").GetInt32(), summary.GetProperty("annotations").GetInt32()));
        Assert.Contains("RLE", Assert.Single(summary.GetProperty("skipped").EnumerateArray()).GetString(), StringComparison.Ordinal);
        var dataset = summary.GetProperty("dataset_uid").GetString()!;

        var exported = await cli.RunAsync("export", "--dataset", dataset, "--format", "avala-json-external", "--out", "val.zip", "--interval", "0.05", "--json");
        Assert.True(exported.ExitCode == ExitCodes.Done, exported.ToString());
        var run = exported.Json();
        Assert.Equal(ExportStatus.Exported, run.GetProperty("export").GetProperty("status").GetString());
        Assert.Equal(3, run.GetProperty("export").GetProperty("total_task_count").GetInt64());
        var archive = Path.Combine(folder, "val.zip");
        Assert.Equal(archive, run.GetProperty("download").GetProperty("path").GetString());
        Assert.Equal(new FileInfo(archive).Length, run.GetProperty("download").GetProperty("bytes").GetInt64());

        using (var zip = ZipFile.OpenRead(archive))
        {
            using var document = await JsonDocument.ParseAsync(zip.Entries.Single(e => e.Name.EndsWith(".json", StringComparison.Ordinal)).Open());
            var root = document.RootElement;
            var items = root.GetProperty("datasets").EnumerateArray().SelectMany(d => d.GetProperty("items").EnumerateArray()).ToList();
            Assert.Equal(["frame_001", "frame_002", "frame_003"], items.Select(i => i.GetProperty("ref_id").GetString()).Order(StringComparer.Ordinal));
            Assert.Equal(["car", "pedestrian"], root.GetProperty("projects").EnumerateArray().Single().GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("name").GetString()));
            var annotations = root.GetProperty("results").EnumerateArray().SelectMany(r => r.GetProperty("annotations").EnumerateArray()).ToList();
            Assert.Equal(["bounding_box", "bounding_box", "polygon"], annotations.Select(a => a.GetProperty("type").GetString()).Order(StringComparer.Ordinal));
        }

        // The archive is itself an import source: the same items and annotations come back in.
        var again = await cli.RunAsync("datasets", "import", "val.zip", "--name", "Val again", "--json");
        Assert.True(again.ExitCode == ExitCodes.Done, again.ToString());
        Assert.Equal((3, 3), (again.Json().GetProperty("items").GetInt32(), again.Json().GetProperty("annotations").GetInt32()));
    }

    [Fact]
    public async Task A_COCO_file_comes_out_as_a_YOLO_archive_through_create_wait_and_download()
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "instances_val.json"), Coco);
        var imported = await cli.RunAsync("datasets", "import", "instances_val.json", "--json");
        Assert.True(imported.ExitCode == ExitCodes.Done, imported.ToString());
        var dataset = imported.Json().GetProperty("dataset_uid").GetString()!;

        var created = await cli.RunAsync("exports", "create", "--dataset", dataset, "--format", "YOLO", "--json");
        Assert.True(created.ExitCode == ExitCodes.Done, created.ToString());
        var uid = created.Json().GetProperty("uid").GetString()!;
        var waited = await cli.RunAsync("exports", "wait", uid, "--interval", "0.05", "--timeout", "120");
        Assert.True(waited.ExitCode == ExitCodes.Done, waited.ToString());
        Assert.Contains("exported", waited.Out, StringComparison.Ordinal);
        Assert.Contains("3/3", waited.Out, StringComparison.Ordinal);
        var downloaded = await cli.RunAsync("exports", "download", uid, "-o", "train.zip");
        Assert.True(downloaded.ExitCode == ExitCodes.Done, downloaded.ToString());
        Assert.Contains("train.zip", downloaded.Out, StringComparison.Ordinal);

        using var zip = ZipFile.OpenRead(Path.Combine(folder, "train.zip"));
        var yaml = await new StreamReader(zip.GetEntry("data.yaml")!.Open()).ReadToEndAsync();
        Assert.Contains("car", yaml, StringComparison.Ordinal);
        Assert.True(yaml.IndexOf("car", StringComparison.Ordinal) < yaml.IndexOf("pedestrian", StringComparison.Ordinal), yaml);
        var labelFiles = zip.Entries.Where(e => e.FullName.StartsWith("labels/val/", StringComparison.Ordinal)).ToList();
        Assert.Equal(["frame_001", "frame_002", "frame_003"], labelFiles.Select(e => e.Name[..9]).Order(StringComparer.Ordinal));
        var labels = (await new StreamReader(labelFiles.Single(e => e.Name.StartsWith("frame_001", StringComparison.Ordinal)).Open()).ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, labels.Length);

        // COCO's [x, y, w, h] pixel box becomes YOLO's normalized class cx cy w h.
        var car = labels.Single(l => l.StartsWith("0 ", StringComparison.Ordinal)).Split(' ').Skip(1).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal([25 / 640.0, 40 / 480.0, 30 / 640.0, 40 / 480.0], car, (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Contains(labels, l => l.StartsWith("1 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_with_dry_run_prints_the_counts_and_creates_nothing()
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "instances_val.json"), Coco);
        var dataset = (await cli.RunAsync("datasets", "import", "instances_val.json", "--json")).Json().GetProperty("dataset_uid").GetString()!;

        var all = await cli.RunAsync("exports", "create", "--dataset", dataset, "--format", "YOLO", "--dry-run", "--json");
        Assert.True(all.ExitCode == ExitCodes.Done, all.ToString());
        Assert.Equal((3, 3), (all.Json().GetProperty("total_item_count").GetInt64(), all.Json().GetProperty("total_task_count").GetInt64()));
        var source = all.Json().GetProperty("sources").EnumerateArray().Single();
        Assert.Equal(("dataset", dataset), (source.GetProperty("type").GetString(), source.GetProperty("uid").GetString()));

        var filtered = await cli.RunAsync("exports", "create", "--dataset", dataset, "--format", "YOLO", "--filter", "label = \"pedestrian\"", "--dry-run");
        Assert.True(filtered.ExitCode == ExitCodes.Done, filtered.ToString());
        Assert.Contains("(nothing created)", filtered.Out, StringComparison.Ordinal);
        var totals = filtered.Out.Split('\n').Single(l => l.Contains("(nothing created)", StringComparison.Ordinal));
        Assert.Equal(["1", "1"], totals.Split(['│', '|', ' '], StringSplitOptions.RemoveEmptyEntries).TakeLast(2));

        // The server's parser refuses a broken filter as it would refuse the create.
        var broken = await cli.RunAsync("exports", "create", "--dataset", dataset, "--format", "YOLO", "--filter", "label = ", "--dry-run");
        Assert.True(broken.ExitCode == ExitCodes.Usage, broken.ToString());
        Assert.Contains("position", broken.ToString(), StringComparison.Ordinal);

        var exports = await cli.RunAsync("exports", "list", "--json");
        Assert.Empty(exports.Json().EnumerateArray());
    }

    [Fact]
    public async Task A_YOLO_folder_is_imported_with_its_images()
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        var yolo = Path.Combine(folder, "traffic");
        Write(yolo, "data.yaml", "names: [car, 'traffic light']\n");
        WriteImage(yolo, "images/train/a.png", 200, 100);
        WriteImage(yolo, "images/train/b.png", 50, 40);
        Write(yolo, "labels/train/a.txt", "0 0.5 0.5 0.25 0.5\n1 0.1 0.1 0.2 0.2\n");
        Write(yolo, "labels/train/b.txt", string.Empty);

        var imported = await cli.RunAsync("datasets", "import", "traffic", "--project-name", "Traffic detection");

        Assert.True(imported.ExitCode == ExitCodes.Done, imported.ToString());
        Assert.True(imported.Out.Contains("Imported 2 items with 2 annotations (2 results, 2 images)", StringComparison.Ordinal), imported.ToString());
        using var client = new AnnexClient(cli.Server.Address, cli.Key);
        var dataset = Assert.Single(await client.ListDatasetsAsync().ToListAsync());
        Assert.Equal("traffic", dataset.Name);
        var project = Assert.Single(await client.ListProjectsAsync().ToListAsync());
        Assert.Equal("Traffic detection", project.Name);
        Assert.Equal(["car", "traffic light"], project.Labels.Select(l => l.Name));
        var items = await client.ListItemsAsync(dataset.Uid).ToListAsync();
        Assert.Equal([(200, 100), (50, 40)], items.Select(i => (i.Width ?? 0, i.Height ?? 0)));

        // Importing the same folder into the same dataset again keeps what is there (ref_ids exist) and adds nothing.
        var again = await cli.RunAsync("datasets", "import", "traffic", "--dataset", dataset.Uid.ToString(), "--project", project.Uid.ToString());
        Assert.True(again.ExitCode == ExitCodes.Done, again.ToString());
        Assert.Contains("Resumed: 2 items and 2 results were stored already", again.Out, StringComparison.Ordinal);
        Assert.Equal(2, (await client.ListItemsAsync(dataset.Uid).ToListAsync()).Count);
        Assert.Equal(2, (await client.ListResultsAsync(project.Uid).ToListAsync()).Count);
    }

    [Fact]
    public async Task A_VOC_folder_is_imported_with_its_images_and_class_order()
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        var voc = Path.Combine(folder, "VOC2012");
        Write(voc, "labels.txt", "person\ncar\n");
        Write(voc, "Annotations/a.xml", """
            <annotation>
              <filename>a.png</filename>
              <size><width>200</width><height>100</height><depth>3</depth></size>
              <object><name>car</name><difficult>0</difficult><bndbox><xmin>11</xmin><ymin>11</ymin><xmax>60</xmax><ymax>40</ymax></bndbox></object>
            </annotation>
            """);
        WriteImage(voc, "JPEGImages/a.png", 200, 100);
        Write(voc, "ImageSets/Main/val.txt", "a\n");

        var imported = await cli.RunAsync("datasets", "import", "VOC2012");

        Assert.True(imported.ExitCode == ExitCodes.Done, imported.ToString());
        Assert.True(imported.Out.Contains("Imported 1 items with 1 annotations (1 results, 1 images)", StringComparison.Ordinal), imported.ToString());
        using var client = new AnnexClient(cli.Server.Address, cli.Key);
        Assert.Equal(["person", "car"], Assert.Single(await client.ListProjectsAsync().ToListAsync()).Labels.Select(l => l.Name));
        var item = Assert.Single(await client.ListItemsAsync(Assert.Single(await client.ListDatasetsAsync().ToListAsync()).Uid).ToListAsync());
        Assert.Equal(("a", 200, 100), (item.RefId, item.Width, item.Height));
    }

    [Theory]
    [InlineData("VOC")]
    [InlineData("CSV")]
    public async Task A_VOC_or_CSV_archive_is_itself_an_import_source(string format)
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "instances_val.json"), Coco);
        var imported = await cli.RunAsync("datasets", "import", "instances_val.json", "--json");
        Assert.True(imported.ExitCode == ExitCodes.Done, imported.ToString());
        var dataset = imported.Json().GetProperty("dataset_uid").GetString()!;
        var exported = await cli.RunAsync("export", "--dataset", dataset, "--format", format, "--out", "out.zip", "--interval", "0.05", "--json");
        Assert.True(exported.ExitCode == ExitCodes.Done, exported.ToString());

        var again = await cli.RunAsync("datasets", "import", "out.zip", "--name", "Again", "--json");

        Assert.True(again.ExitCode == ExitCodes.Done, again.ToString());
        var summary = again.Json();
        // VOC writes only the boxes of the images it has a file for (all three, with their sizes); CSV every annotation
        // of the items that have one. The polygon comes back from VOC as its box.
        var items = format == "VOC" ? 3 : 2;
        Assert.Equal((items, 3), (summary.GetProperty("items").GetInt32(), summary.GetProperty("annotations").GetInt32()));
        using var client = new AnnexClient(cli.Server.Address, cli.Key);
        var project = (await client.ListProjectsAsync().ToListAsync()).Single(p => p.Uid.ToString() == summary.GetProperty("project_uid").GetString());
        Assert.Equal(["car", "pedestrian"], project.Labels.Select(l => l.Name));
    }

    [Fact]
    public async Task Unreadable_import_sources_are_reported_with_where_and_why()
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "broken.json"), """{"images": [{"id": 1}], "annotations": [], "categories": []}""");

        await File.WriteAllTextAsync(Path.Combine(folder, "broken.csv"), "ref_id,label,type,coordinates\r\na,car,bounding_box,\"{\r\n");

        var broken = await cli.RunAsync("datasets", "import", "broken.json");
        var missing = await cli.RunAsync("datasets", "import", "nowhere.json");
        var brokenCsv = await cli.RunAsync("datasets", "import", "broken.csv");

        Assert.Equal(ExitCodes.Failed, broken.ExitCode);
        Assert.Contains("broken.json", broken.Error, StringComparison.Ordinal);
        Assert.Contains("file_name", broken.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("no such file", missing.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, brokenCsv.ExitCode);
        Assert.Contains("broken.csv:2: field 4: the quote opened on this line is never closed", brokenCsv.Error, StringComparison.Ordinal);
    }

    private static void Write(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static void WriteImage(string root, string relative, int width, int height)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TestImages.Png(width, height));
    }
}
