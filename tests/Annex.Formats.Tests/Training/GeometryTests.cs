using Xunit;

namespace Annex.Formats.Tests.Training;

public class GeometryTests
{
    [Fact]
    public void A_box_crossing_the_border_is_clipped_to_the_image()
    {
        var clipped = Geometry.ClipToImage(PixelRect.FromBox(-10, 90, 30, 20), 100, 100);
        Assert.Equal(new PixelRect(0, 90, 20, 100), clipped);
        Assert.False(clipped.IsEmpty);
        Assert.False(Geometry.IsInside(PixelRect.FromBox(-10, 90, 30, 20), 100, 100));
    }

    [Fact]
    public void A_box_touching_the_border_is_inside()
    {
        var touching = PixelRect.FromBox(0, 0, 100, 50);
        Assert.True(Geometry.IsInside(touching, 100, 50));
        Assert.Equal(touching, Geometry.ClipToImage(touching, 100, 50));
    }

    [Fact]
    public void A_box_outside_the_image_clips_to_nothing()
    {
        Assert.True(Geometry.ClipToImage(PixelRect.FromBox(120, 10, 30, 20), 100, 100).IsEmpty);
        Assert.True(Geometry.ClipToImage(PixelRect.FromBox(100, 10, 30, 20), 100, 100).IsEmpty);
        Assert.True(new PixelRect(5, 5, 5, 9).IsEmpty);
    }

    [Fact]
    public void The_bounding_box_of_a_polygon_spans_its_extreme_vertices()
    {
        var bounds = Geometry.BoundingBox([new(10, 20), new(40, 5), new(25, 60)]);
        Assert.Equal(new PixelRect(10, 5, 40, 60), bounds);
        Assert.Throws<ArgumentException>(() => Geometry.BoundingBox([]));
    }

    [Fact]
    public void An_unrotated_box_has_its_own_corners_clockwise_from_the_top_left()
    {
        var corners = Geometry.Corners(new BoxShape(10, 20, 30, 40));
        Assert.Equal([new PixelPoint(10, 20), new(40, 20), new(40, 60), new(10, 60)], corners);
    }

    [Fact]
    public void A_quarter_turn_swaps_the_extents_about_the_center()
    {
        // 40 x 20 box centered on (50, 50); a quarter turn clockwise (y down) puts the top-left corner at the top-right.
        var box = new BoxShape(30, 40, 40, 20, Math.PI / 2);
        var corners = Geometry.Corners(box);
        AssertClose(new PixelPoint(60, 30), corners[0]);
        AssertClose(new PixelPoint(60, 70), corners[1]);
        AssertClose(new PixelPoint(40, 70), corners[2]);
        AssertClose(new PixelPoint(40, 30), corners[3]);
        var bounds = Geometry.Bounds(box);
        Assert.Equal(20, bounds.Width, 9);
        Assert.Equal(40, bounds.Height, 9);
        Assert.True(box.IsRotated);
        Assert.False(new BoxShape(0, 0, 1, 1, 2 * Math.PI).IsRotated);
    }

    [Fact]
    public void Polygon_area_ignores_winding()
    {
        PixelPoint[] square = [new(0, 0), new(10, 0), new(10, 10), new(0, 10)];
        Assert.Equal(100, Geometry.Area(square));
        Assert.Equal(100, Geometry.Area([.. square.Reverse()]));
        Assert.Equal(0, Geometry.Area([new(0, 0), new(5, 5), new(10, 10)]));
    }

    [Fact]
    public void A_polygon_crossing_the_border_is_cut_along_it()
    {
        // A square half outside the right edge keeps its inside half.
        var clipped = Geometry.ClipToImage([new(80, 10), new(120, 10), new(120, 50), new(80, 50)], 100, 100);
        Assert.Equal(800, Geometry.Area(clipped), 9);
        Assert.All(clipped, p => Assert.InRange(p.X, 0, 100));
        Assert.Equal(new PixelRect(80, 10, 100, 50), Geometry.BoundingBox(clipped));
    }

    [Fact]
    public void A_polygon_outside_the_image_clips_to_fewer_than_three_vertices()
    {
        Assert.True(Geometry.ClipToImage([new(110, 10), new(120, 10), new(115, 20)], 100, 100).Count < 3);
    }

    [Fact]
    public void A_polygon_inside_the_image_is_unchanged()
    {
        PixelPoint[] triangle = [new(0, 0), new(100, 0), new(50, 100)];
        Assert.Equal(triangle, Geometry.ClipToImage(triangle, 100, 100));
    }

    [Fact]
    public void Normalization_stays_within_zero_and_one_and_is_never_negative_zero()
    {
        Assert.Equal(0.5, Geometry.Normalize(50, 100));
        Assert.Equal(1, Geometry.Normalize(100.0000001, 100));
        var zero = Geometry.Normalize(-0.0, 100);
        Assert.Equal("0.000000", zero.ToString("F6", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, Geometry.Normalize(-3, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => Geometry.Normalize(1, 0));
    }

    private static void AssertClose(PixelPoint expected, PixelPoint actual)
    {
        Assert.Equal(expected.X, actual.X, 9);
        Assert.Equal(expected.Y, actual.Y, 9);
    }
}
