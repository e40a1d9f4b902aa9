using System.Text.Json;

namespace Annex.Formats;

/// <summary>
/// Validates annotation objects from request bodies and writes their canonical form.
/// Messages follow Django REST Framework wording so clients written against that style keep working.
/// </summary>
public static class AnnotationValidator
{
    private const string Required = "This field is required.";
    private const string NotNull = "This field may not be null.";
    private const string NotBlank = "This field may not be blank.";
    private const string NotString = "Not a valid string.";
    private const string NotNumber = "A valid number is required.";
    private const string NotBoolean = "Must be a valid boolean.";
    private const string NotPositive = "Ensure this value is greater than 0.";
    private const string NotPair = "Expected a pair of numbers [x, y].";
    private const string ClassificationHasCoordinates = "A classification has no coordinates; send null.";

    private static readonly string[] CenterKeys = ["x", "y", "z"];
    private static readonly string[] DimensionKeys = ["length", "width", "height"];
    private static readonly string[] RotationKeys = ["yaw", "pitch", "roll"];

    /// <summary>
    /// Validates <paramref name="annotation"/>. On success writes one canonical object
    /// {"label","type","coordinates","attributes"} to <paramref name="writer"/> and returns true;
    /// on failure appends to <paramref name="errors"/>, writes nothing and returns false.
    /// </summary>
    public static bool TryWriteCanonical(
        JsonElement annotation, Func<string, bool> labelExists, Utf8JsonWriter writer, List<FieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(labelExists);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(errors);

        if (annotation.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("", ExpectedDictionary(annotation)));
            return false;
        }

        var errorCountBefore = errors.Count;
        var label = ReadLabel(annotation, labelExists, errors);
        var type = ReadType(annotation, errors);
        var coordinates = type is null ? null : ReadCoordinates(annotation, type, errors);
        var attributes = ReadAttributes(annotation, errors);

        if (errors.Count != errorCountBefore || label is null || type is null || coordinates is null)
        {
            return false;
        }

        writer.WriteStartObject();
        writer.WriteString("label", label);
        writer.WriteString("type", type);
        writer.WritePropertyName("coordinates");
        coordinates.Write(writer);
        writer.WritePropertyName("attributes");
        if (attributes is { } value)
        {
            value.WriteTo(writer);
        }
        else
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        return true;
    }

    private static string? ReadLabel(JsonElement annotation, Func<string, bool> labelExists, List<FieldError> errors)
    {
        if (!TryGetRequired(annotation, "label", "label", errors, out var element))
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError("label", NotString));
            return null;
        }

        var label = element.GetString()!;
        if (string.IsNullOrWhiteSpace(label))
        {
            errors.Add(new FieldError("label", NotBlank));
            return null;
        }

        if (!labelExists(label))
        {
            errors.Add(new FieldError("label", $"\"{label}\" is not a label of this project."));
            return null;
        }

        return label;
    }

    private static string? ReadType(JsonElement annotation, List<FieldError> errors)
    {
        if (!TryGetRequired(annotation, "type", "type", errors, out var element))
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            var name = element.GetString();
            foreach (var type in AnnotationTypes.All)
            {
                if (string.Equals(type, name, StringComparison.Ordinal))
                {
                    return type;
                }
            }
        }

        var text = element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText();
        errors.Add(new FieldError("type", $"\"{text}\" is not a valid choice."));
        return null;
    }

    private static JsonElement? ReadAttributes(JsonElement annotation, List<FieldError> errors)
    {
        if (!TryGetOptional(annotation, "attributes", out var element))
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("attributes", ExpectedDictionary(element)));
            return null;
        }

        return element;
    }

    private static Coordinates? ReadCoordinates(JsonElement annotation, string type, List<FieldError> errors)
    {
        const string path = "coordinates";
        if (type == AnnotationTypes.Classification)
        {
            if (TryGetOptional(annotation, path, out _))
            {
                errors.Add(new FieldError(path, ClassificationHasCoordinates));
                return null;
            }

            return NoCoordinates.Instance;
        }

        if (!TryGetObject(annotation, path, path, errors, out var coordinates))
        {
            return null;
        }

        return type switch
        {
            AnnotationTypes.BoundingBox => ReadBoundingBox(coordinates, path, errors),
            AnnotationTypes.Polygon => ReadVertexList(coordinates, path, 3, errors),
            AnnotationTypes.Polyline => ReadVertexList(coordinates, path, 2, errors),
            AnnotationTypes.Keypoints => ReadKeypoints(coordinates, path, errors),
            AnnotationTypes.Cuboid => ReadCuboid(coordinates, path, errors),
            _ => throw new InvalidOperationException($"Unhandled annotation type \"{type}\"."),
        };
    }

    private static BoundingBoxCoordinates? ReadBoundingBox(JsonElement coordinates, string path, List<FieldError> errors)
    {
        var okX = TryReadNumber(coordinates, "x", path, errors, out var x);
        var okY = TryReadNumber(coordinates, "y", path, errors, out var y);
        var okWidth = TryReadPositive(coordinates, "width", path, errors, out var width);
        var okHeight = TryReadPositive(coordinates, "height", path, errors, out var height);
        JsonNumber? rotation = null;
        var okRotation = true;
        if (TryGetOptional(coordinates, "rotation", out var rotationElement))
        {
            okRotation = TryConvertNumber(rotationElement, Join(path, "rotation"), errors, out var value);
            rotation = value;
        }

        return okX && okY && okWidth && okHeight && okRotation
            ? new BoundingBoxCoordinates(x, y, width, height, rotation)
            : null;
    }

    private static VertexListCoordinates? ReadVertexList(
        JsonElement coordinates, string path, int minimum, List<FieldError> errors)
    {
        var verticesPath = Join(path, "vertices");
        if (!TryGetArray(coordinates, "vertices", verticesPath, errors, out var array))
        {
            return null;
        }

        var ok = true;
        var vertices = new List<Vertex>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (TryReadPair(item, out var vertex))
            {
                vertices.Add(vertex);
            }
            else
            {
                errors.Add(new FieldError(Join(verticesPath, index), NotPair));
                ok = false;
            }

            index++;
        }

        if (index < minimum)
        {
            errors.Add(new FieldError(verticesPath, MinimumElements(minimum)));
            ok = false;
        }

        return ok ? new VertexListCoordinates(vertices) : null;
    }

    private static bool TryReadPair(JsonElement item, out Vertex vertex)
    {
        vertex = null!;
        if (item.ValueKind != JsonValueKind.Array || item.GetArrayLength() != 2
            || !JsonNumber.TryCreate(item[0], out var x) || !JsonNumber.TryCreate(item[1], out var y))
        {
            return false;
        }

        vertex = new Vertex(x, y);
        return true;
    }

    private static KeypointsCoordinates? ReadKeypoints(JsonElement coordinates, string path, List<FieldError> errors)
    {
        var pointsPath = Join(path, "points");
        if (!TryGetArray(coordinates, "points", pointsPath, errors, out var array))
        {
            return null;
        }

        var ok = true;
        var points = new List<Keypoint>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var point = ReadKeypoint(item, Join(pointsPath, index), errors);
            if (point is null)
            {
                ok = false;
            }
            else
            {
                points.Add(point);
            }

            index++;
        }

        if (index < 1)
        {
            errors.Add(new FieldError(pointsPath, MinimumElements(1)));
            ok = false;
        }

        return ok ? new KeypointsCoordinates(points) : null;
    }

    private static Keypoint? ReadKeypoint(JsonElement item, string path, List<FieldError> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(path, ExpectedDictionary(item)));
            return null;
        }

        var ok = TryReadNumber(item, "x", path, errors, out var x);
        ok &= TryReadNumber(item, "y", path, errors, out var y);

        string? label = null;
        if (TryGetOptional(item, "label", out var labelElement))
        {
            if (labelElement.ValueKind == JsonValueKind.String)
            {
                label = labelElement.GetString();
            }
            else
            {
                errors.Add(new FieldError(Join(path, "label"), NotString));
                ok = false;
            }
        }

        bool? visible = null;
        if (TryGetOptional(item, "visible", out var visibleElement))
        {
            if (visibleElement.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                visible = visibleElement.GetBoolean();
            }
            else
            {
                errors.Add(new FieldError(Join(path, "visible"), NotBoolean));
                ok = false;
            }
        }

        return ok ? new Keypoint(x, y, label, visible) : null;
    }

    private static CuboidCoordinates? ReadCuboid(JsonElement coordinates, string path, List<FieldError> errors)
    {
        var center = ReadTriple(coordinates, "center", CenterKeys, positive: false, path, errors);
        var dimensions = ReadTriple(coordinates, "dimensions", DimensionKeys, positive: true, path, errors);

        NamedTriple? rotation;
        if (TryGetOptional(coordinates, "rotation", out _))
        {
            rotation = ReadTriple(coordinates, "rotation", RotationKeys, positive: false, path, errors);
        }
        else
        {
            var zero = new JsonNumber(0, 0);
            rotation = new NamedTriple("rotation", RotationKeys, [zero, zero, zero]);
        }

        return center is not null && dimensions is not null && rotation is not null
            ? new CuboidCoordinates(center, dimensions, rotation)
            : null;
    }

    private static NamedTriple? ReadTriple(
        JsonElement parent, string name, string[] keys, bool positive, string parentPath, List<FieldError> errors)
    {
        var path = Join(parentPath, name);
        if (!TryGetObject(parent, name, path, errors, out var element))
        {
            return null;
        }

        var ok = true;
        var values = new JsonNumber[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            ok &= positive
                ? TryReadPositive(element, keys[i], path, errors, out values[i])
                : TryReadNumber(element, keys[i], path, errors, out values[i]);
        }

        return ok ? new NamedTriple(name, keys, values) : null;
    }

    private static bool TryReadPositive(
        JsonElement parent, string name, string parentPath, List<FieldError> errors, out JsonNumber number)
    {
        if (!TryReadNumber(parent, name, parentPath, errors, out number))
        {
            return false;
        }

        if (number.Value <= 0)
        {
            errors.Add(new FieldError(Join(parentPath, name), NotPositive));
            return false;
        }

        return true;
    }

    private static bool TryReadNumber(
        JsonElement parent, string name, string parentPath, List<FieldError> errors, out JsonNumber number)
    {
        var path = Join(parentPath, name);
        number = default;
        return TryGetRequired(parent, name, path, errors, out var element)
            && TryConvertNumber(element, path, errors, out number);
    }

    private static bool TryConvertNumber(JsonElement element, string path, List<FieldError> errors, out JsonNumber number)
    {
        if (JsonNumber.TryCreate(element, out number))
        {
            return true;
        }

        errors.Add(new FieldError(path, NotNumber));
        return false;
    }

    private static bool TryGetObject(
        JsonElement parent, string name, string path, List<FieldError> errors, out JsonElement value)
    {
        if (!TryGetRequired(parent, name, path, errors, out value))
        {
            return false;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(path, ExpectedDictionary(value)));
            return false;
        }

        return true;
    }

    private static bool TryGetArray(
        JsonElement parent, string name, string path, List<FieldError> errors, out JsonElement value)
    {
        if (!TryGetRequired(parent, name, path, errors, out value))
        {
            return false;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError(path, $"Expected a list of items but got type \"{TypeName(value)}\"."));
            return false;
        }

        return true;
    }

    /// <summary>Finds a property that must be present and non-null, reporting the DRF message otherwise.</summary>
    private static bool TryGetRequired(
        JsonElement parent, string name, string path, List<FieldError> errors, out JsonElement value)
    {
        if (!parent.TryGetProperty(name, out value))
        {
            errors.Add(new FieldError(path, Required));
            return false;
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new FieldError(path, NotNull));
            return false;
        }

        return true;
    }

    /// <summary>Optional fields treat an explicit null the same as absence.</summary>
    private static bool TryGetOptional(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string ExpectedDictionary(JsonElement element) => element.ValueKind == JsonValueKind.Null
        ? NotNull
        : $"Expected a dictionary of items but got type \"{TypeName(element)}\".";

    private static string MinimumElements(int minimum) => $"Ensure this field has at least {minimum} elements.";

    private static string TypeName(JsonElement element) => JsonTypeNames.Python(element);

    private static string Join(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    private static string Join(string parent, int index) =>
        Join(parent, index.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
