using System.Text.Json;

namespace Annex.Tests;

/// <summary>
/// The COCO instances format's rules, checked independently of Annex's writer: images, annotations and categories
/// present; ids unique; every image_id and category_id resolves; category ids from 1; each bbox has positive size
/// and lies within its image; polygons have at least three x,y pairs; keypoints have three values per keypoint of
/// their category and num_keypoints counts the labelled ones; iscrowd is 0 or 1; area is positive.
/// </summary>
public static class CocoChecks
{
    public static IReadOnlyList<string> Check(JsonElement root)
    {
        var problems = new List<string>();
        foreach (var key in (string[])["images", "annotations", "categories"])
        {
            if (!root.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array)
            {
                problems.Add($"'{key}' is missing or not an array");
                return problems;
            }
        }

        var categories = new Dictionary<long, int>();
        foreach (var category in root.GetProperty("categories").EnumerateArray())
        {
            var id = category.GetProperty("id").GetInt64();
            var keypoints = category.TryGetProperty("keypoints", out var k) ? k.GetArrayLength() : 0;
            if (!categories.TryAdd(id, keypoints))
            {
                problems.Add($"category id {id} is used twice");
            }

            if (string.IsNullOrEmpty(category.GetProperty("name").GetString()))
            {
                problems.Add($"category {id} has no name");
            }
        }

        if (categories.Count > 0 && categories.Keys.Min() < 1)
        {
            problems.Add("category ids must start at 1");
        }

        var images = new Dictionary<long, (double? Width, double? Height)>();
        foreach (var image in root.GetProperty("images").EnumerateArray())
        {
            var id = image.GetProperty("id").GetInt64();
            double? width = image.TryGetProperty("width", out var w) ? w.GetDouble() : null;
            double? height = image.TryGetProperty("height", out var h) ? h.GetDouble() : null;
            if (!images.TryAdd(id, (width, height)))
            {
                problems.Add($"image id {id} is used twice");
            }

            if (string.IsNullOrEmpty(image.GetProperty("file_name").GetString()))
            {
                problems.Add($"image {id} has no file_name");
            }
        }

        var annotationIds = new HashSet<long>();
        foreach (var annotation in root.GetProperty("annotations").EnumerateArray())
        {
            var id = annotation.GetProperty("id").GetInt64();
            var where = $"annotation {id}";
            if (!annotationIds.Add(id))
            {
                problems.Add($"{where}: id used twice");
            }

            if (!images.TryGetValue(annotation.GetProperty("image_id").GetInt64(), out var size))
            {
                problems.Add($"{where}: image_id does not resolve");
            }

            if (!categories.TryGetValue(annotation.GetProperty("category_id").GetInt64(), out var keypointCount))
            {
                problems.Add($"{where}: category_id does not resolve");
            }

            var bbox = annotation.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            if (bbox.Length != 4 || bbox[2] <= 0 || bbox[3] <= 0)
            {
                problems.Add($"{where}: bbox must be [x, y, w, h] with positive size");
            }
            else if (bbox[0] < 0 || bbox[1] < 0 || (size.Width is { } width && bbox[0] + bbox[2] > width + 1e-9) || (size.Height is { } height && bbox[1] + bbox[3] > height + 1e-9))
            {
                problems.Add($"{where}: bbox [{string.Join(", ", bbox)}] is not within its image");
            }

            if (!(annotation.GetProperty("area").GetDouble() > 0))
            {
                problems.Add($"{where}: area must be positive");
            }

            if (annotation.GetProperty("iscrowd").GetInt32() is not (0 or 1))
            {
                problems.Add($"{where}: iscrowd must be 0 or 1");
            }

            var segmentation = annotation.GetProperty("segmentation");
            if (segmentation.ValueKind != JsonValueKind.Array)
            {
                problems.Add($"{where}: segmentation must be a list of polygons");
            }
            else if (segmentation.EnumerateArray().Any(ring => ring.GetArrayLength() < 6 || ring.GetArrayLength() % 2 != 0))
            {
                problems.Add($"{where}: a polygon needs at least 3 x,y pairs");
            }

            if (annotation.TryGetProperty("keypoints", out var keypoints))
            {
                var values = keypoints.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                if (values.Length != 3 * keypointCount)
                {
                    problems.Add($"{where}: {values.Length} keypoint values, the category has {keypointCount} keypoints");
                }
                else if (annotation.GetProperty("num_keypoints").GetInt32() != values.Where((_, i) => i % 3 == 2).Count(v => v > 0))
                {
                    problems.Add($"{where}: num_keypoints does not count the labelled keypoints");
                }
            }
        }

        return problems;
    }
}
