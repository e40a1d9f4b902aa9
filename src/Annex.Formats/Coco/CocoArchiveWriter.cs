using System.Buffers.Text;
using System.Text.Json;

namespace Annex.Formats;

/// <summary>
/// COCO: <c>annotations/instances_&lt;split&gt;.json</c> per split with every object, images under
/// <c>images/&lt;split&gt;/</c>, and <c>export_report.json</c>. Image and annotation ids start at 1 in each split,
/// category ids at 1 in taxonomy order. Every object has a <c>bbox</c> <c>[x, y, width, height]</c> in pixels and a
/// polygon <c>segmentation</c>: a polygon's or rotated box's outline, else the four corners of its bbox, so mask
/// readers (pycocotools <c>annToMask</c>, supervision) never meet an empty one. Keypoints go with the box that frames
/// them and, as in COCO's own layout, into <c>annotations/person_keypoints_&lt;split&gt;.json</c>: written when a label
/// has keypoints, with the same images, the keypoint labels' categories and each keypoints object under the id it has
/// in the instances file. Items without width/height are left out: readers need the size for masks. Each split's
/// arrays are spooled to a temporary file while items stream in, so memory stays flat.
/// </summary>
public sealed class CocoArchiveWriter : ITrainingArchiveWriter
{
    private readonly TrainingArchive _archive;
    private readonly ClassList _classes;
    private readonly ExportReport _report;
    private readonly DateTime _created;
    private readonly string? _tempFolder;
    private readonly Dictionary<string, SplitFile> _splits = new(StringComparer.Ordinal);
    private readonly bool _writesKeypoints;

    public CocoArchiveWriter(TrainingArchiveSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _classes = settings.Classes;
        _report = settings.Report;
        _created = settings.TimestampUtc;
        _tempFolder = settings.TempFolder;
        _archive = new TrainingArchive(settings);
        _writesKeypoints = _classes.Labels.Any(HasKeypoints);
    }

    public static IReadOnlyList<string> Types { get; } = [AnnotationTypes.BoundingBox, AnnotationTypes.Polygon, AnnotationTypes.Keypoints];

    public bool IncludesImages => true;

    public static string EntryName(string split) => $"annotations/instances_{split}.json";

    /// <summary>The keypoints file of a split, written when a label of the export has keypoints.</summary>
    public static string KeypointsEntryName(string split) => $"annotations/person_keypoints_{split}.json";

    private static bool HasKeypoints(LabelRecord label) => label.Keypoints is { Count: > 0 };

    public async Task WriteItemAsync(TrainingItem item, TrainingImage? image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        _report.CountItem();
        _report.CountAnnotationRead(item.Annotations.Count);
        var fileName = item.Stem + (image?.Extension ?? ExtensionOf(item.MediaUrl));
        await _archive.WriteMediaAsync(item, image, _report, $"images/{item.Split}/{fileName}", cancellationToken);

        if (!item.HasImageSize)
        {
            // pycocotools' masks and supervision's loader read every image's width and height.
            _report.ItemWithoutImageSize(item.ReportItem, item.Annotations.Count);
            return;
        }

        if (!_splits.TryGetValue(item.Split, out var split))
        {
            split = new SplitFile(_tempFolder, _writesKeypoints);
            _splits.Add(item.Split, split);
        }

        var imageId = ++split.ImageCount;
        var images = split.Images;
        images.WriteStartObject();
        images.WriteNumber("id", imageId);
        images.WriteString("file_name", fileName);
        images.WriteNumber("width", item.Width!.Value);
        images.WriteNumber("height", item.Height!.Value);
        if (image is null && !string.IsNullOrEmpty(item.MediaUrl))
        {
            images.WriteString("coco_url", item.MediaUrl);
        }

        images.WriteString("annex_uid", item.Uid);
        images.WriteString("annex_ref_id", item.RefId);
        images.WriteEndObject();

        // Only keypoints that can be written take a box: the box goes, and is counted, with them.
        var pairing = KeypointBoxes.Pair(item.Annotations, k => _classes.TryGetIndex(k.Label, out var index) && HasKeypoints(_classes.Labels[index]));
        for (var i = 0; i < item.Annotations.Count; i++)
        {
            if (!pairing.IsPairedBox(i))
            {
                WriteAnnotation(split, imageId, item, item.Annotations[i], pairing.Box(i));
            }
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

        var id = ++split.AnnotationCount;
        WriteObject(split.Annotations, id, imageId, classIndex, shape, annotation.AttributesJson, withKeypoints: false);
        if (shape.Keypoints is not null)
        {
            WriteObject(split.KeypointAnnotations!, id, imageId, classIndex, shape, annotation.AttributesJson, withKeypoints: true);
        }

        // A paired box is written as the bbox of its keypoints.
        _report.CountAnnotationWritten(pairedBox is null ? 1 : 2);
    }

    private static void WriteObject(Utf8JsonWriter json, int id, int imageId, int classIndex, CocoShape shape, string attributesJson, bool withKeypoints)
    {
        json.WriteStartObject();
        json.WriteNumber("id", id);
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
        json.WriteStartArray();
        if (shape.Outline is null)
        {
            WriteCorners(json, shape.Bounds);
        }
        else
        {
            foreach (var point in shape.Outline)
            {
                json.WriteNumberValue(Round(point.X));
                json.WriteNumberValue(Round(point.Y));
            }
        }

        json.WriteEndArray();
        json.WriteEndArray();
        if (withKeypoints && shape.Keypoints is not null)
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
        json.WriteRawValue(attributesJson);
        json.WriteEndObject();
    }

    /// <summary>x, y, x+w, y, x+w, y+h, x, y+h: each of the four edges formatted once, as the writer formats numbers,
    /// since most objects are boxes and formatting numbers is most of the time spent writing them.</summary>
    private static void WriteCorners(Utf8JsonWriter json, PixelRect bounds)
    {
        Span<byte> buffer = stackalloc byte[4 * 32];
        var left = Format(Round(bounds.Left), buffer[..32]);
        var top = Format(Round(bounds.Top), buffer[32..64]);
        var right = Format(Round(bounds.Right), buffer[64..96]);
        var bottom = Format(Round(bounds.Bottom), buffer[96..]);
        json.WriteRawValue(left, skipInputValidation: true);
        json.WriteRawValue(top, skipInputValidation: true);
        json.WriteRawValue(right, skipInputValidation: true);
        json.WriteRawValue(top, skipInputValidation: true);
        json.WriteRawValue(right, skipInputValidation: true);
        json.WriteRawValue(bottom, skipInputValidation: true);
        json.WriteRawValue(left, skipInputValidation: true);
        json.WriteRawValue(bottom, skipInputValidation: true);

        static ReadOnlySpan<byte> Format(double value, Span<byte> destination) =>
            Utf8Formatter.TryFormat(value, destination, out var written) ? destination[..written] : throw new InvalidOperationException("A number did not fit.");
    }

    /// <summary>An object as COCO writes it; without an <paramref name="Outline"/> its segmentation is the bbox's corners.</summary>
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
            if (pairedBox is not null)
            {
                _report.Change(ReportChanges.DroppedZeroArea, item.ReportItem, label, "The box of the keypoints has no area inside the image.");
            }

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
            _splits.Add(Splits.Train, new SplitFile(_tempFolder, _writesKeypoints));
        }

        foreach (var name in Splits.All.Where(_splits.ContainsKey))
        {
            var split = _splits[name];
            await split.EndArraysAsync(cancellationToken);
            await WriteFileAsync(EntryName(name), name, split, keypoints: false, cancellationToken);
            if (_writesKeypoints)
            {
                await WriteFileAsync(KeypointsEntryName(name), name, split, keypoints: true, cancellationToken);
            }
        }

        await _archive.WriteReportAsync(_report, cancellationToken);
        await _archive.CompleteAsync(cancellationToken);
    }

    private async Task WriteFileAsync(string entryName, string name, SplitFile split, bool keypoints, CancellationToken cancellationToken)
    {
        await using var entry = await _archive.OpenTextAsync(entryName, cancellationToken);
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
            WriteCategories(head, keypoints);
            head.WritePropertyName("images");
            await head.FlushAsync(cancellationToken);
        }

        await split.CopyImagesAsync(entry, cancellationToken);
        await entry.WriteAsync(",\"annotations\":"u8.ToArray(), cancellationToken);
        await (keypoints ? split.CopyKeypointAnnotationsAsync(entry, cancellationToken) : split.CopyAnnotationsAsync(entry, cancellationToken));
        await entry.WriteAsync("}\n"u8.ToArray(), cancellationToken);
    }

    /// <summary>Every label in taxonomy order, or for a keypoints file only those with keypoints (under the same ids).</summary>
    private void WriteCategories(Utf8JsonWriter json, bool keypointsOnly)
    {
        json.WriteStartArray("categories");
        for (var i = 0; i < _classes.Count; i++)
        {
            var label = _classes.Labels[i];
            if (keypointsOnly && !HasKeypoints(label))
            {
                continue;
            }

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

    /// <summary>One split's images and annotations arrays (and keypoint objects, when the export has keypoints),
    /// each spooled to a temporary file.</summary>
    private sealed class SplitFile : IAsyncDisposable
    {
        private readonly FileStream _imagesFile;
        private readonly FileStream _annotationsFile;
        private readonly FileStream? _keypointsFile;

        public SplitFile(string? tempFolder, bool withKeypoints)
        {
            _imagesFile = SpillFiles.Create(tempFolder, "annex-coco", ".json");
            _annotationsFile = SpillFiles.Create(tempFolder, "annex-coco", ".json");
            Images = new Utf8JsonWriter(_imagesFile);
            Annotations = new Utf8JsonWriter(_annotationsFile);
            Images.WriteStartArray();
            Annotations.WriteStartArray();
            if (withKeypoints)
            {
                _keypointsFile = SpillFiles.Create(tempFolder, "annex-coco", ".json");
                KeypointAnnotations = new Utf8JsonWriter(_keypointsFile);
                KeypointAnnotations.WriteStartArray();
            }
        }

        public Utf8JsonWriter Images { get; }

        public Utf8JsonWriter Annotations { get; }

        public Utf8JsonWriter? KeypointAnnotations { get; }

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

            if (KeypointAnnotations is { BytesPending: > 32 * 1024 })
            {
                await KeypointAnnotations.FlushAsync(cancellationToken);
            }
        }

        /// <summary>Closes the arrays once every item is in; each may then be copied out more than once.</summary>
        public async Task EndArraysAsync(CancellationToken cancellationToken)
        {
            foreach (var writer in (Utf8JsonWriter?[])[Images, Annotations, KeypointAnnotations])
            {
                if (writer is not null)
                {
                    writer.WriteEndArray();
                    await writer.FlushAsync(cancellationToken);
                }
            }
        }

        public Task CopyImagesAsync(Stream output, CancellationToken cancellationToken) => CopyAsync(_imagesFile, output, cancellationToken);

        public Task CopyAnnotationsAsync(Stream output, CancellationToken cancellationToken) => CopyAsync(_annotationsFile, output, cancellationToken);

        public Task CopyKeypointAnnotationsAsync(Stream output, CancellationToken cancellationToken) =>
            CopyAsync(_keypointsFile ?? throw new InvalidOperationException("The split has no keypoints file."), output, cancellationToken);

        private static async Task CopyAsync(FileStream file, Stream output, CancellationToken cancellationToken)
        {
            file.Position = 0;
            await file.CopyToAsync(output, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await Images.DisposeAsync();
            await Annotations.DisposeAsync();
            if (KeypointAnnotations is not null)
            {
                await KeypointAnnotations.DisposeAsync();
            }

            await _imagesFile.DisposeAsync();
            await _annotationsFile.DisposeAsync();
            if (_keypointsFile is not null)
            {
                await _keypointsFile.DisposeAsync();
            }
        }
    }
}
