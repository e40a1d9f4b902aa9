using Annex.Formats.Import;
using Annex.Tests;
using Xunit;

namespace Annex.Formats.Tests.Import;

public sealed class YoloImporterTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("annex-yolo-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void ReadsDetectionAndSegmentationRowsInPixels()
    {
        Write("data.yaml", "path: .\ntrain: images/train\nval: images/val\nnames:\n  0: car\n  1: road\n");
        Image("images/train/a.png", 200, 100);
        Write("labels/train/a.txt", "0 0.5 0.5 0.25 0.5\n\n1 0.1 0.1 0.9 0.1 0.5 0.9\n0 0.5 0.5 0 0.2\n");
        Image("images/val/sub/b.png", 10, 10);

        var dataset = YoloImporter.Read(_root.FullName);

        Assert.Equal(["car", "road"], dataset.Labels.Select(l => l.Name));
        Assert.Equal(["a", "sub/b"], dataset.Items.Select(i => i.RefId));
        var a = dataset.Items[0];
        Assert.Equal((200, 100), (a.Width, a.Height));
        Assert.Equal("images/train/a.png", a.MediaPath);
        Assert.Equal("""{"split":"train"}""", a.MetadataJson);
        Assert.Equal(
            [
                new ImportedAnnotation("car", "bounding_box", """{"x":75,"y":25,"width":50,"height":50}"""),
                new ImportedAnnotation("road", "polygon", """{"vertices":[[20,10],[180,10],[100,90]]}"""),
            ],
            a.Annotations);
        Assert.Equal("""{"split":"val"}""", dataset.Items[1].MetadataJson);
        Assert.Empty(dataset.Items[1].Annotations);

        var skip = Assert.Single(dataset.Skipped);
        Assert.Equal(("labels/train/a.txt", 4), (skip.File, skip.Line));
        Assert.Contains("no area", skip.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadsNamesAsAList()
    {
        Write("data.yaml", "names: [car, 'traffic light']\nnc: 2\n");
        Image("images/a.png", 10, 10);
        Write("labels/a.txt", "1 0.5 0.5 0.2 0.2\n");

        var dataset = YoloImporter.Read(_root.FullName);

        Assert.Equal(["car", "traffic light"], dataset.Labels.Select(l => l.Name));
        Assert.Equal("{}", dataset.Items[0].MetadataJson);
        Assert.Equal("traffic light", Assert.Single(dataset.Items[0].Annotations).Label);
    }

    [Fact]
    public void ReadsRotatedBoxesFromObbRows()
    {
        Write("data.yaml", "names: {0: ship}\n");
        Image("images/train/a.png", 100, 100);
        // An axis-aligned 40x20 box at (10, 30), then the same box turned 90 degrees clockwise about its center (30, 40).
        Write("labels/train/a.txt", "0 0.1 0.3 0.5 0.3 0.5 0.5 0.1 0.5\n0 0.4 0.2 0.4 0.6 0.2 0.6 0.2 0.2\n");

        var annotations = YoloImporter.Read(_root.FullName, YoloTask.Obb).Items[0].Annotations;

        Assert.Equal("""{"x":10,"y":30,"width":40,"height":20}""", annotations[0].CoordinatesJson);
        Assert.Equal("""{"x":10,"y":30,"width":40,"height":20,"rotation":1.570796327}""", annotations[1].CoordinatesJson);
    }

    [Fact]
    public void NineValuesAreAPolygonUnlessTheTaskSaysObb()
    {
        Write("data.yaml", "names: [ship]\n");
        Image("images/train/a.png", 100, 100);
        Write("labels/train/a.txt", "0 0.1 0.3 0.5 0.3 0.5 0.5 0.1 0.5\n");

        Assert.Equal("polygon", YoloImporter.Read(_root.FullName).Items[0].Annotations[0].Type);

        Write("data.yaml", "names: [ship]\ntask: obb\n");
        Assert.Equal("bounding_box", YoloImporter.Read(_root.FullName).Items[0].Annotations[0].Type);
    }

    [Fact]
    public void ReadsPoseRowsWithKeypointNames()
    {
        Write("data.yaml", "names:\n  0: person\nkpt_shape: [3, 3]\nkpt_names:\n  0: [head, neck, hip]\n");
        Image("images/train/a.png", 100, 200);
        Write("labels/train/a.txt", "0 0.5 0.5 0.2 0.2 0.5 0.25 2 0 0 0 0.5 0.75 1\n");

        var dataset = YoloImporter.Read(_root.FullName);

        Assert.Equal(["head", "neck", "hip"], dataset.Labels[0].Keypoints!);
        // A pose row is the object's box and its keypoints.
        Assert.Equal(["bounding_box", "keypoints"], dataset.Items[0].Annotations.Select(a => a.Type));
        Assert.Equal("""{"x":40,"y":80,"width":20,"height":40}""", dataset.Items[0].Annotations[0].CoordinatesJson);
        var annotation = dataset.Items[0].Annotations[1];
        Assert.Equal(
            """{"points":[{"x":50,"y":50,"label":"head","visible":true},{"x":50,"y":150,"label":"hip","visible":false}]}""",
            annotation.CoordinatesJson);
    }

    [Fact]
    public void LabelsWithoutAnImageAreListedAsSkipped()
    {
        Write("data.yaml", "names: [car]\n");
        Write("labels/train/orphan.txt", "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n");

        var dataset = YoloImporter.Read(_root.FullName);

        var item = Assert.Single(dataset.Items);
        Assert.Null(item.MediaPath);
        Assert.Empty(item.Annotations);
        Assert.Contains("2 rows skipped", Assert.Single(dataset.Skipped).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryImportedAnnotationPassesTheServersValidator()
    {
        Write("data.yaml", "names: [a, b]\n");
        Image("images/train/x.png", 640, 480);
        Write("labels/train/x.txt", "0 0.123457 0.654321 0.1 0.2\n1 0.1 0.1 0.9 0.1 0.9 0.9 0.1 0.9\n");

        var dataset = YoloImporter.Read(_root.FullName);
        foreach (var annotation in dataset.Items.SelectMany(i => i.Annotations))
        {
            CocoImporterTests.AssertValid(annotation, new HashSet<string>(["a", "b"]));
        }
    }

    [Theory]
    [InlineData(YoloTask.Detect, "0 0.5 0.5 0.2", "labels/train/a.txt:2: expected 5 values (class cx cy w h), found 4")]
    [InlineData(YoloTask.Auto, "0 0.5 0.5 0.2", "labels/train/a.txt:2: expected 5 values (class cx cy w h) or class and at least 3 x y pairs, found 4")]
    [InlineData(YoloTask.Auto, "2 0.5 0.5 0.2 0.2", "labels/train/a.txt:2: class 2 is not below the number of names (2) in data.yaml")]
    [InlineData(YoloTask.Auto, "0.5 0.5 0.5 0.2 0.2", "labels/train/a.txt:2: the class \"0.5\" is not a class index")]
    [InlineData(YoloTask.Auto, "0 0.5 abc 0.2 0.2", "labels/train/a.txt:2: value 3 \"abc\" is not a number")]
    [InlineData(YoloTask.Obb, "0 0.1 0.1 0.2 0.1 0.2", "labels/train/a.txt:2: expected 9 values (class x1 y1 x2 y2 x3 y3 x4 y4), found 6")]
    [InlineData(YoloTask.Segment, "0 0.1 0.1 0.2 0.1 0.2 0.2 0.3", "labels/train/a.txt:2: expected class and at least 3 x y pairs (an odd number of at least 7 values), found 8")]
    public void MalformedRowsSayFileLineAndReason(YoloTask task, string row, string message)
    {
        Write("data.yaml", "names: [a, b]\n");
        Image("images/train/a.png", 10, 10);
        var valid = task == YoloTask.Obb ? "0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2" : "0 0.5 0.5 0.2 0.2";
        Write("labels/train/a.txt", valid + "\n" + row + "\n");

        var error = Assert.Throws<ImportException>(() => YoloImporter.Read(_root.FullName, task));

        Assert.Equal(message, error.Message);
        Assert.Equal(("labels/train/a.txt", 2), (error.File, error.Line));
    }

    [Theory]
    [InlineData("names: [a\n", "data.yaml", "not valid YAML")]
    [InlineData("nc: 2\n", "data.yaml", "names: missing")]
    [InlineData("names: [a, b]\nnc: 3\n", "data.yaml:2", "nc is 3 but names lists 2 classes")]
    [InlineData("names:\n  0: a\n  2: b\n", "data.yaml:2", "class indexes must run from 0 to 1 without gaps")]
    [InlineData("names: [a]\nkpt_shape: [3, 4]\n", "data.yaml:2", "kpt_shape: expected [keypoints, 2 or 3]")]
    [InlineData("names: [a]\ntask: classify\n", "data.yaml:2", "task \"classify\" is not detect, segment, obb or pose")]
    public void MalformedDataYamlSaysWhy(string yaml, string where, string reason)
    {
        Write("data.yaml", yaml);
        Image("images/train/a.png", 10, 10);

        var error = Assert.Throws<ImportException>(() => YoloImporter.Read(_root.FullName));

        Assert.StartsWith(where, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileThatIsNotAnImageIsRefused()
    {
        Write("data.yaml", "names: [a]\n");
        Write("images/train/a.jpg", "not an image");

        var error = Assert.Throws<ImportException>(() => YoloImporter.Read(_root.FullName));

        Assert.Equal("images/train/a.jpg: not a PNG, JPEG, WebP, GIF or BMP image", error.Message);
    }

    [Fact]
    public void TheSameNameInTwoSplitsIsRefused()
    {
        Write("data.yaml", "names: [a]\n");
        Image("images/train/a.png", 10, 10);
        Image("images/val/a.png", 10, 10);

        var error = Assert.Throws<ImportException>(() => YoloImporter.Read(_root.FullName));

        Assert.Equal("images/val/a.png: the name \"a\" is also used by images/train/a.png", error.Message);
    }

    [Fact]
    public void A_streamed_read_gives_the_items_labels_and_skips_the_whole_folder_reader_gives()
    {
        Write("data.yaml", "names: [car, road, bus]\n");
        Image("images/train/a.png", 200, 100);
        Write("labels/train/a.txt", "0 0.5 0.5 0.25 0.5\n\n1 0.1 0.1 0.9 0.1 0.5 0.9\n0 0.5 0.5 0 0.2\n");
        Image("images/train/b.png", 64, 48);
        Image("images/val/sub/c.png", 10, 10);
        Write("labels/val/sub/c.txt", "1 0.5 0.5 0.2 0.2\n");
        Write("labels/val/orphan.txt", "0 0.5 0.5 0.2 0.2\n");

        var whole = YoloImporter.Read(_root.FullName);
        using var import = YoloImporter.OpenStreamed(_root.FullName);
        Assert.Equal((4, 3L), (import.ItemCount, import.AnnotationCount));
        Assert.Equal(["car", "road"], import.UsedLabels.Order(StringComparer.Ordinal));
        var streamed = new ImportedDataset(import.Labels, [.. import.ReadItems()]) { Skipped = import.Skipped };

        Assert.Equal(Canonical(whole), Canonical(streamed));
        Assert.Equal(2, streamed.Skipped.Count);
        Assert.Throws<InvalidOperationException>(() => import.ReadItems().First());
    }

    [Fact]
    public void A_streamed_read_finds_a_bad_row_before_any_item_is_handed_out()
    {
        Write("data.yaml", "names: [a, b]\n");
        Image("images/train/a.png", 10, 10);
        Write("labels/train/a.txt", "0 0.5 0.5 0.2 0.2\n");
        Image("images/train/z.png", 10, 10);
        Write("labels/train/z.txt", "0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n");

        var whole = Assert.Throws<ImportException>(() => YoloImporter.Read(_root.FullName));
        var streamed = Assert.Throws<ImportException>(() => YoloImporter.OpenStreamed(_root.FullName));

        Assert.Equal(whole.Message, streamed.Message);
        Assert.Equal("labels/train/z.txt:2: class 7 is not below the number of names (2) in data.yaml", streamed.Message);
    }

    private static string Canonical(ImportedDataset dataset) => System.Text.Json.JsonSerializer.Serialize(new
    {
        labels = dataset.Labels.Select(l => new { l.Name, l.Color, l.Keypoints, l.Skeleton }),
        items = dataset.Items.Select(i => new { i.RefId, i.Width, i.Height, i.MetadataJson, i.MediaPath, i.MediaUrl, i.Annotations }),
        skipped = dataset.Skipped.Select(s => s.ToString()),
    });

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_root.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private void Image(string relative, int width, int height)
    {
        var path = Path.Combine(_root.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TestImages.Png(width, height));
    }
}
