using System.Text.Json;

namespace Annex.Formats;

/// <summary>A point in image pixels, origin at the top-left corner, y pointing down.</summary>
public readonly record struct PixelPoint(double X, double Y);

/// <summary>The geometry of one stored annotation, typed.</summary>
public abstract record AnnotationShape;

/// <summary>A box: <see cref="X"/>/<see cref="Y"/> is its top-left corner before rotation; the rotation (radians,
/// clockwise as seen on the image) turns it about its center.</summary>
public sealed record BoxShape(double X, double Y, double Width, double Height, double RotationRadians = 0) : AnnotationShape
{
    public bool IsRotated => Math.Abs(Math.IEEERemainder(RotationRadians, 2 * Math.PI)) > 1e-9;

    /// <summary>The box's own rectangle, ignoring rotation.</summary>
    public PixelRect Unrotated => PixelRect.FromBox(X, Y, Width, Height);
}

public sealed record PolygonShape(IReadOnlyList<PixelPoint> Vertices) : AnnotationShape;

public sealed record PolylineShape(IReadOnlyList<PixelPoint> Vertices) : AnnotationShape;

/// <summary>One keypoint; <see cref="Name"/> is the taxonomy's keypoint name when the annotation gives one.</summary>
public sealed record KeypointValue(double X, double Y, string? Name, bool? Visible);

public sealed record KeypointsShape(IReadOnlyList<KeypointValue> Points) : AnnotationShape;

public readonly record struct Triple(double First, double Second, double Third);

/// <summary>A 3D box: center (x, y, z), dimensions (length, width, height), rotation (yaw, pitch, roll).</summary>
public sealed record CuboidShape(Triple Center, Triple Dimensions, Triple Rotation) : AnnotationShape;

public sealed record ClassificationShape : AnnotationShape
{
    public static ClassificationShape Instance { get; } = new();
}

/// <summary>One annotation as stored: its label name, type (see <see cref="AnnotationTypes"/>), shape and the
/// attributes object's JSON text.</summary>
public sealed record StoredAnnotation(string Label, string Type, AnnotationShape Shape, string AttributesJson)
{
    /// <summary>The coordinates object's JSON text as stored; null for a classification.</summary>
    public string? CoordinatesJson { get; init; }
}

/// <summary>Reads a result's stored annotations (the canonical JSON array <see cref="AnnotationValidator"/> writes).</summary>
public static class StoredAnnotations
{
    public static List<StoredAnnotation> Read(string annotationsJson)
    {
        ArgumentNullException.ThrowIfNull(annotationsJson);
        using var document = JsonDocument.Parse(annotationsJson);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException("Stored annotations are not a JSON array.");
        }

        var annotations = new List<StoredAnnotation>(document.RootElement.GetArrayLength());
        foreach (var element in document.RootElement.EnumerateArray())
        {
            annotations.Add(ReadOne(element));
        }

        return annotations;
    }

    public static StoredAnnotation ReadOne(JsonElement annotation)
    {
        var label = annotation.GetProperty("label").GetString() ?? throw new InvalidDataException("An annotation has no label.");
        var type = annotation.GetProperty("type").GetString() ?? throw new InvalidDataException("An annotation has no type.");
        var attributes = annotation.TryGetProperty("attributes", out var a) && a.ValueKind == JsonValueKind.Object ? a.GetRawText() : "{}";
        annotation.TryGetProperty("coordinates", out var c);
        AnnotationShape shape = type switch
        {
            AnnotationTypes.BoundingBox => new BoxShape(
                c.GetProperty("x").GetDouble(), c.GetProperty("y").GetDouble(),
                c.GetProperty("width").GetDouble(), c.GetProperty("height").GetDouble(),
                c.TryGetProperty("rotation", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : 0),
            AnnotationTypes.Polygon => new PolygonShape(ReadVertices(c)),
            AnnotationTypes.Polyline => new PolylineShape(ReadVertices(c)),
            AnnotationTypes.Keypoints => new KeypointsShape(ReadKeypoints(c)),
            AnnotationTypes.Cuboid => new CuboidShape(
                ReadTriple(c, "center", "x", "y", "z"),
                ReadTriple(c, "dimensions", "length", "width", "height"),
                c.TryGetProperty("rotation", out var rotation) && rotation.ValueKind == JsonValueKind.Object
                    ? ReadTriple(c, "rotation", "yaw", "pitch", "roll")
                    : default),
            AnnotationTypes.Classification => ClassificationShape.Instance,
            _ => throw new InvalidDataException($"Unknown annotation type \"{type}\"."),
        };
        return new StoredAnnotation(label, type, shape, attributes)
        {
            CoordinatesJson = c.ValueKind == JsonValueKind.Object ? c.GetRawText() : null,
        };
    }

    private static PixelPoint[] ReadVertices(JsonElement coordinates) =>
        [.. coordinates.GetProperty("vertices").EnumerateArray().Select(v => new PixelPoint(v[0].GetDouble(), v[1].GetDouble()))];

    private static KeypointValue[] ReadKeypoints(JsonElement coordinates) =>
        [.. coordinates.GetProperty("points").EnumerateArray().Select(p => new KeypointValue(
            p.GetProperty("x").GetDouble(),
            p.GetProperty("y").GetDouble(),
            p.TryGetProperty("label", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null,
            p.TryGetProperty("visible", out var visible) && visible.ValueKind is JsonValueKind.True or JsonValueKind.False ? visible.GetBoolean() : null))];

    private static Triple ReadTriple(JsonElement parent, string name, string first, string second, string third)
    {
        var triple = parent.GetProperty(name);
        return new Triple(triple.GetProperty(first).GetDouble(), triple.GetProperty(second).GetDouble(), triple.GetProperty(third).GetDouble());
    }
}
