using System.IO.Compression;
using System.Text.Json;
using Annex.Formats.Import;
using Annex.Formats.Tests.Yolo;
using Annex.Tests;
using Xunit;

namespace Annex.Formats.Tests.Coco;

public sealed class CocoArchiveWriterTests
{
    [Fact]
    public async Task The_edge_case_dataset_passes_the_COCO_checks_and_accounts_for_every_annotation()
    {
        var (archive, report) = await EdgeCaseDataset.WriteAsync(s => new CocoArchiveWriter(s), "COCO");
        using var zip = new ZipArchive(new MemoryStream(archive));

        Assert.Equal(
            [
                "annotations/instances_train.json", "annotations/person_keypoints_train.json",
                "annotations/instances_val.json", "annotations/person_keypoints_val.json",
                "annotations/instances_test.json", "annotations/person_keypoints_test.json",
            ],
            zip.Entries.Where(e => e.FullName.StartsWith("annotations/", StringComparison.Ordinal)).Select(e => e.FullName));
        Assert.Empty(CocoChecks.CheckArchive(zip));
        var images = 0;
        foreach (var split in Splits.All)
        {
            using var document = JsonDocument.Parse(zip.GetEntry(CocoArchiveWriter.EntryName(split))!.Open());
            var categories = document.RootElement.GetProperty("categories");
            Assert.Equal([1, 2, 3], categories.EnumerateArray().Select(c => c.GetProperty("id").GetInt32()));
            Assert.Equal("person", categories[1].GetProperty("name").GetString());
            Assert.Equal(3, categories[1].GetProperty("keypoints").GetArrayLength());
            Assert.Equal("[[1,2],[1,3]]", categories[1].GetProperty("skeleton").GetRawText());
            foreach (var image in document.RootElement.GetProperty("images").EnumerateArray())
            {
                images++;
                Assert.Equal(1, document.RootElement.GetProperty("images")[0].GetProperty("id").GetInt32());
                if (image.TryGetProperty("coco_url", out _))
                {
                    continue;
                }

                var file = $"images/{split}/{image.GetProperty("file_name").GetString()}";
                Assert.True(zip.GetEntry(file) is not null || !image.TryGetProperty("width", out _) || image.GetProperty("annex_ref_id").GetString() == "background", file);
            }
        }

        // The item without width/height is left out, its annotation counted under no_image_size.
        Assert.Equal(4, images);
        Assert.Equal(1, report.ChangeCount(ReportChanges.NoImageSize));
        Assert.Equal(report.AnnotationsRead, EdgeCaseDataset.Accounted(report));
        Assert.Equal(1, report.UnsupportedCount(AnnotationTypes.Cuboid));
        Assert.Equal(1, report.ChangeCount(ReportChanges.UnknownLabel));
    }

    [Fact]
    public async Task Boxes_are_absolute_pixels_with_their_corners_as_segmentation_and_keypoints_take_their_box_in_the_keypoints_file()
    {
        var (archive, _) = await EdgeCaseDataset.WriteAsync(s => new CocoArchiveWriter(s), "COCO");
        using var zip = new ZipArchive(new MemoryStream(archive));
        using var val = JsonDocument.Parse(zip.GetEntry(CocoArchiveWriter.EntryName(Splits.Val))!.Open());
        var annotations = val.RootElement.GetProperty("annotations").EnumerateArray().ToList();

        // Item 2: a car box clipped at the corner, a person box framing the nose keypoint.
        Assert.Equal(2, annotations.Count);
        Assert.Equal("[199,99,1,1]", annotations[0].GetProperty("bbox").GetRawText());
        Assert.Equal("[[199,99,200,99,200,100,199,100]]", annotations[0].GetProperty("segmentation").GetRawText());
        Assert.Equal(1, annotations[0].GetProperty("area").GetDouble());
        Assert.Equal(2, annotations[1].GetProperty("category_id").GetInt32());
        Assert.Equal("[20,20,30,60]", annotations[1].GetProperty("bbox").GetRawText());
        Assert.Equal("[[20,20,50,20,50,80,20,80]]", annotations[1].GetProperty("segmentation").GetRawText());
        Assert.False(annotations[1].TryGetProperty("keypoints", out _));

        // The keypoints: in person_keypoints_val.json, under the id of their object, with the keypoint labels only.
        using var keypoints = JsonDocument.Parse(zip.GetEntry("annotations/person_keypoints_val.json")!.Open());
        Assert.Equal(["person"], keypoints.RootElement.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(2, keypoints.RootElement.GetProperty("categories")[0].GetProperty("id").GetInt32());
        Assert.Equal(val.RootElement.GetProperty("images").GetRawText(), keypoints.RootElement.GetProperty("images").GetRawText());
        var person = Assert.Single(keypoints.RootElement.GetProperty("annotations").EnumerateArray());
        Assert.Equal(annotations[1].GetProperty("id").GetInt32(), person.GetProperty("id").GetInt32());
        Assert.Equal("[20,20,30,60]", person.GetProperty("bbox").GetRawText());
        Assert.Equal("[[20,20,50,20,50,80,20,80]]", person.GetProperty("segmentation").GetRawText());
        Assert.Equal("[30,30,2,0,0,0,0,0,0]", person.GetProperty("keypoints").GetRawText());
        Assert.Equal(1, person.GetProperty("num_keypoints").GetInt32());
    }

    [Fact]
    public async Task Without_keypoint_labels_there_is_no_keypoints_file()
    {
        var classes = new ClassList([[new LabelRecord("car", "#FF0000", null, null, null)]]);
        var output = new MemoryStream();
        using var report = new ExportReport("COCO");
        await using (var writer = new CocoArchiveWriter(new TrainingArchiveSettings(output, classes, report, DateTime.UnixEpoch, CompressionLevel.Fastest)))
        {
            await writer.WriteItemAsync(new TrainingItem(Guid.Empty, "a", "{}", 10, 10, null, [EdgeCaseDataset.Box("car", 1, 1, 2, 2)]), null, CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }

        using var zip = new ZipArchive(new MemoryStream(output.ToArray()));
        Assert.Equal(["annotations/instances_train.json", "export_report.json"], zip.Entries.Select(e => e.FullName));
        Assert.Empty(CocoChecks.CheckArchive(zip));
    }

    [Fact]
    public async Task Export_import_export_gives_the_same_annotations()
    {
        var (archive, _) = await EdgeCaseDataset.WriteAsync(s => new CocoArchiveWriter(s), "COCO");
        var folder = Path.Combine(Path.GetTempPath(), "annex-coco-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var zip = new ZipArchive(new MemoryStream(archive)))
            {
                zip.ExtractToDirectory(folder);
            }

            var imported = CocoImporter.ReadFolder(folder);
            var classes = new ClassList([imported.Labels.Select(l => new LabelRecord(l.Name, "#000000", null, l.Keypoints, l.Skeleton))]);
            var output = new MemoryStream();
            var report = new ExportReport("COCO");
            await using (var writer = new CocoArchiveWriter(new TrainingArchiveSettings(output, classes, report, DateTime.UnixEpoch.AddYears(20), CompressionLevel.Fastest)))
            {
                foreach (var (item, index) in imported.Items.Select((item, index) => (item, index)))
                {
                    var annotations = item.Annotations.Select(a => EdgeCaseDataset.Annotation(
                        $$"""{"label":{{JsonSerializer.Serialize(a.Label)}},"type":"{{a.Type}}","coordinates":{{a.CoordinatesJson ?? "null"}},"attributes":{{a.AttributesJson ?? "{}"}}}""")).ToList();
                    await writer.WriteItemAsync(new TrainingItem(new Guid(index + 1, 0, 0, new byte[8]), item.RefId, item.MetadataJson, item.Width, item.Height, item.MediaUrl, annotations), null, CancellationToken.None);
                }

                await writer.CompleteAsync(CancellationToken.None);
            }

            using var first = new ZipArchive(new MemoryStream(archive));
            using var again = new ZipArchive(new MemoryStream(output.ToArray()));
            Assert.Equal(first.Entries.Select(e => e.FullName).Where(n => n.StartsWith("annotations/", StringComparison.Ordinal)),
                again.Entries.Select(e => e.FullName).Where(n => n.StartsWith("annotations/", StringComparison.Ordinal)));
            foreach (var entry in first.Entries.Where(e => e.FullName.StartsWith("annotations/", StringComparison.Ordinal)))
            {
                using var before = JsonDocument.Parse(entry.Open());
                using var after = JsonDocument.Parse(again.GetEntry(entry.FullName)!.Open());
                var expected = Shapes(before);
                var actual = Shapes(after);
                Assert.Equal(expected.Count, actual.Count);
                foreach (var (e, a) in expected.Zip(actual))
                {
                    // Pixels are written to 4 decimals: one unit of rounding apart at most.
                    Assert.Equal(e.Length, a.Length);
                    Assert.True(e.Zip(a).All(p => Math.Abs(p.First - p.Second) <= 1.5e-4), $"{string.Join(",", e)}\n{string.Join(",", a)}");
                }
            }

            Assert.Equal(0, report.ChangeCount(ReportChanges.ClippedToImage));
            Assert.Equal(0, report.ChangeCount(ReportChanges.DroppedZeroArea));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>What an annotation says, without its id: image, category, bbox, segmentation, keypoints, as numbers.</summary>
    private static List<double[]> Shapes(JsonDocument document) =>
        [.. document.RootElement.GetProperty("annotations").EnumerateArray().Select(a => new[] { a.GetProperty("image_id").GetDouble(), a.GetProperty("category_id").GetDouble() }
            .Concat(a.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()))
            .Concat(a.GetProperty("segmentation").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble()))
            .Concat(a.TryGetProperty("keypoints", out var k) ? k.EnumerateArray().Select(v => v.GetDouble()) : [])
            .ToArray())];
}
