namespace Annex.Formats;

/// <summary>An axis-aligned rectangle in pixels, by its edges.</summary>
public readonly record struct PixelRect(double Left, double Top, double Right, double Bottom)
{
    public double Width => Right - Left;

    public double Height => Bottom - Top;

    public double CenterX => (Left + Right) / 2;

    public double CenterY => (Top + Bottom) / 2;

    /// <summary>True when the rectangle covers no area (a line, a point, or inverted).</summary>
    public bool IsEmpty => !(Width > 0 && Height > 0);

    public static PixelRect FromBox(double x, double y, double width, double height) => new(x, y, x + width, y + height);

    public PixelPoint[] Corners() => [new(Left, Top), new(Right, Top), new(Right, Bottom), new(Left, Bottom)];
}

/// <summary>Geometry that training formats need: clipping to the image, bounds, rotated corners, normalization.</summary>
public static class Geometry
{
    /// <summary>True when the rectangle lies within an image of the given size (edges may touch its border).</summary>
    public static bool IsInside(PixelRect rect, double imageWidth, double imageHeight) =>
        rect.Left >= 0 && rect.Top >= 0 && rect.Right <= imageWidth && rect.Bottom <= imageHeight;

    /// <summary>The part of <paramref name="rect"/> inside the image; empty (<see cref="PixelRect.IsEmpty"/>) when none.</summary>
    public static PixelRect ClipToImage(PixelRect rect, double imageWidth, double imageHeight)
    {
        var left = Math.Clamp(rect.Left, 0, imageWidth);
        var top = Math.Clamp(rect.Top, 0, imageHeight);
        var right = Math.Clamp(rect.Right, 0, imageWidth);
        var bottom = Math.Clamp(rect.Bottom, 0, imageHeight);
        return new PixelRect(left, top, Math.Max(left, right), Math.Max(top, bottom));
    }

    /// <summary>The smallest axis-aligned rectangle holding every point.</summary>
    public static PixelRect BoundingBox(IEnumerable<PixelPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        double left = double.PositiveInfinity, top = double.PositiveInfinity;
        double right = double.NegativeInfinity, bottom = double.NegativeInfinity;
        foreach (var point in points)
        {
            left = Math.Min(left, point.X);
            top = Math.Min(top, point.Y);
            right = Math.Max(right, point.X);
            bottom = Math.Max(bottom, point.Y);
        }

        if (double.IsInfinity(left))
        {
            throw new ArgumentException("A bounding box needs at least one point.", nameof(points));
        }

        return new PixelRect(left, top, right, bottom);
    }

    /// <summary>The box's four corners, turned about its center: top-left, top-right, bottom-right, bottom-left
    /// before rotation. With y pointing down, a positive angle turns clockwise on the image.</summary>
    public static PixelPoint[] Corners(BoxShape box)
    {
        ArgumentNullException.ThrowIfNull(box);
        var corners = box.Unrotated.Corners();
        if (!box.IsRotated)
        {
            return corners;
        }

        var cx = box.X + box.Width / 2;
        var cy = box.Y + box.Height / 2;
        var cos = Math.Cos(box.RotationRadians);
        var sin = Math.Sin(box.RotationRadians);
        for (var i = 0; i < corners.Length; i++)
        {
            var dx = corners[i].X - cx;
            var dy = corners[i].Y - cy;
            corners[i] = new PixelPoint(cx + dx * cos - dy * sin, cy + dx * sin + dy * cos);
        }

        return corners;
    }

    /// <summary>The axis-aligned bounds of a box, rotated or not.</summary>
    public static PixelRect Bounds(BoxShape box) => box.IsRotated ? BoundingBox(Corners(box)) : box.Unrotated;

    /// <summary>The polygon's area (shoelace formula), whatever its winding.</summary>
    public static double Area(IReadOnlyList<PixelPoint> polygon)
    {
        ArgumentNullException.ThrowIfNull(polygon);
        var twice = 0.0;
        for (var i = 0; i < polygon.Count; i++)
        {
            var a = polygon[i];
            var b = polygon[(i + 1) % polygon.Count];
            twice += a.X * b.Y - b.X * a.Y;
        }

        return Math.Abs(twice) / 2;
    }

    /// <summary>True when every point lies within the image (on its border counts as within).</summary>
    public static bool IsInside(IEnumerable<PixelPoint> points, double imageWidth, double imageHeight) =>
        points.All(p => p.X >= 0 && p.Y >= 0 && p.X <= imageWidth && p.Y <= imageHeight);

    /// <summary>The part of a (simple) polygon inside the image, by Sutherland-Hodgman clipping against each edge.
    /// Fewer than three vertices come back when nothing with an area is left.</summary>
    public static List<PixelPoint> ClipToImage(IReadOnlyList<PixelPoint> polygon, double imageWidth, double imageHeight)
    {
        ArgumentNullException.ThrowIfNull(polygon);
        var current = new List<PixelPoint>(polygon);
        current = ClipEdge(current, p => p.X >= 0, (a, b) => AtX(a, b, 0));
        current = ClipEdge(current, p => p.X <= imageWidth, (a, b) => AtX(a, b, imageWidth));
        current = ClipEdge(current, p => p.Y >= 0, (a, b) => AtY(a, b, 0));
        current = ClipEdge(current, p => p.Y <= imageHeight, (a, b) => AtY(a, b, imageHeight));
        return RemoveRepeats(current);
    }

    private static List<PixelPoint> ClipEdge(List<PixelPoint> input, Func<PixelPoint, bool> inside, Func<PixelPoint, PixelPoint, PixelPoint> cross)
    {
        var output = new List<PixelPoint>(input.Count + 4);
        for (var i = 0; i < input.Count; i++)
        {
            var current = input[i];
            var previous = input[(i + input.Count - 1) % input.Count];
            if (inside(current))
            {
                if (!inside(previous))
                {
                    output.Add(cross(previous, current));
                }

                output.Add(current);
            }
            else if (inside(previous))
            {
                output.Add(cross(previous, current));
            }
        }

        return output;
    }

    private static PixelPoint AtX(PixelPoint a, PixelPoint b, double x) => new(x, a.Y + (b.Y - a.Y) * (x - a.X) / (b.X - a.X));

    private static PixelPoint AtY(PixelPoint a, PixelPoint b, double y) => new(a.X + (b.X - a.X) * (y - a.Y) / (b.Y - a.Y), y);

    private static List<PixelPoint> RemoveRepeats(List<PixelPoint> points)
    {
        var result = new List<PixelPoint>(points.Count);
        foreach (var point in points)
        {
            if (result.Count == 0 || result[^1] != point)
            {
                result.Add(point);
            }
        }

        while (result.Count > 1 && result[0] == result[^1])
        {
            result.RemoveAt(result.Count - 1);
        }

        return result;
    }

    /// <summary>A coordinate divided by the image's size, kept within [0, 1] (never negative zero).</summary>
    public static double Normalize(double value, double size)
    {
        if (!(size > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "An image size must be positive.");
        }

        return Math.Clamp(value / size, 0, 1) + 0.0;
    }
}
