using System.Text.Json;

namespace Annex.Formats;

/// <summary>A validated finite JSON number; integral inputs keep their exact integer form on output.</summary>
internal readonly record struct JsonNumber(double Value, long? Integer)
{
    public static bool TryCreate(JsonElement element, out JsonNumber number)
    {
        number = default;
        if (element.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        if (element.TryGetInt64(out var integer))
        {
            number = new JsonNumber(integer, integer);
            return true;
        }

        if (element.TryGetDouble(out var value) && double.IsFinite(value))
        {
            number = new JsonNumber(value, null);
            return true;
        }

        return false;
    }

    public void Write(Utf8JsonWriter writer)
    {
        if (Integer is { } integer)
        {
            writer.WriteNumberValue(integer);
        }
        else
        {
            // Utf8JsonWriter emits the shortest round-trippable form, so 1.0 becomes 1 and 100.5 stays 100.5.
            writer.WriteNumberValue(Value);
        }
    }

    public void Write(Utf8JsonWriter writer, string propertyName)
    {
        writer.WritePropertyName(propertyName);
        Write(writer);
    }
}

internal abstract record Coordinates
{
    public abstract void Write(Utf8JsonWriter writer);
}

internal sealed record NoCoordinates : Coordinates
{
    public static NoCoordinates Instance { get; } = new();

    public override void Write(Utf8JsonWriter writer) => writer.WriteNullValue();
}

internal sealed record BoundingBoxCoordinates(
    JsonNumber X, JsonNumber Y, JsonNumber Width, JsonNumber Height, JsonNumber? Rotation) : Coordinates
{
    public override void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        X.Write(writer, "x");
        Y.Write(writer, "y");
        Width.Write(writer, "width");
        Height.Write(writer, "height");
        Rotation?.Write(writer, "rotation");
        writer.WriteEndObject();
    }
}

internal sealed record Vertex(JsonNumber X, JsonNumber Y);

internal sealed record VertexListCoordinates(IReadOnlyList<Vertex> Vertices) : Coordinates
{
    public override void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("vertices");
        foreach (var vertex in Vertices)
        {
            writer.WriteStartArray();
            vertex.X.Write(writer);
            vertex.Y.Write(writer);
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

internal sealed record Keypoint(JsonNumber X, JsonNumber Y, string? Label, bool? Visible);

internal sealed record KeypointsCoordinates(IReadOnlyList<Keypoint> Points) : Coordinates
{
    public override void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("points");
        foreach (var point in Points)
        {
            writer.WriteStartObject();
            point.X.Write(writer, "x");
            point.Y.Write(writer, "y");
            if (point.Label is not null)
            {
                writer.WriteString("label", point.Label);
            }

            if (point.Visible is { } visible)
            {
                writer.WriteBoolean("visible", visible);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

/// <summary>Three named numbers, used for a cuboid's center, dimensions and rotation.</summary>
internal sealed record NamedTriple(string Name, string[] Keys, JsonNumber[] Values)
{
    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject(Name);
        for (var i = 0; i < Keys.Length; i++)
        {
            Values[i].Write(writer, Keys[i]);
        }

        writer.WriteEndObject();
    }
}

internal sealed record CuboidCoordinates(NamedTriple Center, NamedTriple Dimensions, NamedTriple Rotation) : Coordinates
{
    public override void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        Center.Write(writer);
        Dimensions.Write(writer);
        Rotation.Write(writer);
        writer.WriteEndObject();
    }
}
