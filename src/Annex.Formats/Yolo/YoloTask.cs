namespace Annex.Formats;

/// <summary>Which kind of Ultralytics label rows a YOLO folder holds.</summary>
public enum YoloTask
{
    /// <summary>From <c>task</c> or <c>kpt_shape</c> in <c>data.yaml</c>, else per row: 5 values are a box, an odd
    /// number of at least 7 a polygon (so 9 values are a 4-point polygon; say <see cref="Obb"/> for rotated boxes).</summary>
    Auto,
    Detect,
    Segment,
    Obb,
    Pose,
}
