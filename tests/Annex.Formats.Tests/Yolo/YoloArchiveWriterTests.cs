using System.IO.Compression;
using System.Text.Json;
using Annex.Formats.Import;
using Annex.Tests;
using Xunit;

namespace Annex.Formats.Tests.Yolo;

public sealed class YoloArchiveWriterTests
{
    public static TheoryData<YoloTask> Tasks => [YoloTask.Detect, YoloTask.Segment, YoloTask.Obb, YoloTask.Pose];

    [Theory]
    [MemberData(nameof(Tasks))]
    public async Task Every_task_passes_the_Ultralytics_label_checks_and_accounts_for_every_annotation(YoloTask task)
    {
        var (archive, report) = await EdgeCaseDataset.WriteAsync(s => new YoloArchiveWriter(s, task), "YOLO");
        using var zip = new ZipArchive(new MemoryStream(archive));

        var check = UltralyticsChecks.Check(zip, YoloArchiveWriter.TaskName(task));
        Assert.Empty(check.Problems);
        Assert.Equal(3, check.Images);
        Assert.True(check.Rows > 0);

        Assert.Equal(5, report.Items);
        Assert.Equal(report.AnnotationsRead, EdgeCaseDataset.Accounted(report));
        Assert.Equal(1, report.UnsupportedCount(AnnotationTypes.Cuboid));
        Assert.Equal(1, report.UnsupportedCount(AnnotationTypes.Polyline));
        Assert.Equal(1, report.UnsupportedCount(AnnotationTypes.Classification));
        Assert.Equal(1, report.ChangeCount(ReportChanges.UnknownLabel));
        Assert.Equal(1, report.ChangeCount(ReportChanges.NoImageSize));
        Assert.True(report.ChangeCount(ReportChanges.ClippedToImage) >= 2);
        Assert.True(report.ChangeCount(ReportChanges.DroppedZeroArea) >= 2);

        using var reportJson = JsonDocument.Parse(zip.GetEntry(ExportReport.EntryName)!.Open());
        Assert.Equal(1, reportJson.RootElement.GetProperty("unsupported").GetProperty("cuboid").GetInt32());
        var external = Assert.Single(reportJson.RootElement.GetProperty("external_media").EnumerateArray());
        Assert.Equal("https://example.com/bg.jpg", external.GetProperty("media_url").GetString());
        Assert.Equal(3, reportJson.RootElement.GetProperty("images").GetProperty("included").GetInt32());
    }

    [Fact]
    public async Task Detection_labels_are_normalized_clipped_and_in_taxonomy_order()
    {
        var (archive, _) = await EdgeCaseDataset.WriteAsync(s => new YoloArchiveWriter(s, YoloTask.Detect), "YOLO");
        using var zip = new ZipArchive(new MemoryStream(archive));
        var names = zip.Entries.Select(e => e.FullName).ToList();

        // Two items share a ref_id: their stems differ; a ref_id with ".." stays inside its folder.
        var first = $"a_{new Guid("00000000-0000-0000-0000-000000000001"):N}";
        var second = $"a_{new Guid("00000000-0000-0000-0000-000000000002"):N}";
        Assert.Contains($"images/train/{first}.png", names);
        Assert.Contains($"labels/train/{first}.txt", names);
        Assert.Contains($"images/val/{second}.png", names);
        Assert.Contains(names, n => n.StartsWith("labels/test/passwd_", StringComparison.Ordinal));
        Assert.All(names, n => Assert.DoesNotContain("..", n, StringComparison.Ordinal));
        // The background item has an empty label file; the item without a size has none.
        Assert.Equal("", Read(zip, $"labels/train/background_{new Guid("00000000-0000-0000-0000-000000000003"):N}.txt"));
        Assert.DoesNotContain(names, n => n.Contains("no_size", StringComparison.Ordinal));

        var rows = Read(zip, $"labels/train/{first}.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0 0.175000 0.250000 0.250000 0.300000", rows[0]);
        Assert.Equal("0 0.500000 0.500000 1.000000 1.000000", rows[1]);
        Assert.Equal("0 0.100000 0.800000 0.200000 0.400000", rows[2]); // -20..40 x 60..100 clipped to 0..40
        Assert.Equal(5, rows.Length); // + the polygon's box, the rotated box; keypoints are not detection

        var yaml = Read(zip, YoloArchiveWriter.DataYaml);
        Assert.Contains("train: images/train\nval: images/val\ntest: images/test\n", yaml, StringComparison.Ordinal);
        Assert.Contains("names:\n  0: \"car\"\n  1: \"person\"\n  2: \"sign: \\\"stop\\\"\"\n", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("path:", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pose_keeps_keypoint_slots_by_name_and_flips_left_with_right()
    {
        var (archive, report) = await EdgeCaseDataset.WriteAsync(s => new YoloArchiveWriter(s, YoloTask.Pose), "YOLO-POSE");
        using var zip = new ZipArchive(new MemoryStream(archive));
        var yaml = Read(zip, YoloArchiveWriter.DataYaml);
        Assert.Contains("kpt_shape: [3, 3]\nflip_idx: [0, 2, 1]\n", yaml, StringComparison.Ordinal);
        Assert.Equal(1, report.ChangeCount(ReportChanges.KeypointOutsideImage));

        // Item 2: the person box frames the nose keypoint, so they share one row.
        var second = Read(zip, $"labels/val/a_{new Guid("00000000-0000-0000-0000-000000000002"):N}.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("1 0.175000 0.500000 0.150000 0.600000 0.150000 0.300000 2 0.000000 0.000000 0 0.000000 0.000000 0", second);
    }

    [Fact]
    public void Without_val_items_val_points_at_the_train_images()
    {
        var report = new ExportReport("YOLO");
        using var output = new MemoryStream();
        var writer = new YoloArchiveWriter(new TrainingArchiveSettings(output, EdgeCaseDataset.Classes, report, DateTime.UnixEpoch.AddYears(20), CompressionLevel.Fastest), YoloTask.Detect);
        Assert.Contains("train: images/train\nval: images/train\n", writer.DataYamlText(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public async Task Export_import_export_gives_the_same_labels(YoloTask task)
    {
        var (archive, _) = await EdgeCaseDataset.WriteAsync(s => new YoloArchiveWriter(s, task), "YOLO");
        var folder = Path.Combine(Path.GetTempPath(), "annex-yolo-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var zip = new ZipArchive(new MemoryStream(archive)))
            {
                zip.ExtractToDirectory(folder);
            }

            var imported = YoloImporter.Read(folder);
            var classes = new ClassList([imported.Labels.Select(l => new LabelRecord(l.Name, "#000000", null, l.Keypoints, l.Skeleton))]);
            var output = new MemoryStream();
            var report = new ExportReport("YOLO");
            await using (var writer = new YoloArchiveWriter(new TrainingArchiveSettings(output, classes, report, DateTime.UnixEpoch.AddYears(20), CompressionLevel.Fastest), task))
            {
                foreach (var (item, index) in imported.Items.Select((item, index) => (item, index)))
                {
                    var annotations = item.Annotations.Select(a => EdgeCaseDataset.Annotation(
                        $$"""{"label":{{JsonSerializer.Serialize(a.Label)}},"type":"{{a.Type}}","coordinates":{{a.CoordinatesJson ?? "null"}}}""")).ToList();
                    var uid = new Guid(index + 1, 0, 0, new byte[8]);
                    await writer.WriteItemAsync(new TrainingItem(uid, item.RefId, item.MetadataJson, item.Width, item.Height, null, annotations), null, CancellationToken.None);
                }

                await writer.CompleteAsync(CancellationToken.None);
            }

            using var first = new ZipArchive(new MemoryStream(archive));
            using var again = new ZipArchive(new MemoryStream(output.ToArray()));
            // The imported ref_ids are the first export's stems; each label file must come back row for row.
            foreach (var item in imported.Items.Where(i => i.Width is not null))
            {
                var split = JsonDocument.Parse(item.MetadataJson).RootElement.GetProperty("split").GetString();
                var before = Read(first, $"labels/{split}/{item.RefId}.txt");
                var after = again.Entries.Single(e => e.FullName.StartsWith($"labels/{split}/{FileStems.SafeRef(item.RefId)}_", StringComparison.Ordinal));
                using var reader = new StreamReader(after.Open());
                AssertSameRows(before, reader.ReadToEnd());
            }

            Assert.Equal(0, report.ChangeCount(ReportChanges.DroppedZeroArea));
            Assert.Equal(0, report.ChangeCount(ReportChanges.ClippedToImage));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Flip_index_swaps_left_and_right_names()
    {
        Assert.Equal([0, 2, 1, 4, 3], YoloArchiveWriter.FlipIndex(["nose", "left_eye", "right_eye", "Left Hand", "Right Hand"]));
        Assert.Equal([0, 1], YoloArchiveWriter.FlipIndex([null, "left_only"]));
    }

    /// <summary>Row for row the same, each value within YOLO's precision (6 decimals, one unit of rounding).</summary>
    private static void AssertSameRows(string expected, string actual)
    {
        var expectedRows = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var actualRows = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expectedRows.Length, actualRows.Length);
        foreach (var (e, a) in expectedRows.Zip(actualRows))
        {
            var ev = e.Split(' ').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var av = a.Split(' ').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(ev.Length, av.Length);
            Assert.All(ev.Zip(av), pair => Assert.True(Math.Abs(pair.First - pair.Second) <= 1.5e-6, $"{e}\n{a}"));
        }
    }

    private static string Read(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new Xunit.Sdk.XunitException($"{name} is not in the archive: {string.Join(", ", zip.Entries.Select(e => e.FullName))}");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }
}
