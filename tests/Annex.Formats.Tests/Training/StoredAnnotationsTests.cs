using Xunit;

namespace Annex.Formats.Tests.Training;

public class StoredAnnotationsTests
{
    [Fact]
    public void Every_type_reads_into_its_shape()
    {
        var annotations = StoredAnnotations.Read("""
            [{"label":"car","type":"bounding_box","coordinates":{"x":1,"y":2,"width":3,"height":4.5},"attributes":{"occluded":true}},
             {"label":"car","type":"bounding_box","coordinates":{"x":1,"y":2,"width":3,"height":4,"rotation":0.5},"attributes":{}},
             {"label":"road","type":"polygon","coordinates":{"vertices":[[0,0],[10,0],[5,8.5]]},"attributes":{}},
             {"label":"lane","type":"polyline","coordinates":{"vertices":[[0,0],[10,1]]},"attributes":{}},
             {"label":"person","type":"keypoints","coordinates":{"points":[{"x":1,"y":2,"label":"head","visible":false},{"x":3,"y":4}]},"attributes":{}},
             {"label":"scene","type":"classification","coordinates":null,"attributes":{}},
             {"label":"van","type":"cuboid","coordinates":{"center":{"x":1,"y":2,"z":3},"dimensions":{"length":4,"width":5,"height":6},"rotation":{"yaw":0.1,"pitch":0,"roll":0}},"attributes":{}}]
            """);

        Assert.Equal(7, annotations.Count);
        Assert.Equal(new BoxShape(1, 2, 3, 4.5), annotations[0].Shape);
        Assert.Equal("""{"occluded":true}""", annotations[0].AttributesJson);
        Assert.Equal(0.5, Assert.IsType<BoxShape>(annotations[1].Shape).RotationRadians);
        Assert.Equal([new PixelPoint(0, 0), new(10, 0), new(5, 8.5)], Assert.IsType<PolygonShape>(annotations[2].Shape).Vertices);
        Assert.Equal(2, Assert.IsType<PolylineShape>(annotations[3].Shape).Vertices.Count);
        var points = Assert.IsType<KeypointsShape>(annotations[4].Shape).Points;
        Assert.Equal(new KeypointValue(1, 2, "head", false), points[0]);
        Assert.Equal(new KeypointValue(3, 4, null, null), points[1]);
        Assert.Same(ClassificationShape.Instance, annotations[5].Shape);
        var cuboid = Assert.IsType<CuboidShape>(annotations[6].Shape);
        Assert.Equal(new Triple(4, 5, 6), cuboid.Dimensions);
        Assert.Equal("van", annotations[6].Label);
        Assert.Equal(AnnotationTypes.Cuboid, annotations[6].Type);
    }

    [Fact]
    public void An_unknown_type_is_an_error() =>
        Assert.Throws<InvalidDataException>(() => StoredAnnotations.Read("""[{"label":"x","type":"blob","coordinates":{}}]"""));

    [Fact]
    public void Raw_coordinates_and_attributes_are_kept_as_written_whatever_the_property_order()
    {
        var annotation = Assert.Single(StoredAnnotations.Read("""
            [{"coordinates":{"x":1.25,"y":2,"width":3,"height":4,"note":[1,{"a":2}]},"attributes":{"tags":["a","b"],"n":{"m":1}},"extra":{"x":[1]},"type":"bounding_box","label":"car \u00e9"}]
            """));

        Assert.Equal("car é", annotation.Label);
        Assert.Equal(new BoxShape(1.25, 2, 3, 4), annotation.Shape);
        Assert.Equal("""{"x":1.25,"y":2,"width":3,"height":4,"note":[1,{"a":2}]}""", annotation.CoordinatesJson);
        Assert.Equal("""{"tags":["a","b"],"n":{"m":1}}""", annotation.AttributesJson);
    }

    [Fact]
    public void Missing_attributes_read_as_an_empty_object_and_a_classification_has_no_coordinates()
    {
        var annotations = StoredAnnotations.Read("""[{"label":"scene","type":"classification"},{"label":"car","type":"bounding_box","coordinates":{"x":0,"y":0,"width":1,"height":1},"attributes":null}]""");
        Assert.Equal("{}", annotations[0].AttributesJson);
        Assert.Null(annotations[0].CoordinatesJson);
        Assert.Equal("{}", annotations[1].AttributesJson);
    }

    [Theory]
    [InlineData("""{"label":"x","type":"bounding_box","coordinates":{"x":1,"y":2,"width":3}}""", "The coordinates have no height.")]
    [InlineData("""{"label":"x","type":"bounding_box","coordinates":{"x":"1","y":2,"width":3,"height":4}}""", "The coordinates' x is not a number.")]
    [InlineData("""{"label":"x","type":"bounding_box"}""", "A bounding_box annotation has no coordinates object.")]
    [InlineData("""{"label":"x","type":"polygon","coordinates":{"points":[]}}""", "The coordinates have no vertices.")]
    [InlineData("""{"label":"x","type":"polygon","coordinates":{"vertices":[[1]]}}""", "The coordinates' a vertex is not a number.")]
    [InlineData("""{"label":"x","type":"keypoints","coordinates":{"points":[{"x":1}]}}""", "The coordinates have no y.")]
    [InlineData("""{"label":"x","type":"cuboid","coordinates":{"center":{"x":1,"y":2,"z":3}}}""", "The coordinates have no dimensions.")]
    [InlineData("""{"type":"classification"}""", "An annotation has no label.")]
    [InlineData("""{"label":"x"}""", "An annotation has no type.")]
    public void A_malformed_annotation_is_an_error_that_says_what_is_wrong(string annotation, string message)
    {
        var error = Assert.Throws<InvalidDataException>(() => StoredAnnotations.Read($"[{annotation}]"));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Text_that_is_not_an_array_of_objects_is_an_error()
    {
        Assert.Throws<InvalidDataException>(() => StoredAnnotations.Read("""{"label":"x"}"""));
        Assert.Throws<InvalidDataException>(() => StoredAnnotations.Read("""[1]"""));
    }
}
