namespace Annex.Formats;

public static class AnnotationTypes
{
    public const string BoundingBox = "bounding_box";
    public const string Polygon = "polygon";
    public const string Polyline = "polyline";
    public const string Keypoints = "keypoints";
    public const string Classification = "classification";
    public const string Cuboid = "cuboid";

    public static IReadOnlyList<string> All { get; } =
        [BoundingBox, Polygon, Polyline, Keypoints, Classification, Cuboid];
}
