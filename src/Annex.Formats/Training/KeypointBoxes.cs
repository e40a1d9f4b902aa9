namespace Annex.Formats;

/// <summary>
/// Formats that write an object's box and keypoints together (YOLO pose, COCO keypoints) pair each keypoints
/// annotation with the first box of its label that holds all its points and that no earlier keypoints
/// annotation took; the box is then written on the keypoints' row instead of on its own.
/// </summary>
public sealed class KeypointBoxes
{
    private readonly Dictionary<int, int> _boxOfKeypoints = [];
    private readonly HashSet<int> _taken = [];
    private readonly IReadOnlyList<StoredAnnotation> _annotations;

    private KeypointBoxes(IReadOnlyList<StoredAnnotation> annotations) => _annotations = annotations;

    public static KeypointBoxes Pair(IReadOnlyList<StoredAnnotation> annotations) => Pair(annotations, _ => true);

    /// <summary>Pairs as <see cref="Pair(IReadOnlyList{StoredAnnotation})"/>, only the keypoints annotations
    /// <paramref name="canTakeBox"/> accepts (those the format can write) taking a box.</summary>
    public static KeypointBoxes Pair(IReadOnlyList<StoredAnnotation> annotations, Func<StoredAnnotation, bool> canTakeBox)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        ArgumentNullException.ThrowIfNull(canTakeBox);
        var pairing = new KeypointBoxes(annotations);
        for (var k = 0; k < annotations.Count; k++)
        {
            if (annotations[k].Shape is not KeypointsShape keypoints || !canTakeBox(annotations[k]))
            {
                continue;
            }

            for (var b = 0; b < annotations.Count; b++)
            {
                if (annotations[b].Shape is BoxShape box && annotations[b].Label == annotations[k].Label
                    && !pairing._taken.Contains(b) && Holds(Geometry.Bounds(box), keypoints))
                {
                    pairing._boxOfKeypoints[k] = b;
                    pairing._taken.Add(b);
                    break;
                }
            }
        }

        return pairing;
    }

    /// <summary>True when the annotation at <paramref name="index"/> is a box written with its keypoints.</summary>
    public bool IsPairedBox(int index) => _taken.Contains(index);

    /// <summary>The box paired with the keypoints annotation at <paramref name="keypointsIndex"/>, if any.</summary>
    public BoxShape? Box(int keypointsIndex) =>
        _boxOfKeypoints.TryGetValue(keypointsIndex, out var box) ? (BoxShape)_annotations[box].Shape : null;

    /// <summary>Points on the border count as inside, with a little slack for coordinates rounded on import.</summary>
    private static bool Holds(PixelRect bounds, KeypointsShape keypoints)
    {
        const double Slack = 1e-3;
        return keypoints.Points.All(p => p.X >= bounds.Left - Slack && p.X <= bounds.Right + Slack && p.Y >= bounds.Top - Slack && p.Y <= bounds.Bottom + Slack);
    }
}
