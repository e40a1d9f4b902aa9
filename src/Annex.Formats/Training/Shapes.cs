using System.Buffers;
using System.Text;
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

/// <summary>Reads a result's stored annotations (the canonical JSON array <see cref="AnnotationValidator"/> writes).
/// Exports call this for every result, so it reads tokens straight off the UTF-8 bytes rather than building a
/// document, and the raw text of coordinates and attributes is cut from the same bytes.</summary>
public static class StoredAnnotations
{
    public static List<StoredAnnotation> Read(string annotationsJson)
    {
        ArgumentNullException.ThrowIfNull(annotationsJson);
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(annotationsJson.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(annotationsJson, buffer);
            return Read(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static List<StoredAnnotation> Read(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new InvalidDataException("Stored annotations are not a JSON array.");
        }

        var annotations = new List<StoredAnnotation>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            annotations.Add(ReadOne(ref reader, utf8Json));
        }

        return annotations;
    }

    /// <summary>Reads the annotation object the reader stands on (its start), leaving the reader on its end.</summary>
    private static StoredAnnotation ReadOne(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException("A stored annotation is not a JSON object.");
        }

        string? label = null;
        string? type = null;
        var coordinates = ReadOnlySpan<byte>.Empty;
        var attributes = "{}";
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("label"u8))
            {
                reader.Read();
                label = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? KnownType(ref reader) : null;
            }
            else if (reader.ValueTextEquals("coordinates"u8))
            {
                reader.Read();
                coordinates = reader.TokenType == JsonTokenType.StartObject ? json[ObjectRange(ref reader)] : ReadOnlySpan<byte>.Empty;
            }
            else if (reader.ValueTextEquals("attributes"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    attributes = Encoding.UTF8.GetString(json[ObjectRange(ref reader)]);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        if (label is null || type is null)
        {
            throw new InvalidDataException(label is null ? "An annotation has no label." : "An annotation has no type.");
        }

        AnnotationShape shape = type switch
        {
            AnnotationTypes.BoundingBox => ReadBox(Required(coordinates, type)),
            AnnotationTypes.Polygon => new PolygonShape(ReadVertices(Required(coordinates, type))),
            AnnotationTypes.Polyline => new PolylineShape(ReadVertices(Required(coordinates, type))),
            AnnotationTypes.Keypoints => new KeypointsShape(ReadKeypoints(Required(coordinates, type))),
            AnnotationTypes.Cuboid => ReadCuboid(Required(coordinates, type)),
            AnnotationTypes.Classification => ClassificationShape.Instance,
            _ => throw new InvalidDataException($"Unknown annotation type \"{type}\"."),
        };
        return new StoredAnnotation(label, type, shape, attributes)
        {
            CoordinatesJson = coordinates.IsEmpty ? null : Encoding.UTF8.GetString(coordinates),
        };
    }

    /// <summary>The type names as shared strings, so a million annotations do not each allocate their type.</summary>
    private static string KnownType(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("bounding_box"u8) ? AnnotationTypes.BoundingBox
        : reader.ValueTextEquals("polygon"u8) ? AnnotationTypes.Polygon
        : reader.ValueTextEquals("keypoints"u8) ? AnnotationTypes.Keypoints
        : reader.ValueTextEquals("polyline"u8) ? AnnotationTypes.Polyline
        : reader.ValueTextEquals("classification"u8) ? AnnotationTypes.Classification
        : reader.ValueTextEquals("cuboid"u8) ? AnnotationTypes.Cuboid
        : reader.GetString()!;

    /// <summary>Where the object the reader stands on lies in the text; the reader ends on its closing brace.</summary>
    private static Range ObjectRange(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return start..(int)reader.BytesConsumed;
    }

    private static ReadOnlySpan<byte> Required(ReadOnlySpan<byte> coordinates, string type) =>
        coordinates.IsEmpty ? throw new InvalidDataException($"A {type} annotation has no coordinates object.") : coordinates;

    private static BoxShape ReadBox(ReadOnlySpan<byte> coordinates)
    {
        double? x = null, y = null, width = null, height = null;
        double rotation = 0;
        var reader = new Utf8JsonReader(coordinates);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("x"u8))
            {
                x = Number(ref reader, "x");
            }
            else if (reader.ValueTextEquals("y"u8))
            {
                y = Number(ref reader, "y");
            }
            else if (reader.ValueTextEquals("width"u8))
            {
                width = Number(ref reader, "width");
            }
            else if (reader.ValueTextEquals("height"u8))
            {
                height = Number(ref reader, "height");
            }
            else if (reader.ValueTextEquals("rotation"u8))
            {
                reader.Read();
                rotation = reader.TokenType == JsonTokenType.Number ? reader.GetDouble() : 0;
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new BoxShape(Present(x, "x"), Present(y, "y"), Present(width, "width"), Present(height, "height"), rotation);
    }

    private static PixelPoint[] ReadVertices(ReadOnlySpan<byte> coordinates)
    {
        var reader = Seek(coordinates, "vertices"u8, "vertices");
        Expect(ref reader, JsonTokenType.StartArray, "vertices");
        var vertices = new List<PixelPoint>();
        while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
        {
            var vx = Number(ref reader, "a vertex");
            var vy = Number(ref reader, "a vertex");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                reader.Skip();
            }

            vertices.Add(new PixelPoint(vx, vy));
        }

        return [.. vertices];
    }

    private static KeypointValue[] ReadKeypoints(ReadOnlySpan<byte> coordinates)
    {
        var reader = Seek(coordinates, "points"u8, "points");
        Expect(ref reader, JsonTokenType.StartArray, "points");
        var points = new List<KeypointValue>();
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            double? x = null, y = null;
            string? name = null;
            bool? visible = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("x"u8))
                {
                    x = Number(ref reader, "x");
                }
                else if (reader.ValueTextEquals("y"u8))
                {
                    y = Number(ref reader, "y");
                }
                else if (reader.ValueTextEquals("label"u8))
                {
                    reader.Read();
                    name = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("visible"u8))
                {
                    reader.Read();
                    visible = reader.TokenType switch
                    {
                        JsonTokenType.True => true,
                        JsonTokenType.False => false,
                        _ => null,
                    };
                }
                else
                {
                    SkipValue(ref reader);
                }
            }

            points.Add(new KeypointValue(Present(x, "x"), Present(y, "y"), name, visible));
        }

        return [.. points];
    }

    private static CuboidShape ReadCuboid(ReadOnlySpan<byte> coordinates)
    {
        Triple? center = null, dimensions = null;
        Triple rotation = default;
        var reader = new Utf8JsonReader(coordinates);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("center"u8))
            {
                center = ReadTriple(ref reader, "center", "x"u8, "y"u8, "z"u8);
            }
            else if (reader.ValueTextEquals("dimensions"u8))
            {
                dimensions = ReadTriple(ref reader, "dimensions", "length"u8, "width"u8, "height"u8);
            }
            else if (reader.ValueTextEquals("rotation"u8))
            {
                var start = reader;
                start.Read();
                if (start.TokenType == JsonTokenType.StartObject)
                {
                    rotation = ReadTriple(ref reader, "rotation", "yaw"u8, "pitch"u8, "roll"u8);
                }
                else
                {
                    SkipValue(ref reader);
                }
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new CuboidShape(
            center ?? throw new InvalidDataException("The coordinates have no center."),
            dimensions ?? throw new InvalidDataException("The coordinates have no dimensions."),
            rotation);
    }

    private static Triple ReadTriple(ref Utf8JsonReader reader, string name, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third)
    {
        Expect(ref reader, JsonTokenType.StartObject, name);
        double? a = null, b = null, c = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(first))
            {
                a = Number(ref reader, name);
            }
            else if (reader.ValueTextEquals(second))
            {
                b = Number(ref reader, name);
            }
            else if (reader.ValueTextEquals(third))
            {
                c = Number(ref reader, name);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new Triple(Present(a, name), Present(b, name), Present(c, name));
    }

    /// <summary>A reader on the coordinates object, moved to the name of <paramref name="property"/>; the next
    /// read gives its value.</summary>
    private static Utf8JsonReader Seek(ReadOnlySpan<byte> coordinates, ReadOnlySpan<byte> property, string name)
    {
        var reader = new Utf8JsonReader(coordinates);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(property))
            {
                return reader;
            }

            SkipValue(ref reader);
        }

        throw new InvalidDataException($"The coordinates have no {name}.");
    }

    /// <summary>Skips the value of the property name the reader stands on.</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string name)
    {
        if (!reader.Read() || reader.TokenType != token)
        {
            throw new InvalidDataException($"The coordinates' {name} is not a JSON {(token == JsonTokenType.StartArray ? "array" : "object")}.");
        }
    }

    /// <summary>Reads the next value, which must be a number.</summary>
    private static double Number(ref Utf8JsonReader reader, string name) =>
        reader.Read() && reader.TokenType == JsonTokenType.Number
            ? reader.GetDouble()
            : throw new InvalidDataException($"The coordinates' {name} is not a number.");

    private static double Present(double? value, string name) =>
        value ?? throw new InvalidDataException($"The coordinates have no {name}.");
}
