using System.IO.Compression;
using System.Text.Json;

namespace Annex.Tests;

/// <summary>
/// The COCO format's rules as the readers people use apply them, checked independently of Annex's writer:
/// images, annotations and categories present; ids unique; every image_id and category_id resolves; category ids
/// from 1; each bbox has positive size and lies within its image; area is positive; iscrowd is 0 or 1; keypoints have
/// three values per keypoint of their category and num_keypoints counts the labelled ones. And what would make a
/// reader fail:
/// <list type="bullet">
/// <item>pycocotools (<c>COCO.annToRLE</c>/<c>annToMask</c>) reads the image's <c>height</c> and <c>width</c> and hands
/// <c>segmentation</c> to <c>frPyObjects</c>, which looks at its first ring: an empty list raises IndexError, a ring of
/// 4 values is taken for a box. supervision's loader reads every image's <c>width</c> and <c>height</c> and every
/// category's <c>supercategory</c>, and with masks turns each <c>segmentation</c> into one point array filled by
/// OpenCV (an empty one crashes, rings of different lengths do not make an array). So: every image has positive
/// integer width and height, every category a supercategory, every annotation a segmentation of one or more rings
/// of the same length, each an even number of at least 6 values (datumaro rejects fewer too).</item>
/// <item>datumaro reads keypoints only from <c>person_keypoints_&lt;split&gt;.json</c> (its instances reader ignores
/// them): there every category has <c>keypoints</c> and <c>skeleton</c> lists and every annotation <c>keypoints</c>;
/// <c>iscrowd</c> is an integer and <c>attributes</c>, where present, an object.</item>
/// </list>
/// </summary>
public static class CocoChecks
{
    /// <summary>Checks one file; <paramref name="keypointsFile"/> for a <c>person_keypoints_*.json</c>.</summary>
    public static IReadOnlyList<string> Check(JsonElement root, bool keypointsFile = false)
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

            if (!category.TryGetProperty("supercategory", out _))
            {
                problems.Add($"category {id} has no supercategory (supervision reads it)");
            }

            if (keypointsFile && (!category.TryGetProperty("keypoints", out var names) || names.ValueKind != JsonValueKind.Array
                || !category.TryGetProperty("skeleton", out var skeleton) || skeleton.ValueKind != JsonValueKind.Array))
            {
                problems.Add($"category {id} has no keypoints and skeleton lists (datumaro reads them from every category of a keypoints file)");
            }
        }

        if (categories.Count > 0 && categories.Keys.Min() < 1)
        {
            problems.Add("category ids must start at 1");
        }

        var images = new Dictionary<long, (double Width, double Height)>();
        foreach (var image in root.GetProperty("images").EnumerateArray())
        {
            var id = image.GetProperty("id").GetInt64();
            if (!image.TryGetProperty("width", out var w) || !w.TryGetInt32(out var width) || width <= 0
                || !image.TryGetProperty("height", out var h) || !h.TryGetInt32(out var height) || height <= 0)
            {
                problems.Add($"image {id} has no positive integer width and height (pycocotools masks and supervision read them)");
                width = height = 0;
            }

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
            else if (bbox[0] < 0 || bbox[1] < 0 || (size.Width > 0 && bbox[0] + bbox[2] > size.Width + 1e-9) || (size.Height > 0 && bbox[1] + bbox[3] > size.Height + 1e-9))
            {
                problems.Add($"{where}: bbox [{string.Join(", ", bbox)}] is not within its image");
            }

            if (!(annotation.GetProperty("area").GetDouble() > 0))
            {
                problems.Add($"{where}: area must be positive");
            }

            if (!annotation.TryGetProperty("iscrowd", out var crowd) || !crowd.TryGetInt32(out var isCrowd) || isCrowd is not (0 or 1))
            {
                problems.Add($"{where}: iscrowd must be the integer 0 or 1");
            }

            if (annotation.TryGetProperty("attributes", out var attributes) && attributes.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{where}: attributes must be an object (datumaro adds is_crowd to it)");
            }

            if (!annotation.TryGetProperty("segmentation", out var segmentation) || segmentation.ValueKind != JsonValueKind.Array)
            {
                problems.Add($"{where}: segmentation must be a list of polygons (pycocotools annToMask reads it)");
            }
            else if (segmentation.GetArrayLength() == 0)
            {
                problems.Add($"{where}: segmentation is empty (pycocotools annToMask raises IndexError, supervision's masks crash)");
            }
            else if (segmentation.EnumerateArray().Any(ring => ring.ValueKind != JsonValueKind.Array || ring.GetArrayLength() < 6 || ring.GetArrayLength() % 2 != 0))
            {
                problems.Add($"{where}: a polygon needs at least 3 x,y pairs");
            }
            else if (segmentation.EnumerateArray().Select(ring => ring.GetArrayLength()).Distinct().Count() > 1)
            {
                problems.Add($"{where}: rings of different lengths (supervision makes one point array of them)");
            }

            if (annotation.TryGetProperty("keypoints", out var keypoints))
            {
                var values = keypoints.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                if (!keypointsFile)
                {
                    problems.Add($"{where}: keypoints in an instances file (datumaro reads them from person_keypoints_<split>.json only)");
                }

                if (values.Length != 3 * keypointCount)
                {
                    problems.Add($"{where}: {values.Length} keypoint values, the category has {keypointCount} keypoints");
                }
                else if (annotation.GetProperty("num_keypoints").GetInt32() != values.Where((_, i) => i % 3 == 2).Count(v => v > 0))
                {
                    problems.Add($"{where}: num_keypoints does not count the labelled keypoints");
                }
            }
            else if (keypointsFile)
            {
                problems.Add($"{where}: no keypoints in a keypoints file (datumaro requires them)");
            }
        }

        return problems;
    }

    /// <summary>
    /// Checks every annotation file of a COCO archive: <c>annotations/instances_&lt;split&gt;.json</c> for each split, and
    /// where a category has keypoints, <c>annotations/person_keypoints_&lt;split&gt;.json</c> beside it with the same
    /// images, each of its objects also in the instances file under the same id, category and bbox.
    /// </summary>
    public static IReadOnlyList<string> CheckArchive(ZipArchive zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        var problems = new List<string>();
        var instancesFiles = zip.Entries.Where(e => e.FullName.StartsWith("annotations/instances_", StringComparison.Ordinal)).ToList();
        if (instancesFiles.Count == 0)
        {
            problems.Add("no annotations/instances_<split>.json");
        }

        foreach (var instancesFile in instancesFiles)
        {
            using var instances = Parse(instancesFile);
            problems.AddRange(Check(instances.RootElement).Select(p => $"{instancesFile.FullName}: {p}"));
            var keypointsName = instancesFile.FullName.Replace("/instances_", "/person_keypoints_", StringComparison.Ordinal);
            var hasKeypointCategories = instances.RootElement.GetProperty("categories").EnumerateArray()
                .Any(c => c.TryGetProperty("keypoints", out var k) && k.GetArrayLength() > 0);
            if (zip.GetEntry(keypointsName) is not { } keypointsFile)
            {
                if (hasKeypointCategories)
                {
                    problems.Add($"{keypointsName} is missing: a category has keypoints");
                }

                continue;
            }

            using var keypoints = Parse(keypointsFile);
            problems.AddRange(Check(keypoints.RootElement, keypointsFile: true).Select(p => $"{keypointsName}: {p}"));
            static IEnumerable<string> Images(JsonDocument d) => d.RootElement.GetProperty("images").EnumerateArray()
                .Select(i => $"{i.GetProperty("id").GetInt64()} {i.GetProperty("file_name").GetString()}");
            if (!Images(instances).SequenceEqual(Images(keypoints)))
            {
                problems.Add($"{keypointsName}: its images are not those of {instancesFile.FullName}");
            }

            var objects = instances.RootElement.GetProperty("annotations").EnumerateArray()
                .ToDictionary(a => a.GetProperty("id").GetInt64(), a => $"{a.GetProperty("category_id").GetInt64()} {a.GetProperty("bbox").GetRawText()}");
            foreach (var annotation in keypoints.RootElement.GetProperty("annotations").EnumerateArray())
            {
                var id = annotation.GetProperty("id").GetInt64();
                if (objects.GetValueOrDefault(id) != $"{annotation.GetProperty("category_id").GetInt64()} {annotation.GetProperty("bbox").GetRawText()}")
                {
                    problems.Add($"{keypointsName}: annotation {id} is not the object of the same id in {instancesFile.FullName}");
                }
            }
        }

        return problems;
    }

    private static JsonDocument Parse(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        return JsonDocument.Parse(stream);
    }
}
