using System.IO.Compression;
using System.Text.Json;
using Annex.Tests;

namespace Annex.Formats.Tests.Yolo;

/// <summary>A small dataset with every case a training format must handle: boxes touching and crossing the
/// image border, zero-area and outside boxes, polygons, rotated boxes, keypoints, cuboids, polylines,
/// classifications, an unknown label, a duplicate, a background image, an item without size, two items with the
/// same ref_id, splits, and media stored, external or missing.</summary>
public static class EdgeCaseDataset
{
    public const int Width = 200;
    public const int Height = 100;

    public static ClassList Classes { get; } = new([[
        new LabelRecord("car", "#FF0000", null, null, null),
        new LabelRecord("person", "#00FF00", null, ["nose", "left_eye", "right_eye"], [[1, 2], [1, 3]]),
        new LabelRecord("sign: \"stop\"", "#0000FF", null, null, null),
    ]]);

    public static StoredAnnotation Annotation(string json) => StoredAnnotations.Read($"[{json}]")[0];

    private static StoredAnnotation From(object annotation) => Annotation(JsonSerializer.Serialize(annotation));

    public static StoredAnnotation Box(string label, double x, double y, double w, double h, double? rotation = null) => rotation is null
        ? From(new { label, type = "bounding_box", coordinates = new { x, y, width = w, height = h }, attributes = new { } })
        : From(new { label, type = "bounding_box", coordinates = new { x, y, width = w, height = h, rotation }, attributes = new { } });

    public static StoredAnnotation Polygon(string label, params (double X, double Y)[] vertices) =>
        From(new { label, type = "polygon", coordinates = new { vertices = vertices.Select(v => new[] { v.X, v.Y }) } });

    public static StoredAnnotation Keypoints(string label, params (double X, double Y, string Name, bool Visible)[] points) =>
        From(new { label, type = "keypoints", coordinates = new { points = points.Select(p => new { x = p.X, y = p.Y, label = p.Name, visible = p.Visible }) } });

    public static StoredAnnotation Cuboid(string label) => From(new
    {
        label,
        type = "cuboid",
        coordinates = new { center = new { x = 1, y = 2, z = 3 }, dimensions = new { length = 4, width = 2, height = 1.5 }, rotation = new { yaw = 0.1, pitch = 0, roll = 0 } },
    });

    public static StoredAnnotation Polyline(string label) =>
        From(new { label, type = "polyline", coordinates = new { vertices = new[] { new[] { 1.0, 1.0 }, [20.0, 30.0] } } });

    public static StoredAnnotation Classification(string label) => From(new { label, type = "classification" });

    private static Guid Uid(int n) => new($"00000000-0000-0000-0000-{n:D12}");

    public static IReadOnlyList<(TrainingItem Item, byte[]? Image)> Items() =>
    [
        (new TrainingItem(Uid(1), "scene/a.jpg", """{"split":"train"}""", Width, Height, null,
        [
            Box("car", 10, 10, 50, 30),
            Box("car", 0, 0, Width, Height),                 // touches every border
            Box("car", -20, 60, 60, 60),                     // crosses two borders: clipped
            Box("car", 30, 30, 0, 20),                       // zero width: dropped
            Box("car", 250, 10, 20, 20),                     // wholly outside: dropped
            Box("car", 10, 10, 50, 30),                      // duplicate of the first
            Polygon("sign: \"stop\"", (150, 10), (230, 20), (160, 90)),  // crosses the right border
            Box("sign: \"stop\"", 80, 20, 40, 20, Math.PI / 6), // rotated
            Keypoints("person", (50, 40, "nose", true), (45, 35, "left_eye", false), (300, 35, "right_eye", true)),
            Cuboid("car"),
            Polyline("car"),
            Classification("car"),
            Box("bicycle", 1, 1, 5, 5),                      // not in the taxonomy
        ]), TestImages.Png(Width, Height)),
        (new TrainingItem(Uid(2), "scene/a.jpg", """{"split":"val"}""", Width, Height, null,
            [Box("car", 199, 99, 10, 10), Box("person", 20, 20, 30, 60), Keypoints("person", (30, 30, "nose", true))]), TestImages.Png(Width, Height)),
        (new TrainingItem(Uid(3), "background", "{}", Width, Height, "https://example.com/bg.jpg", []), null),
        (new TrainingItem(Uid(4), "no size", "{}", null, null, null, [Box("car", 1, 1, 2, 2)]), null),
        (new TrainingItem(Uid(5), "../../etc/passwd", """{"split":"test"}""", Width, Height, null, [Polygon("car", (0, 0), (200, 0), (200, 100))]), TestImages.Png(Width, Height)),
    ];

    /// <summary>Writes the dataset with the writer <paramref name="create"/> makes and returns the archive.</summary>
    public static async Task<(byte[] Archive, ExportReport Report)> WriteAsync(Func<TrainingArchiveSettings, ITrainingArchiveWriter> create, string format)
    {
        var output = new MemoryStream();
        var report = new ExportReport(format);
        await using (var writer = create(new TrainingArchiveSettings(output, Classes, report, new DateTime(2026, 1, 2, 3, 4, 6, DateTimeKind.Utc), CompressionLevel.Fastest)))
        {
            foreach (var (item, image) in Items())
            {
                await writer.WriteItemAsync(item, image is null ? null : new TrainingImage(new MemoryStream(image), ".png"), CancellationToken.None);
            }

            await writer.CompleteAsync(CancellationToken.None);
        }

        return (output.ToArray(), report);
    }

    /// <summary>Every annotation read is accounted for once: written, or left out for a reason the report names.</summary>
    public static long Accounted(ExportReport report) =>
        report.AnnotationsWritten
        + report.ChangeCount(ReportChanges.DroppedZeroArea)
        + report.ChangeCount(ReportChanges.UnknownLabel)
        + report.ChangeCount(ReportChanges.DuplicateRemoved)
        + report.ChangeCount(ReportChanges.NoImageSize)
        + report.UnsupportedTypes.Values.Sum();
}
