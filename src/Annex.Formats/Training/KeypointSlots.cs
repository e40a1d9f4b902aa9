namespace Annex.Formats;

/// <summary>Places an annotation's keypoints into the slots of its label's keypoint list, the order YOLO pose
/// rows and COCO keypoint triples both use.</summary>
public static class KeypointSlots
{
    /// <summary>
    /// Slot <c>i</c> holds the keypoint named <c>names[i]</c>, or, for unnamed keypoints (or a label without
    /// names), the keypoint at position <c>i</c>. A keypoint with no slot, or a second one for a taken slot, is
    /// counted as <see cref="ReportChanges.KeypointNotInTaxonomy"/>; one outside the image (when its size is
    /// known) as <see cref="ReportChanges.KeypointOutsideImage"/>. Both leave their slot empty.
    /// </summary>
    /// <param name="keypoints">The annotation's keypoints.</param>
    /// <param name="names">The label's keypoint names; null when the taxonomy names none.</param>
    /// <param name="slotCount">How many slots the label has.</param>
    /// <param name="length">The length of the returned array; larger than <paramref name="slotCount"/> where
    /// YOLO pads every row to the longest keypoint list of the taxonomy.</param>
    /// <param name="width">The image's width in pixels, when known.</param>
    /// <param name="height">The image's height in pixels, when known.</param>
    /// <param name="report">Where dropped keypoints are counted.</param>
    /// <param name="item">The item, for the report.</param>
    /// <param name="label">The annotation's label, for the report.</param>
    public static KeypointValue?[] Place(
        KeypointsShape keypoints, IReadOnlyList<string>? names, int slotCount, int length, double? width, double? height,
        ExportReport report, ReportItem item, string label)
    {
        ArgumentNullException.ThrowIfNull(keypoints);
        ArgumentNullException.ThrowIfNull(report);
        var slots = new KeypointValue?[length];
        for (var position = 0; position < keypoints.Points.Count; position++)
        {
            var point = keypoints.Points[position];
            var slot = point.Name is not null && names is not null ? IndexOf(names, point.Name) : position;
            if (slot < 0 || slot >= slotCount || slots[slot] is not null)
            {
                report.Change(ReportChanges.KeypointNotInTaxonomy, item, label, point.Name is null ? $"keypoint {position + 1} of {slotCount}" : $"keypoint \"{point.Name}\"");
                continue;
            }

            if (width is { } w && height is { } h && (point.X < 0 || point.Y < 0 || point.X > w || point.Y > h))
            {
                report.Change(ReportChanges.KeypointOutsideImage, item, label, point.Name is null ? null : $"keypoint \"{point.Name}\"");
                continue;
            }

            slots[slot] = point;
        }

        return slots;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
