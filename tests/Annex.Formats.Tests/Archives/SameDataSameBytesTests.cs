using Annex.Formats.Tests.Yolo;
using Xunit;

namespace Annex.Formats.Tests.Archives;

/// <summary>The same items written twice with the same export time give the same archive, byte for byte.</summary>
public sealed class SameDataSameBytesTests
{
    public static TheoryData<string> Formats => ["YOLO", "YOLO-SEG", "YOLO-OBB", "YOLO-POSE", "COCO", "VOC", "CSV"];

    private static ITrainingArchiveWriter Create(string format, TrainingArchiveSettings settings) => format switch
    {
        "YOLO" => new YoloArchiveWriter(settings, YoloTask.Detect),
        "YOLO-SEG" => new YoloArchiveWriter(settings, YoloTask.Segment),
        "YOLO-OBB" => new YoloArchiveWriter(settings, YoloTask.Obb),
        "YOLO-POSE" => new YoloArchiveWriter(settings, YoloTask.Pose),
        "COCO" => new CocoArchiveWriter(settings),
        "VOC" => new VocArchiveWriter(settings),
        "CSV" => new CsvArchiveWriter(settings),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Two_archives_of_the_same_items_are_byte_identical(string format)
    {
        var (first, _) = await EdgeCaseDataset.WriteAsync(s => Create(format, s), format);
        var (second, _) = await EdgeCaseDataset.WriteAsync(s => Create(format, s), format);
        Assert.Equal(first, second);
    }
}
