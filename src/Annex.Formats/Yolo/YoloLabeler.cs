using System.Globalization;

namespace Annex.Formats;

/// <summary>
/// Turns one item's annotations into the rows of its YOLO label file, normalized to [0, 1] with 6 decimals.
/// Whatever cannot be written as it is gets changed (clipped to the image, polygon to box, ...) or left out,
/// and every such case is counted in the <see cref="ExportReport"/>.
/// </summary>
public sealed class YoloLabeler
{
    private readonly YoloTask _task;
    private readonly ClassList _classes;
    private readonly ExportReport _report;

    public YoloLabeler(YoloTask task, ClassList classes, ExportReport report)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(report);
        if (task == YoloTask.Auto)
        {
            throw new ArgumentOutOfRangeException(nameof(task), task, "A YOLO export writes one task.");
        }

        _task = task;
        _classes = classes;
        _report = report;
        if (task == YoloTask.Pose)
        {
            // One kpt_shape serves every class: the longest keypoint list; shorter ones are padded as not labeled.
            KeypointCount = Math.Max(1, classes.Labels.Select(l => l.Keypoints?.Count ?? 0).DefaultIfEmpty(0).Max());
        }
    }

    /// <summary>K of <c>kpt_shape: [K, 3]</c>; 0 for tasks without keypoints.</summary>
    public int KeypointCount { get; }

    /// <summary>The annotation types the task writes (possibly converted); others are reported as unsupported.</summary>
    public static IReadOnlyList<string> TypesOf(YoloTask task) => task switch
    {
        YoloTask.Pose => [AnnotationTypes.Keypoints, AnnotationTypes.BoundingBox, AnnotationTypes.Polygon],
        _ => [AnnotationTypes.BoundingBox, AnnotationTypes.Polygon],
    };

    /// <summary>
    /// Replaces <paramref name="output"/>'s contents with the item's label file: its rows without duplicates, each
    /// ending in a line feed. False when the item has annotations but no width/height: they cannot be normalized,
    /// and an empty label file would wrongly mark the image as background.
    /// </summary>
    public bool Write(ReportItem item, int? width, int? height, IReadOnlyList<StoredAnnotation> annotations, Utf8Buffer output)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        ArgumentNullException.ThrowIfNull(output);
        output.Clear();
        _report.CountAnnotationRead(annotations.Count);
        if (width is not > 0 || height is not > 0)
        {
            _report.ItemWithoutImageSize(item, annotations.Count);
            return annotations.Count == 0;
        }

        var image = new ImageSize(width.Value, height.Value);
        _rows.Clear();
        var pairedBoxes = _task == YoloTask.Pose ? KeypointBoxes.Pair(annotations) : null;
        for (var i = 0; i < annotations.Count; i++)
        {
            var annotation = annotations[i];
            if (pairedBoxes is not null && pairedBoxes.IsPairedBox(i))
            {
                // Written on the row of the keypoints it frames, and counted with them.
                continue;
            }

            var pairedBox = pairedBoxes?.Box(i);
            var carried = pairedBox is null ? 1 : 2;
            if (!_classes.TryGetIndex(annotation.Label, out var classIndex))
            {
                for (var n = 0; n < carried; n++)
                {
                    _report.Change(ReportChanges.UnknownLabel, item, annotation.Label, "The label is in none of the exported projects.");
                }

                continue;
            }

            var start = output.Length;
            if (!Row(item, image, classIndex, annotation, pairedBox, output))
            {
                output.Truncate(start);
                if (pairedBox is not null)
                {
                    // A pose row with its box is only dropped for want of area.
                    _report.Change(ReportChanges.DroppedZeroArea, item, annotation.Label, "The box of the keypoints has no area inside the image.");
                }

                continue;
            }

            if (IsDuplicate(output, start))
            {
                output.Truncate(start);
                for (var n = 0; n < carried; n++)
                {
                    _report.Change(ReportChanges.DuplicateRemoved, item, annotation.Label, "The same row is already in this item's labels.");
                }

                continue;
            }

            output.Append((byte)'\n');
            _report.CountAnnotationWritten(carried);
        }

        return true;
    }

    /// <summary>Where each row written so far for the current item starts and how long it is, with its hash.</summary>
    private readonly List<(int Hash, int Start, int Length)> _rows = [];

    /// <summary>Whether the row from <paramref name="start"/> to the end equals an earlier one; if not, it is remembered.</summary>
    private bool IsDuplicate(Utf8Buffer output, int start)
    {
        var row = output.Span[start..];
        var hash = (int)System.IO.Hashing.XxHash3.HashToUInt64(row);
        foreach (var (h, s, l) in _rows)
        {
            if (h == hash && output.Span.Slice(s, l).SequenceEqual(row))
            {
                return true;
            }
        }

        _rows.Add((hash, start, row.Length));
        return false;
    }

    private readonly record struct ImageSize(double Width, double Height);

    private bool Row(ReportItem item, ImageSize image, int classIndex, StoredAnnotation annotation, BoxShape? pairedBox, Utf8Buffer output)
    {
        switch (_task, annotation.Shape)
        {
            case (YoloTask.Detect, BoxShape box):
                return BoxRow(item, image, classIndex, annotation.Label, BoxBounds(item, annotation.Label, box), pose: false, keypoints: null, output);
            case (YoloTask.Detect or YoloTask.Pose, PolygonShape polygon):
                _report.Change(ReportChanges.PolygonToBox, item, annotation.Label);
                return PolygonBoundsRow(item, image, classIndex, annotation.Label, polygon.Vertices, output);
            case (YoloTask.Segment, BoxShape box):
                _report.Change(ReportChanges.BoxToPolygon, item, annotation.Label);
                return SegmentRow(item, image, classIndex, annotation.Label, Geometry.Corners(box), output);
            case (YoloTask.Segment, PolygonShape polygon):
                return SegmentRow(item, image, classIndex, annotation.Label, polygon.Vertices, output);
            case (YoloTask.Obb, BoxShape box):
                return ObbRow(item, image, classIndex, annotation.Label, Geometry.Corners(box), output);
            case (YoloTask.Obb, PolygonShape polygon):
                _report.Change(ReportChanges.PolygonToBox, item, annotation.Label);
                return ObbRow(item, image, classIndex, annotation.Label, Geometry.BoundingBox(polygon.Vertices).Corners(), output);
            case (YoloTask.Pose, BoxShape box):
                return BoxRow(item, image, classIndex, annotation.Label, BoxBounds(item, annotation.Label, box), pose: true, keypoints: null, output);
            case (YoloTask.Pose, KeypointsShape keypoints):
                return PoseRow(item, image, classIndex, annotation.Label, keypoints, pairedBox, output);
            default:
                _report.Unsupported(annotation.Type, item, annotation.Label);
                return false;
        }
    }

    private PixelRect BoxBounds(ReportItem item, string label, BoxShape box)
    {
        if (box.IsRotated)
        {
            _report.Change(ReportChanges.RotatedBoxToBox, item, label);
        }

        return Geometry.Bounds(box);
    }

    private bool PolygonBoundsRow(ReportItem item, ImageSize image, int classIndex, string label, IReadOnlyList<PixelPoint> vertices, Utf8Buffer output)
    {
        if (!Geometry.IsInside(vertices, image.Width, image.Height))
        {
            _report.Change(ReportChanges.ClippedToImage, item, label);
            vertices = Geometry.ClipToImage(vertices, image.Width, image.Height);
            if (vertices.Count < 3)
            {
                _report.Change(ReportChanges.DroppedZeroArea, item, label, "Nothing of the polygon is inside the image.");
                return false;
            }
        }

        var bounds = Geometry.BoundingBox(vertices);
        return BoxRow(item, image, classIndex, label, bounds, pose: _task == YoloTask.Pose, keypoints: null, output, alreadyClipped: true);
    }

    /// <summary><c>class cx cy w h</c>, then for pose the keypoint triples (<paramref name="keypoints"/>, or K
    /// unlabeled ones when null).</summary>
    private bool BoxRow(ReportItem item, ImageSize image, int classIndex, string label, PixelRect bounds, bool pose, KeypointValue?[]? keypoints, Utf8Buffer output, bool alreadyClipped = false)
    {
        if (!alreadyClipped && !Geometry.IsInside(bounds, image.Width, image.Height))
        {
            _report.Change(ReportChanges.ClippedToImage, item, label);
            bounds = Geometry.ClipToImage(bounds, image.Width, image.Height);
        }

        var width = Round(Geometry.Normalize(bounds.Width, image.Width));
        var height = Round(Geometry.Normalize(bounds.Height, image.Height));
        if (bounds.IsEmpty || width == 0 || height == 0)
        {
            _report.Change(ReportChanges.DroppedZeroArea, item, label, $"{Number(bounds.Width)} x {Number(bounds.Height)} pixels inside the image.");
            return false;
        }

        output.Append(classIndex);
        Append(output, Geometry.Normalize(bounds.CenterX, image.Width));
        Append(output, Geometry.Normalize(bounds.CenterY, image.Height));
        Append(output, width);
        Append(output, height);
        if (!pose)
        {
            return true;
        }

        if (keypoints is null)
        {
            for (var i = 0; i < KeypointCount; i++)
            {
                output.Append(" 0.000000 0.000000 0"u8);
            }

            return true;
        }

        foreach (var point in keypoints)
        {
            if (point is null)
            {
                output.Append(" 0.000000 0.000000 0"u8);
                continue;
            }

            Append(output, Geometry.Normalize(point.X, image.Width));
            Append(output, Geometry.Normalize(point.Y, image.Height));
            output.Append(point.Visible == false ? " 1"u8 : " 2"u8);
        }

        return true;
    }

    /// <summary><c>class x1 y1 x2 y2 ...</c>: the polygon cut to the image.</summary>
    private bool SegmentRow(ReportItem item, ImageSize image, int classIndex, string label, IReadOnlyList<PixelPoint> vertices, Utf8Buffer output)
    {
        if (!Geometry.IsInside(vertices, image.Width, image.Height))
        {
            _report.Change(ReportChanges.ClippedToImage, item, label);
            vertices = Geometry.ClipToImage(vertices, image.Width, image.Height);
        }

        if (vertices.Count < 3 || Geometry.Area(vertices) <= 0)
        {
            _report.Change(ReportChanges.DroppedZeroArea, item, label, "No area is left inside the image.");
            return false;
        }

        PointsRow(classIndex, image, vertices, output);
        return true;
    }

    /// <summary><c>class x1 y1 ... x4 y4</c>: the four corners, pulled inside the image where they stick out.</summary>
    private bool ObbRow(ReportItem item, ImageSize image, int classIndex, string label, PixelPoint[] corners, Utf8Buffer output)
    {
        if (!Geometry.IsInside(corners, image.Width, image.Height))
        {
            _report.Change(ReportChanges.ClippedToImage, item, label);
            corners = [.. corners.Select(c => new PixelPoint(Math.Clamp(c.X, 0, image.Width), Math.Clamp(c.Y, 0, image.Height)))];
        }

        if (Geometry.Area(corners) <= 0)
        {
            _report.Change(ReportChanges.DroppedZeroArea, item, label, "No area is left inside the image.");
            return false;
        }

        PointsRow(classIndex, image, corners, output);
        return true;
    }

    private static void PointsRow(int classIndex, ImageSize image, IReadOnlyList<PixelPoint> points, Utf8Buffer output)
    {
        output.Append(classIndex);
        for (var i = 0; i < points.Count; i++)
        {
            Append(output, Geometry.Normalize(points[i].X, image.Width));
            Append(output, Geometry.Normalize(points[i].Y, image.Height));
        }
    }

    /// <summary><c>class cx cy w h</c> then K <c>x y v</c> triples (v: 2 visible, 1 labeled but hidden, 0 not labeled).</summary>
    private bool PoseRow(ReportItem item, ImageSize image, int classIndex, string label, KeypointsShape keypoints, BoxShape? pairedBox, Utf8Buffer output)
    {
        var placed = PlaceKeypoints(item, label, image, keypoints);
        PixelRect bounds;
        if (pairedBox is not null)
        {
            bounds = BoxBounds(item, label, pairedBox);
        }
        else
        {
            var inImage = placed.Where(p => p is not null).Select(p => new PixelPoint(p!.X, p.Y)).ToList();
            if (inImage.Count == 0)
            {
                _report.Change(ReportChanges.DroppedZeroArea, item, label, "No keypoint is inside the image.");
                return false;
            }

            bounds = Geometry.BoundingBox(inImage);
        }

        return BoxRow(item, image, classIndex, label, bounds, pose: true, placed, output);
    }

    /// <summary>The annotation's keypoints in the slots of the label's keypoint names (by name, else by position).</summary>
    private KeypointValue?[] PlaceKeypoints(ReportItem item, string label, ImageSize image, KeypointsShape keypoints)
    {
        _classes.TryGetIndex(label, out var classIndex);
        var names = _classes.Labels[classIndex].Keypoints;
        return KeypointSlots.Place(keypoints, names, names?.Count ?? KeypointCount, KeypointCount, image.Width, image.Height, _report, item, label);
    }

    private static double Round(double value) => Math.Round(value, 6, MidpointRounding.AwayFromZero);

    private static void Append(Utf8Buffer row, double value) => row.Append((byte)' ').Append(value, "F6");

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
