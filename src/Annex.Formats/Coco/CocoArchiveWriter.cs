using System.Text.Json;

namespace Annex.Formats;

/// <summary>
/// COCO instances: <c>annotations/instances_&lt;split&gt;.json</c> per split with items, images under
/// <c>images/&lt;split&gt;/</c>, and <c>export_report.json</c>. Image and annotation ids start at 1 in each file,
/// category ids at 1 in taxonomy order. Boxes are <c>[x, y, width, height]</c> in pixels with <c>segmentation: []</c>;
/// polygons and rotated boxes carry their outline as <c>segmentation</c>; keypoints go with the box that frames
/// them. Each split's arrays are spooled to a temporary file while items stream in, so memory stays flat.
/// </summary>
public sealed class CocoArchiveWriter : ITrainingArchiveWriter
{
    private readonly TrainingArchive _archive;
    private readonly ClassList _classes;
    private readonly ExportReport _report;
    private readonly DateTime _created;
    private readonly string? _tempFolder;
    private readonly Dictionary<string, SplitFile> _splits = new(StringComparer.Ordinal);

    public CocoArchiveWriter(TrainingArchiveSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _classes = settings.Classes;
        _report = settings.Report;
        _created = settings.TimestampUtc;
        _tempFolder = settings.TempFolder;
        _archive = new TrainingArchive(settings);
    }

    public static IReadOnlyList<string> Types { get; } = [AnnotationTypes.BoundingBox, AnnotationTypes.Polygon, AnnotationTypes.Keypoints];

    public bool IncludesImages => true;

    public static string EntryName(string split) => $"annotations/instances_{split}.json";

    public async Task WriteItemAsync(TrainingItem item, TrainingImage? image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        _report.CountItem();
        _report.CountAnnotationRead(item.Annotations.Count);
        var fileName = item.Stem + (image?.Extension ?? ExtensionOf(item.MediaUrl));
        await _archive.WriteMediaAsync(item, image, _report, $"images/{item.Split}/{fileName}", cancellationToken);

        if (!_splits.TryGetValue(item.Split, out var split))
        {
            split = new SplitFile(_tempFolder);
            _splits.Add(item.Split, split);
        }

        var imageId = ++split.ImageCount;
        var images = split.Images;
        images.WriteStartObject();
        images.WriteNumber("id", imageId);
        images.WriteString("file_name", fileName);
        if (item.HasImageSize)
        {
            images.WriteNumber("width", item.Width!.Value);
            images.WriteNumber("height", item.Height!.Value);
        }
        else
        {
            _report.ItemWithoutImageSize(item.ReportItem, 0);
        }

        if (image is null && !string.IsNullOrEmpty(item.MediaUrl))
        {
            images.WriteString("coco_url", item.MediaUrl);
        }

        images.WriteString("annex_uid", item.Uid);
        images.WriteString("annex_ref_id", item.RefId);
        images.WriteEndObject();

        var pairing = KeypointBoxes.Pair(item.Annotations);
        for (var i = 0; i < item.Annotations.Count; i++)
        {
            if (pairing.IsPairedBox(i))
            {
                // Written as the bbox of its keypoints.
                _report.CountAnnotationWritten();
                continue;
            }

            WriteAnnotation(split, imageId, item, item.Annotations[i], pairing.Box(i));
        }

        await split.FlushIfNeededAsync(cancellationToken);
    }

    private void WriteAnnotation(SplitFile split, int imageId, TrainingItem item, StoredAnnotation annotation, BoxShape? pairedBox)
    {
        if (!_classes.TryGetIndex(annotation.Label, out var classIndex))
        {
            _report.Change(ReportChanges.UnknownLabel, item.ReportItem, annotation.Label, "The label is in none of the exported projects.");
            return;
        }

        var shape = annotation.Shape switch
        {
            BoxShape { IsRotated: false } box => BoxAnnotation(item, annotation.Label, box.Unrotated),
            BoxShape box => PolygonAnnotation(item, annotation.Label, Geometry.Corners(box), ReportChanges.BoxToPolygon),
            PolygonShape polygon => PolygonAnnotation(item, annotation.Label, polygon.Vertices, null),
            KeypointsShape keypoints => KeypointAnnotation(item, annotation.Label, classIndex, keypoints, pairedBox),
            _ => Unsupported(item, annotation),
        };
        if (shape is null)
        {
            return;
        }

        var json = split.Annotations;
        json.WriteStartObject();
        json.WriteNumber("id", ++split.AnnotationCount);
        json.WriteNumber("image_id", imageId);
        json.WriteNumber("category_id", classIndex + 1);
        json.WriteStartArray("bbox");
        json.WriteNumberValue(Round(shape.Bounds.Left));
        json.WriteNumberValue(Round(shape.Bounds.Top));
        json.WriteNumberValue(Round(shape.Bounds.Width));
        json.WriteNumberValue(Round(shape.Bounds.Height));
        json.WriteEndArray();
        json.WriteNumber("area", Round(shape.Area));
        json.WriteStartArray("segmentation");
        if (shape.Outline is not null)
        {
            json.WriteStartArray();
            foreach (var point in shape.Outline)
            {
                json.WriteNumberValue(Round(point.X));
                json.WriteNumberValue(Round(point.Y));
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
        if (shape.Keypoints is not null)
        {
            json.WriteStartArray("keypoints");
            var labelled = 0;
            foreach (var point in shape.Keypoints)
            {
                json.WriteNumberValue(point is null ? 0 : Round(point.X));
                json.WriteNumberValue(point is null ? 0 : Round(point.Y));
                json.WriteNumberValue(point is null ? 0 : point.Visible == false ? 1 : 2);
                labelled += point is null ? 0 : 1;
            }

            json.WriteEndArray();
            json.WriteNumber("num_keypoints", labelled);
        }

        json.WriteNumber("iscrowd", 0);
        json.WritePropertyName("attributes");
        json.WriteRawValue(annotation.AttributesJson);
        json.WriteEndObject();
        _report.CountAnnotationWritten();
    }

    private sealed record CocoShape(PixelRect Bounds, double Area, IReadOnlyList<PixelPoint>? Outline, KeypointValue?[]? Keypoints);

    private CocoShape? BoxAnnotation(TrainingItem item, string label, PixelRect bounds)
    {
        bounds = Clip(item, label, bounds);
        if (bounds.IsEmpty)
        {
            _report.Change(ReportChanges.DroppedZeroArea, item.ReportItem, label, "No area is left inside the image.");
            return null;
        }

        return new CocoShape(bounds, bounds.Width * bounds.Height, null, null);
    }

    private CocoShape? PolygonAnnotation(TrainingItem item, string label, IReadOnlyList<PixelPoint> vertices, string? change)
    {
        if (change is not null)
        {
            _report.Change(change, item.ReportItem, label, "A rotated box is written as its four corners in segmentation.");
        }

        if (item.HasImageSize && !Geometry.IsInside(vertices, item.Width!.Value, item.Height!.Value))
        {
            _report.Change(ReportChanges.ClippedToImage, item.ReportItem, label);
            vertices = Geometry.ClipToImage(vertices, item.Width.Value, item.Height.Value);
        }

        var area = vertices.Count >= 3 ? Geometry.Area(vertices) : 0;
        if (!(area > 0))
        {
            _report.Change(ReportChanges.DroppedZeroArea, item.ReportItem, label, "No area is left inside the image.");
            return null;
        }

        return new CocoShape(Geometry.BoundingBox(vertices), area, vertices, null);
    }

    private CocoShape? KeypointAnnotation(TrainingItem item, string label, int classIndex, KeypointsShape keypoints, BoxShape? pairedBox)
    {
        var names = _classes.Labels[classIndex].Keypoints;
        if (names is not { Count: > 0 })
        {
            _report.Unsupported(AnnotationTypes.Keypoints, item.ReportItem, label);
            return null;
        }

        var slots = KeypointSlots.Place(
            keypoints, names, names.Count, names.Count,
            item.HasImageSize ? item.Width : null, item.HasImageSize ? item.Height : null, _report, item.ReportItem, label);

        PixelRect bounds;
        if (pairedBox is not null)
        {
            if (pairedBox.IsRotated)
            {
                _report.Change(ReportChanges.RotatedBoxToBox, item.ReportItem, label);
            }

            bounds = Clip(item, label, Geometry.Bounds(pairedBox));
        }
        else
        {
            var placed = slots.Where(p => p is not null).Select(p => new PixelPoint(p!.X, p.Y)).ToList();
            if (placed.Count == 0)
            {
                _report.Change(ReportChanges.DroppedZeroArea, item.ReportItem, label, "No keypoint is inside the image.");
                return null;
            }

            bounds = Geometry.BoundingBox(placed);
        }

        if (bounds.IsEmpty)
        {
            // A COCO object needs a box with an area; YOLO pose drops the same keypoints for the same reason.
            _report.Change(ReportChanges.DroppedZeroArea, item.ReportItem, label, "The keypoints have no box and their labelled points span no area.");
            return null;
        }

        return new CocoShape(bounds, bounds.Width * bounds.Height, null, slots);
    }

    private CocoShape? Unsupported(TrainingItem item, StoredAnnotation annotation)
    {
        _report.Unsupported(annotation.Type, item.ReportItem, annotation.Label);
        return null;
    }

    private PixelRect Clip(TrainingItem item, string label, PixelRect bounds)
    {
        if (item.HasImageSize && !Geometry.IsInside(bounds, item.Width!.Value, item.Height!.Value))
        {
            _report.Change(ReportChanges.ClippedToImage, item.ReportItem, label);
            return Geometry.ClipToImage(bounds, item.Width.Value, item.Height.Value);
        }

        return bounds;
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_splits.Count == 0)
        {
            _splits.Add(Splits.Train, new SplitFile(_tempFolder));
        }

        foreach (var name in Splits.All.Where(_splits.ContainsKey))
        {
            var split = _splits[name];
            await using var entry = await _archive.OpenTextAsync(EntryName(name), cancellationToken);
            await using (var head = new Utf8JsonWriter(entry))
            {
                head.WriteStartObject();
                head.WriteStartObject("info");
                head.WriteString("description", $"Annex export ({name})");
                head.WriteString("version", "1.0");
                head.WriteNumber("year", _created.Year);
                head.WriteString("date_created", _created);
                head.WriteEndObject();
                head.WriteStartArray("licenses");
                head.WriteEndArray();
                WriteCategories(head);
                head.WritePropertyName("images");
                await head.FlushAsync(cancellationToken);
            }

            await split.CopyImagesAsync(entry, cancellationToken);
            await entry.WriteAsync(",\"annotations\":"u8.ToArray(), cancellationToken);
            await split.CopyAnnotationsAsync(entry, cancellationToken);
            await entry.WriteAsync("}\n"u8.ToArray(), cancellationToken);
        }

        await _archive.WriteReportAsync(_report, cancellationToken);
        await _archive.CompleteAsync(cancellationToken);
    }

    private void WriteCategories(Utf8JsonWriter json)
    {
        json.WriteStartArray("categories");
        for (var i = 0; i < _classes.Count; i++)
        {
            var label = _classes.Labels[i];
            json.WriteStartObject();
            json.WriteNumber("id", i + 1);
            json.WriteString("name", label.Name);
            json.WriteString("supercategory", "");
            if (label.Keypoints is { Count: > 0 } keypoints)
            {
                json.WriteStartArray("keypoints");
                foreach (var keypoint in keypoints)
                {
                    json.WriteStringValue(keypoint);
                }

                json.WriteEndArray();
                json.WriteStartArray("skeleton");
                foreach (var edge in label.Skeleton ?? [])
                {
                    json.WriteStartArray();
                    foreach (var end in edge)
                    {
                        json.WriteNumberValue(end);
                    }

                    json.WriteEndArray();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static string ExtensionOf(string? url)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            var extension = Path.GetExtension(uri.AbsolutePath).ToLowerInvariant();
            if (FileStems.IsImageExtension(extension))
            {
                return extension;
            }
        }

        return ".jpg";
    }

    /// <summary>Pixels to 1/10000: far below what any annotation tool places, and free of float noise.</summary>
    private static double Round(double value) => Math.Round(value, 4, MidpointRounding.AwayFromZero) + 0.0;

    public async ValueTask DisposeAsync()
    {
        foreach (var split in _splits.Values)
        {
            await split.DisposeAsync();
        }

        await _archive.DisposeAsync();
    }

    /// <summary>One split's images and annotations arrays, each spooled to a temporary file.</summary>
    private sealed class SplitFile : IAsyncDisposable
    {
        private readonly FileStream _imagesFile;
        private readonly FileStream _annotationsFile;

        public SplitFile(string? tempFolder)
        {
            _imagesFile = SpillFiles.Create(tempFolder, "annex-coco", ".json");
            _annotationsFile = SpillFiles.Create(tempFolder, "annex-coco", ".json");
            Images = new Utf8JsonWriter(_imagesFile);
            Annotations = new Utf8JsonWriter(_annotationsFile);
            Images.WriteStartArray();
            Annotations.WriteStartArray();
        }

        public Utf8JsonWriter Images { get; }

        public Utf8JsonWriter Annotations { get; }

        public int ImageCount { get; set; }

        public int AnnotationCount { get; set; }

        public async Task FlushIfNeededAsync(CancellationToken cancellationToken)
        {
            if (Images.BytesPending > 32 * 1024)
            {
                await Images.FlushAsync(cancellationToken);
            }

            if (Annotations.BytesPending > 32 * 1024)
            {
                await Annotations.FlushAsync(cancellationToken);
            }
        }

        public Task CopyImagesAsync(Stream output, CancellationToken cancellationToken) => CopyAsync(Images, _imagesFile, output, cancellationToken);

        public Task CopyAnnotationsAsync(Stream output, CancellationToken cancellationToken) => CopyAsync(Annotations, _annotationsFile, output, cancellationToken);

        private static async Task CopyAsync(Utf8JsonWriter writer, FileStream file, Stream output, CancellationToken cancellationToken)
        {
            writer.WriteEndArray();
            await writer.FlushAsync(cancellationToken);
            file.Position = 0;
            await file.CopyToAsync(output, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await Images.DisposeAsync();
            await Annotations.DisposeAsync();
            await _imagesFile.DisposeAsync();
            await _annotationsFile.DisposeAsync();
        }
    }
}
