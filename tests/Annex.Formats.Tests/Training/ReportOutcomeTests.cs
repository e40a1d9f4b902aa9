using System.IO.Compression;
using Annex.Formats.Tests.Yolo;
using Xunit;

namespace Annex.Formats.Tests.Training;

/// <summary>Every training writer counts each annotation under exactly one outcome: a shape wholly outside the image
/// is dropped, and the changes on the way to nothing (clipped, converted) are not counted besides.</summary>
public sealed class ReportOutcomeTests
{
    public static TheoryData<string> Formats => ["YOLO", "YOLO-SEG", "YOLO-OBB", "YOLO-POSE", "COCO", "VOC"];

    private static ITrainingArchiveWriter Create(string format, TrainingArchiveSettings settings) => format switch
    {
        "YOLO" => new YoloArchiveWriter(settings, YoloTask.Detect),
        "YOLO-SEG" => new YoloArchiveWriter(settings, YoloTask.Segment),
        "YOLO-OBB" => new YoloArchiveWriter(settings, YoloTask.Obb),
        "YOLO-POSE" => new YoloArchiveWriter(settings, YoloTask.Pose),
        "COCO" => new CocoArchiveWriter(settings),
        "VOC" => new VocArchiveWriter(settings),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Shapes_wholly_outside_the_image_are_dropped_and_not_also_clipped_or_converted(string format)
    {
        var item = new TrainingItem(new Guid(1, 0, 0, new byte[8]), "frame", """{"split":"train"}""", 200, 100, null,
        [
            EdgeCaseDataset.Box("car", 10, 10, 20, 20),                            // inside: written
            EdgeCaseDataset.Box("car", -10, 10, 30, 20),                           // crosses the left border: clipped, written
            EdgeCaseDataset.Box("car", 250, 10, 20, 20),                           // wholly outside: dropped
            EdgeCaseDataset.Box("car", 400, 40, 20, 10, 0.3),                      // rotated, wholly outside: dropped
            EdgeCaseDataset.Polygon("car", (300, 10), (320, 10), (310, 30)),       // wholly outside: dropped
        ]);
        using var report = new ExportReport(format);
        await using (var writer = Create(format, new TrainingArchiveSettings(new MemoryStream(), EdgeCaseDataset.Classes, report, DateTime.UnixEpoch, CompressionLevel.Fastest)))
        {
            await writer.WriteItemAsync(item, null, CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }

        Assert.Equal(5, report.AnnotationsRead);
        Assert.Equal(2, report.AnnotationsWritten);
        Assert.Equal(3, report.ChangeCount(ReportChanges.DroppedZeroArea));
        Assert.Equal(1, report.ChangeCount(ReportChanges.ClippedToImage));
        Assert.Equal(0, report.ChangeCount(ReportChanges.RotatedBoxToBox));
        Assert.Equal(0, report.ChangeCount(ReportChanges.PolygonToBox));
        Assert.Equal(report.AnnotationsRead, EdgeCaseDataset.Accounted(report));
    }

    [Theory]
    [InlineData("YOLO-POSE")]
    [InlineData("COCO")]
    public async Task A_box_written_with_its_keypoints_shares_their_outcome(string format)
    {
        var item = new TrainingItem(new Guid(2, 0, 0, new byte[8]), "frame", """{"split":"train"}""", 200, 100, null,
        [
            // Wholly outside the image: the box and its keypoints are both dropped.
            EdgeCaseDataset.Box("person", 300, 10, 40, 40),
            EdgeCaseDataset.Keypoints("person", (310, 20, "nose", true)),

            // A label in no exported project: both are unknown.
            EdgeCaseDataset.Box("ghost", 10, 10, 40, 40),
            EdgeCaseDataset.Keypoints("ghost", (20, 20, "nose", true)),

            // Written together.
            EdgeCaseDataset.Box("person", 100, 10, 40, 40),
            EdgeCaseDataset.Keypoints("person", (110, 20, "nose", true)),
        ]);
        using var report = new ExportReport(format);
        await using (var writer = Create(format, new TrainingArchiveSettings(new MemoryStream(), EdgeCaseDataset.Classes, report, DateTime.UnixEpoch, CompressionLevel.Fastest)))
        {
            await writer.WriteItemAsync(item, null, CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }

        Assert.Equal(6, report.AnnotationsRead);
        Assert.Equal(2, report.AnnotationsWritten);
        Assert.Equal(2, report.ChangeCount(ReportChanges.DroppedZeroArea));
        Assert.Equal(2, report.ChangeCount(ReportChanges.UnknownLabel));
        Assert.Equal(report.AnnotationsRead, EdgeCaseDataset.Accounted(report));
    }
}
