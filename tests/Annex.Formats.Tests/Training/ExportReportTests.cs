using System.Text.Json;
using Xunit;

namespace Annex.Formats.Tests.Training;

public class ExportReportTests
{
    private static readonly ReportItem Item = new(Guid.Parse("11111111-2222-3333-4444-555555555555"), "frame_1");

    private static async Task<JsonDocument> WriteAsync(ExportReport report)
    {
        using var output = new MemoryStream();
        await report.WriteAsync(output, CancellationToken.None);
        return JsonDocument.Parse(output.ToArray());
    }

    [Fact]
    public async Task Counts_every_change_and_keeps_a_bounded_list_of_examples()
    {
        using var report = new ExportReport("YOLO", maxExamplesPerReason: 2);
        report.CountItem();
        report.CountAnnotationRead(10);
        for (var i = 0; i < 4; i++)
        {
            report.Change(ReportChanges.ClippedToImage, Item, "car");
            report.CountAnnotationWritten();
        }

        report.Change(ReportChanges.DroppedZeroArea, Item, "car", "0 x 4 after clipping");
        report.Unsupported(AnnotationTypes.Cuboid, Item, "van");
        report.Unsupported(AnnotationTypes.Cuboid, Item, "van");
        report.ItemWithoutImageSize(Item, skippedAnnotations: 3);

        Assert.Equal(4, report.ChangeCount(ReportChanges.ClippedToImage));
        Assert.Equal(2, report.UnsupportedCount(AnnotationTypes.Cuboid));

        using var document = await WriteAsync(report);
        var root = document.RootElement;
        Assert.Equal("YOLO", root.GetProperty("format").GetString());
        Assert.Equal(1, root.GetProperty("items").GetInt64());
        Assert.Equal(10, root.GetProperty("annotations").GetProperty("read").GetInt64());
        Assert.Equal(4, root.GetProperty("annotations").GetProperty("written").GetInt64());
        Assert.Equal(1, root.GetProperty("items_without_image_size").GetInt64());
        var changes = root.GetProperty("changes");
        Assert.Equal(4, changes.GetProperty(ReportChanges.ClippedToImage).GetInt64());
        Assert.Equal(1, changes.GetProperty(ReportChanges.DroppedZeroArea).GetInt64());
        Assert.Equal(3, changes.GetProperty(ReportChanges.NoImageSize).GetInt64());
        Assert.Equal(2, root.GetProperty("unsupported").GetProperty("cuboid").GetInt64());

        var examples = root.GetProperty("examples").EnumerateArray().ToList();
        Assert.Equal(2, examples.Count(e => e.GetProperty("reason").GetString() == ReportChanges.ClippedToImage));
        Assert.Equal(2, examples.Count(e => e.GetProperty("reason").GetString() == "unsupported_type"));
        Assert.Equal(6, examples.Count);
        var dropped = examples.Single(e => e.GetProperty("reason").GetString() == ReportChanges.DroppedZeroArea);
        Assert.Equal("frame_1", dropped.GetProperty("ref_id").GetString());
        Assert.Equal(Item.Uid, dropped.GetProperty("uid").GetGuid());
        Assert.Equal("car", dropped.GetProperty("label").GetString());
        Assert.True(root.GetProperty("examples_truncated").GetBoolean());
        Assert.Empty(root.GetProperty("external_media").EnumerateArray());
    }

    [Fact]
    public async Task Changes_count_only_for_annotations_that_are_written()
    {
        using var report = new ExportReport("COCO");
        report.CountAnnotationRead(4);

        // Clipped and written.
        report.Change(ReportChanges.ClippedToImage, Item, "car");
        report.CountAnnotationWritten();

        // Wholly outside: clipped to nothing, then dropped. Only the drop counts.
        report.Change(ReportChanges.ClippedToImage, Item, "car");
        report.Change(ReportChanges.DroppedZeroArea, Item, "car");

        // A rotated box converted, clipped, then found empty.
        report.Change(ReportChanges.BoxToPolygon, Item, "sign");
        report.Change(ReportChanges.ClippedToImage, Item, "sign");
        report.Change(ReportChanges.DroppedZeroArea, Item, "sign");

        // Keypoints outside the image on an annotation the format cannot write.
        report.Change(ReportChanges.KeypointOutsideImage, Item, "person");
        report.Unsupported(AnnotationTypes.Keypoints, Item, "person");

        Assert.Equal(1, report.ChangeCount(ReportChanges.ClippedToImage));
        Assert.Equal(2, report.ChangeCount(ReportChanges.DroppedZeroArea));
        Assert.Equal(0, report.ChangeCount(ReportChanges.BoxToPolygon));
        Assert.Equal(0, report.ChangeCount(ReportChanges.KeypointOutsideImage));
        Assert.Equal(report.AnnotationsRead, report.AnnotationsWritten + report.ChangeCount(ReportChanges.DroppedZeroArea) + report.UnsupportedTypes.Values.Sum());

        using var document = await WriteAsync(report);
        var reasons = document.RootElement.GetProperty("examples").EnumerateArray().Select(e => e.GetProperty("reason").GetString()).ToList();
        Assert.Equal([ReportChanges.ClippedToImage, ReportChanges.DroppedZeroArea, ReportChanges.DroppedZeroArea, "unsupported_type"], reasons);
    }

    [Fact]
    public async Task Lists_every_item_whose_media_is_only_at_an_external_url()
    {
        using var report = new ExportReport("YOLO", maxExamplesPerReason: 1);
        for (var i = 0; i < 3000; i++)
        {
            report.ExternalMedia(new ReportItem(Guid.NewGuid(), $"frame_{i}"), $"https://cdn.example.com/{i}.jpg?sig=\"x\"");
        }

        using var document = await WriteAsync(report);
        var listed = document.RootElement.GetProperty("external_media").EnumerateArray().ToList();
        Assert.Equal(3000, listed.Count);
        Assert.Equal("frame_2999", listed[^1].GetProperty("ref_id").GetString());
        Assert.Equal("https://cdn.example.com/2999.jpg?sig=\"x\"", listed[^1].GetProperty("media_url").GetString());
        Assert.Equal(3000, document.RootElement.GetProperty("images").GetProperty("at_external_url").GetInt64());
        Assert.False(document.RootElement.GetProperty("examples_truncated").GetBoolean());
    }
}
