using System.Text;
using System.Text.Json;
using Xunit;

namespace Annex.Formats.Tests;

public class AnnotationValidatorTests
{
    private static readonly HashSet<string> Labels = new(StringComparer.Ordinal) { "car", "person" };

    private static (bool Ok, string Output, List<FieldError> Errors) Run(string json)
    {
        using var document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        var errors = new List<FieldError>();
        bool ok;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ok = AnnotationValidator.TryWriteCanonical(document.RootElement, Labels.Contains, writer, errors);
        }

        return (ok, Encoding.UTF8.GetString(buffer.ToArray()), errors);
    }

    private static void AssertCanonical(string input, string expected)
    {
        var (ok, output, errors) = Run(input);
        Assert.True(ok, string.Join("; ", errors));
        Assert.Empty(errors);
        Assert.Equal(expected, output);
    }

    private static void AssertSingleError(string input, string path, string message)
    {
        var (ok, output, errors) = Run(input);
        Assert.False(ok);
        Assert.Equal("", output);
        Assert.Equal([new FieldError(path, message)], errors);
    }

    [Fact]
    public void AllListsEveryType() =>
        Assert.Equal(
            ["bounding_box", "polygon", "polyline", "keypoints", "classification", "cuboid"],
            AnnotationTypes.All);

    [Fact]
    public void BoundingBoxSeedExampleIsUnchanged() =>
        AssertCanonical(
            """{"label": "car", "type": "bounding_box", "coordinates": {"x": 100, "y": 200, "width": 150, "height": 80}, "attributes": {"occluded": false}}""",
            """{"label":"car","type":"bounding_box","coordinates":{"x":100,"y":200,"width":150,"height":80},"attributes":{"occluded":false}}""");

    [Fact]
    public void BoundingBoxKeepsFractionsRotationAndDropsUnknownKeys() =>
        AssertCanonical(
            """{"attributes": null, "coordinates": {"height": 80.25, "extra": 1, "rotation": 0.5, "width": 1.0, "y": -2, "x": 100.5}, "type": "bounding_box", "label": "car"}""",
            """{"label":"car","type":"bounding_box","coordinates":{"x":100.5,"y":-2,"width":1,"height":80.25,"rotation":0.5},"attributes":{}}""");

    [Fact]
    public void PolygonIsCanonical() =>
        AssertCanonical(
            """{"label": "car", "type": "polygon", "coordinates": {"vertices": [[0, 0], [10, 0.5], [10, 10]]}}""",
            """{"label":"car","type":"polygon","coordinates":{"vertices":[[0,0],[10,0.5],[10,10]]},"attributes":{}}""");

    [Fact]
    public void PolylineNeedsOnlyTwoVertices() =>
        AssertCanonical(
            """{"label": "car", "type": "polyline", "coordinates": {"vertices": [[1, 2], [3, 4]]}}""",
            """{"label":"car","type":"polyline","coordinates":{"vertices":[[1,2],[3,4]]},"attributes":{}}""");

    [Fact]
    public void KeypointsKeepOptionalFieldsOnlyWhenPresent() =>
        AssertCanonical(
            """{"label": "person", "type": "keypoints", "coordinates": {"points": [{"x": 1, "y": 2}, {"visible": false, "label": "nose", "y": 4.5, "x": 3, "z": 9}]}, "attributes": {"pose": "standing"}}""",
            """{"label":"person","type":"keypoints","coordinates":{"points":[{"x":1,"y":2},{"x":3,"y":4.5,"label":"nose","visible":false}]},"attributes":{"pose":"standing"}}""");

    [Theory]
    [InlineData("""{"label": "car", "type": "classification"}""")]
    [InlineData("""{"label": "car", "type": "classification", "coordinates": null}""")]
    public void ClassificationHasNullCoordinates(string input) =>
        AssertCanonical(input, """{"label":"car","type":"classification","coordinates":null,"attributes":{}}""");

    [Fact]
    public void CuboidDefaultsRotationToZero() =>
        AssertCanonical(
            """{"label": "car", "type": "cuboid", "coordinates": {"center": {"x": 1, "y": 2, "z": 3.5}, "dimensions": {"length": 4, "width": 2, "height": 1.5}}}""",
            """{"label":"car","type":"cuboid","coordinates":{"center":{"x":1,"y":2,"z":3.5},"dimensions":{"length":4,"width":2,"height":1.5},"rotation":{"yaw":0,"pitch":0,"roll":0}},"attributes":{}}""");

    [Fact]
    public void CuboidKeepsRotation() =>
        AssertCanonical(
            """{"label": "car", "type": "cuboid", "coordinates": {"rotation": {"roll": 0.1, "pitch": -0.2, "yaw": 3}, "center": {"x": 0, "y": 0, "z": 0}, "dimensions": {"length": 1, "width": 1, "height": 1}}}""",
            """{"label":"car","type":"cuboid","coordinates":{"center":{"x":0,"y":0,"z":0},"dimensions":{"length":1,"width":1,"height":1},"rotation":{"yaw":3,"pitch":-0.2,"roll":0.1}},"attributes":{}}""");

    [Fact]
    public void AttributesAreCopiedVerbatim() =>
        AssertCanonical(
            """{"label": "car", "type": "classification", "attributes": {"b": [1, 2.5, {"c": null}], "a": "x"}}""",
            """{"label":"car","type":"classification","coordinates":null,"attributes":{"b":[1,2.5,{"c":null}],"a":"x"}}""");

    [Theory]
    [InlineData("\"car\"", "str")]
    [InlineData("3", "int")]
    [InlineData("2.5", "float")]
    [InlineData("[]", "list")]
    [InlineData("true", "bool")]
    public void NonObjectAnnotationIsRejected(string input, string typeName) =>
        AssertSingleError(input, "", $"Expected a dictionary of items but got type \"{typeName}\".");

    [Fact]
    public void NullAnnotationIsRejectedAsDrfRejectsNull() =>
        AssertSingleError("null", "", "This field may not be null.");

    [Theory]
    [InlineData("""{"type": "classification"}""", "This field is required.")]
    [InlineData("""{"label": null, "type": "classification"}""", "This field may not be null.")]
    [InlineData("""{"label": 5, "type": "classification"}""", "Not a valid string.")]
    [InlineData("""{"label": "  ", "type": "classification"}""", "This field may not be blank.")]
    [InlineData("""{"label": "truck", "type": "classification"}""", "\"truck\" is not a label of this project.")]
    public void BadLabelIsRejected(string input, string message) => AssertSingleError(input, "label", message);

    [Theory]
    [InlineData("""{"label": "car"}""", "This field is required.")]
    [InlineData("""{"label": "car", "type": null}""", "This field may not be null.")]
    [InlineData("""{"label": "car", "type": "circle"}""", "\"circle\" is not a valid choice.")]
    [InlineData("""{"label": "car", "type": "Polygon"}""", "\"Polygon\" is not a valid choice.")]
    public void BadTypeIsRejected(string input, string message) => AssertSingleError(input, "type", message);

    [Theory]
    [InlineData("[]", "Expected a dictionary of items but got type \"list\".")]
    [InlineData("\"x\"", "Expected a dictionary of items but got type \"str\".")]
    public void NonObjectAttributesAreRejected(string attributes, string message) =>
        AssertSingleError($$"""{"label": "car", "type": "classification", "attributes": {{attributes}}}""", "attributes", message);

    [Theory]
    [InlineData("""{"x": 1, "y": 2, "width": 3}""", "coordinates.height", "This field is required.")]
    [InlineData("""{"x": "1", "y": 2, "width": 3, "height": 4}""", "coordinates.x", "A valid number is required.")]
    [InlineData("""{"x": 1e999, "y": 2, "width": 3, "height": 4}""", "coordinates.x", "A valid number is required.")]
    [InlineData("""{"x": 1, "y": null, "width": 3, "height": 4}""", "coordinates.y", "This field may not be null.")]
    [InlineData("""{"x": 1, "y": 2, "width": 0, "height": 4}""", "coordinates.width", "Ensure this value is greater than 0.")]
    [InlineData("""{"x": 1, "y": 2, "width": 3, "height": -4.5}""", "coordinates.height", "Ensure this value is greater than 0.")]
    [InlineData("""{"x": 1, "y": 2, "width": 3, "height": 4, "rotation": true}""", "coordinates.rotation", "A valid number is required.")]
    public void BadBoundingBoxIsRejected(string coordinates, string path, string message) =>
        AssertSingleError($$"""{"label": "car", "type": "bounding_box", "coordinates": {{coordinates}}}""", path, message);

    [Theory]
    [InlineData("""{"label": "car", "type": "bounding_box"}""", "This field is required.")]
    [InlineData("""{"label": "car", "type": "bounding_box", "coordinates": null}""", "This field may not be null.")]
    [InlineData("""{"label": "car", "type": "polygon", "coordinates": [[0, 0]]}""", "Expected a dictionary of items but got type \"list\".")]
    [InlineData("""{"label": "car", "type": "classification", "coordinates": {}}""", "A classification has no coordinates; send null.")]
    public void BadCoordinatesAreRejected(string input, string message) => AssertSingleError(input, "coordinates", message);

    [Theory]
    [InlineData("""[[0, 0], [1, 1]]""", "coordinates.vertices", "Ensure this field has at least 3 elements.")]
    [InlineData("""{"0": [0, 0]}""", "coordinates.vertices", "Expected a list of items but got type \"dict\".")]
    [InlineData("""[[0, 0], [1, 1], [2]]""", "coordinates.vertices.2", "Expected a pair of numbers [x, y].")]
    [InlineData("""[[0, 0], [1, 1, 1], [2, 2]]""", "coordinates.vertices.1", "Expected a pair of numbers [x, y].")]
    [InlineData("""[{"x": 0, "y": 0}, [1, 1], [2, 2]]""", "coordinates.vertices.0", "Expected a pair of numbers [x, y].")]
    [InlineData("""[[0, 0], [1, "1"], [2, 2]]""", "coordinates.vertices.1", "Expected a pair of numbers [x, y].")]
    public void BadPolygonIsRejected(string vertices, string path, string message) =>
        AssertSingleError($$$"""{"label": "car", "type": "polygon", "coordinates": {"vertices": {{{vertices}}}}}""", path, message);

    [Fact]
    public void PolylineNeedsTwoVertices() =>
        AssertSingleError(
            """{"label": "car", "type": "polyline", "coordinates": {"vertices": [[0, 0]]}}""",
            "coordinates.vertices",
            "Ensure this field has at least 2 elements.");

    [Theory]
    [InlineData("""[]""", "coordinates.points", "Ensure this field has at least 1 elements.")]
    [InlineData("""[{"x": 1}]""", "coordinates.points.0.y", "This field is required.")]
    [InlineData("""[{"x": 1, "y": 1}, 5]""", "coordinates.points.1", "Expected a dictionary of items but got type \"int\".")]
    [InlineData("""[{"x": 1, "y": 1, "label": 3}]""", "coordinates.points.0.label", "Not a valid string.")]
    [InlineData("""[{"x": 1, "y": 1, "visible": "yes"}]""", "coordinates.points.0.visible", "Must be a valid boolean.")]
    public void BadKeypointsAreRejected(string points, string path, string message) =>
        AssertSingleError($$$"""{"label": "person", "type": "keypoints", "coordinates": {"points": {{{points}}}}}""", path, message);

    [Theory]
    [InlineData("""{"dimensions": {"length": 1, "width": 1, "height": 1}}""", "coordinates.center", "This field is required.")]
    [InlineData("""{"center": {"x": 0, "y": 0}, "dimensions": {"length": 1, "width": 1, "height": 1}}""", "coordinates.center.z", "This field is required.")]
    [InlineData("""{"center": {"x": 0, "y": 0, "z": 0}, "dimensions": {"length": 1, "width": 0, "height": 1}}""", "coordinates.dimensions.width", "Ensure this value is greater than 0.")]
    [InlineData("""{"center": {"x": 0, "y": 0, "z": 0}, "dimensions": {"length": 1, "width": 1, "height": 1}, "rotation": {"yaw": 0, "pitch": 0}}""", "coordinates.rotation.roll", "This field is required.")]
    [InlineData("""{"center": {"x": 0, "y": 0, "z": 0}, "dimensions": {"length": 1, "width": 1, "height": 1}, "rotation": [0, 0, 0]}""", "coordinates.rotation", "Expected a dictionary of items but got type \"list\".")]
    public void BadCuboidIsRejected(string coordinates, string path, string message) =>
        AssertSingleError($$"""{"label": "car", "type": "cuboid", "coordinates": {{coordinates}}}""", path, message);

    [Fact]
    public void ReportsEveryFailingFieldAndAppendsToExistingErrors()
    {
        using var document = JsonDocument.Parse(
            """{"label": "truck", "type": "bounding_box", "coordinates": {"x": "a", "width": -1, "height": 2}, "attributes": 1}""");
        var existing = new FieldError("other", "Earlier.");
        var errors = new List<FieldError> { existing };
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Assert.False(AnnotationValidator.TryWriteCanonical(document.RootElement, Labels.Contains, writer, errors));
        }

        Assert.Equal(0, buffer.Length);
        Assert.Equal(
            [
                existing,
                new FieldError("label", "\"truck\" is not a label of this project."),
                new FieldError("coordinates.x", "A valid number is required."),
                new FieldError("coordinates.y", "This field is required."),
                new FieldError("coordinates.width", "Ensure this value is greater than 0."),
                new FieldError("attributes", "Expected a dictionary of items but got type \"int\"."),
            ],
            errors);
    }

    [Fact]
    public void CanonicalObjectsCanBeWrittenIntoAnArray()
    {
        using var document = JsonDocument.Parse(
            """[{"label": "car", "type": "classification"}, {"label": "person", "type": "polyline", "coordinates": {"vertices": [[0, 0], [1, 1]]}}]""");
        using var buffer = new MemoryStream();
        var errors = new List<FieldError>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var annotation in document.RootElement.EnumerateArray())
            {
                Assert.True(AnnotationValidator.TryWriteCanonical(annotation, Labels.Contains, writer, errors));
            }

            writer.WriteEndArray();
        }

        Assert.Equal(
            """[{"label":"car","type":"classification","coordinates":null,"attributes":{}},{"label":"person","type":"polyline","coordinates":{"vertices":[[0,0],[1,1]]},"attributes":{}}]""",
            Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
