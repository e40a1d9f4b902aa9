using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Annex.Formats.Import;

/// <summary>Writes annotation coordinates in Annex's schema (see <see cref="AnnotationValidator"/>).</summary>
internal static class ImportJson
{
    public static string Box(double x, double y, double width, double height, double? rotation = null) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteNumber("x", x);
        json.WriteNumber("y", y);
        json.WriteNumber("width", width);
        json.WriteNumber("height", height);
        if (rotation is { } value)
        {
            json.WriteNumber("rotation", value);
        }

        json.WriteEndObject();
    });

    public static string Vertices(IEnumerable<(double X, double Y)> vertices) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("vertices");
        foreach (var (x, y) in vertices)
        {
            json.WriteStartArray();
            json.WriteNumberValue(x);
            json.WriteNumberValue(y);
            json.WriteEndArray();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    public static string Keypoints(IEnumerable<(double X, double Y, string? Label, bool? Visible)> points) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("points");
        foreach (var (x, y, label, visible) in points)
        {
            json.WriteStartObject();
            json.WriteNumber("x", x);
            json.WriteNumber("y", y);
            if (label is not null)
            {
                json.WriteString("label", label);
            }

            if (visible is { } value)
            {
                json.WriteBoolean("visible", value);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    public static string Object(IEnumerable<KeyValuePair<string, string>> properties) => Write(json =>
    {
        json.WriteStartObject();
        foreach (var (name, value) in properties)
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
    });

    public static string Flags(IEnumerable<KeyValuePair<string, bool>> flags) => Write(json =>
    {
        json.WriteStartObject();
        foreach (var (name, value) in flags)
        {
            json.WriteBoolean(name, value);
        }

        json.WriteEndObject();
    });

    public static string Split(string? split) =>
        split is null ? "{}" : Object([new KeyValuePair<string, string>("split", split)]);

    /// <summary>The check of <see cref="Canonical"/> alone: null when the server would take the annotation, else its first problem.</summary>
    public static FieldError? Check(JsonElement annotation, Func<string, bool> labelExists)
    {
        var errors = new List<FieldError>();
        var buffer = new ArrayBufferWriter<byte>(256);
        using var writer = new Utf8JsonWriter(buffer);
        return AnnotationValidator.TryWriteCanonical(annotation, labelExists, writer, errors) ? null : errors[0];
    }

    /// <summary>
    /// Runs the server's own annotation check on <paramref name="annotation"/>, so what an importer returns can be stored
    /// as it is: the canonical annotation, or null and the first problem.
    /// </summary>
    public static ImportedAnnotation? Canonical(JsonElement annotation, Func<string, bool> labelExists, out FieldError? error)
    {
        var errors = new List<FieldError>();
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (!AnnotationValidator.TryWriteCanonical(annotation, labelExists, writer, errors))
            {
                error = errors[0];
                return null;
            }
        }

        error = null;
        using var canonical = JsonDocument.Parse(buffer.WrittenMemory);
        var root = canonical.RootElement;
        var coordinates = root.GetProperty("coordinates");
        return new ImportedAnnotation(
            root.GetProperty("label").GetString()!,
            root.GetProperty("type").GetString()!,
            coordinates.ValueKind == JsonValueKind.Null ? null : coordinates.GetRawText(),
            root.GetProperty("attributes").GetRawText());
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
