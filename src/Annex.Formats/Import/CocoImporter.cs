using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Annex.Formats.Import;

/// <summary>
/// Reads COCO instances files. Per COCO annotation: polygon <c>segmentation</c> rings become polygons, labelled
/// <c>keypoints</c> become one keypoints annotation (with the <c>bbox</c> as a box beside it when there is no polygon),
/// and only when neither is there the <c>bbox</c> becomes a
/// bounding box (COCO derives the box from the other two). RLE masks and crowd regions have no Annex equivalent
/// and are listed in <see cref="ImportedDataset.Skipped"/>.
/// </summary>
public static partial class CocoImporter
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"];

    /// <summary>
    /// Reads one instances file. <paramref name="fileName"/> names it in messages and gives the split
    /// (<c>instances_val.json</c> and <c>instances_val2017.json</c> are <c>val</c>). The file does not say where its
    /// images are, so <see cref="ImportedItem.MediaPath"/> stays null; <see cref="ReadFolder"/> finds them.
    /// </summary>
    public static ImportedDataset Read(Stream json, string fileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        using var document = Parse(json, fileName);
        return new Reader(fileName, SplitOf(fileName), mediaPath: null).Read(document.RootElement);
    }

    /// <summary>
    /// Reads every <c>annotations/instances_*.json</c> of a COCO folder, and finds each image at
    /// <c>images/&lt;split&gt;/</c>, <c>&lt;split&gt;/</c> (e.g. <c>val2017/</c>) or <c>images/</c>.
    /// </summary>
    public static ImportedDataset ReadFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var annotations = Path.Combine(folder, "annotations");
        var files = Directory.Exists(annotations)
            ? Directory.GetFiles(annotations, "instances_*.json").Order(StringComparer.Ordinal).ToArray()
            : [];
        if (files.Length == 0)
        {
            throw new ImportException("annotations", null, "no instances_*.json file found");
        }

        var labels = new List<ImportedLabel>();
        var labelNames = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<ImportedItem>();
        var refIds = new HashSet<string>(StringComparer.Ordinal);
        var skipped = new List<ImportSkip>();
        foreach (var file in files)
        {
            var relative = "annotations/" + Path.GetFileName(file);
            var rawSplit = RawSplitOf(relative);
            string? MediaPath(string imageFile) => FindImage(folder, rawSplit, SplitOf(relative), imageFile);

            ImportPaths.RequireInside(folder, relative);
            using var stream = File.OpenRead(file);
            using var document = Parse(stream, relative);
            var dataset = new Reader(relative, SplitOf(relative), MediaPath).Read(document.RootElement);
            labels.AddRange(dataset.Labels.Where(label => labelNames.Add(label.Name)));
            foreach (var item in dataset.Items)
            {
                if (!refIds.Add(item.RefId))
                {
                    throw new ImportException(relative, null, $"the image \"{item.RefId}\" is also in another split");
                }

                items.Add(item);
            }

            skipped.AddRange(dataset.Skipped);
        }

        return new ImportedDataset(labels, items) { Skipped = skipped };
    }

    /// <summary>The split a file name gives: the part after <c>instances_</c>, without a year (<c>val2017</c> is <c>val</c>).</summary>
    internal static string? SplitOf(string fileName)
    {
        var raw = RawSplitOf(fileName);
        if (raw is null)
        {
            return null;
        }

        var match = YearSuffixedSplit().Match(raw);
        return match.Success ? match.Groups[1].Value : raw;
    }

    private static string? RawSplitOf(string fileName)
    {
        var name = Path.GetFileNameWithoutExtension(fileName);
        foreach (var prefix in (string[])["instances_", "person_keypoints_"])
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length)
            {
                return name[prefix.Length..];
            }
        }

        return null;
    }

    private static string? FindImage(string folder, string? rawSplit, string? split, string imageFile)
    {
        var candidates = new List<string>();
        if (split is not null)
        {
            candidates.Add($"images/{split}/{imageFile}");
            candidates.Add($"{rawSplit}/{imageFile}");
            candidates.Add($"images/{rawSplit}/{imageFile}");
        }

        candidates.Add($"images/{imageFile}");
        candidates.Add(imageFile);
        var found = candidates.FirstOrDefault(candidate => File.Exists(Path.Combine(folder, candidate)));
        if (found is not null)
        {
            ImportPaths.RequireInside(folder, found);
        }

        return found;
    }

    private static JsonDocument Parse(Stream json, string fileName)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new ImportException(fileName, (int?)e.LineNumber + 1, "not valid JSON: " + FirstSentence(e.Message), e);
        }
    }

    internal static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message.TrimEnd('.') : message[..end];
    }

    /// <summary>The ref_id for an image: its file name without the image extension, '/' between folders.</summary>
    internal static string RefIdOf(string fileName)
    {
        var name = fileName.Replace('\\', '/');
        var extension = Path.GetExtension(name);
        return ImageExtensions.Contains(extension, StringComparer.OrdinalIgnoreCase) ? name[..^extension.Length] : name;
    }

    [GeneratedRegex(@"^(train|val|test)\d*$")]
    private static partial Regex YearSuffixedSplit();

    private sealed record Category(string Name, int KeypointCount, IReadOnlyList<string>? KeypointNames);

    private sealed record Image(string RefId, int? Width, int? Height, string? MediaPath, List<ImportedAnnotation> Annotations);

    private sealed class Reader(string file, string? split, Func<string, string?>? mediaPath)
    {
        private readonly Dictionary<long, Category> _categories = [];
        private readonly Dictionary<long, Image> _images = [];
        private readonly List<ImportSkip> _skipped = [];

        public ImportedDataset Read(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error("$", "expected a COCO object with \"images\", \"annotations\" and \"categories\"");
            }

            var labels = ReadCategories(Array(root, "categories", "$"));
            var order = ReadImages(Array(root, "images", "$"));
            if (Optional(root, "annotations") is not null)
            {
                var index = 0;
                foreach (var annotation in Array(root, "annotations", "$").EnumerateArray())
                {
                    ReadAnnotation(annotation, $"annotations[{index.ToString(CultureInfo.InvariantCulture)}]");
                    index++;
                }
            }

            var metadata = ImportJson.Split(split);
            var items = order.Select(image => new ImportedItem(
                image.RefId, image.Width, image.Height, metadata, image.MediaPath, image.Annotations)).ToList();
            return new ImportedDataset(labels, items) { Skipped = _skipped };
        }

        private List<ImportedLabel> ReadCategories(JsonElement categories)
        {
            var labels = new List<ImportedLabel>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var category in categories.EnumerateArray())
            {
                var path = $"categories[{index.ToString(CultureInfo.InvariantCulture)}]";
                index++;
                RequireObject(category, path);
                var id = Integer(category, "id", path);
                var name = String(category, "name", path);
                if (!names.Add(name))
                {
                    throw Error(path + ".name", $"the category name \"{name}\" is used twice");
                }

                IReadOnlyList<string>? keypoints = null;
                if (Optional(category, "keypoints") is { } keypointArray)
                {
                    RequireArray(keypointArray, path + ".keypoints");
                    keypoints = [.. keypointArray.EnumerateArray().Select((k, i) => k.ValueKind == JsonValueKind.String
                        ? k.GetString()!
                        : throw Error($"{path}.keypoints[{i}]", "expected a keypoint name"))];
                }

                IReadOnlyList<int[]>? skeleton = null;
                if (Optional(category, "skeleton") is { } skeletonArray)
                {
                    RequireArray(skeletonArray, path + ".skeleton");
                    var count = keypoints?.Count ?? 0;
                    skeleton = [.. skeletonArray.EnumerateArray().Select((edge, i) => ReadEdge(edge, count, $"{path}.skeleton[{i}]"))];
                    if (skeleton.Count == 0)
                    {
                        skeleton = null;
                    }
                }

                if (keypoints is { Count: 0 })
                {
                    keypoints = null;
                }

                if (!_categories.TryAdd(id, new Category(name, keypoints?.Count ?? 0, keypoints)))
                {
                    throw Error(path + ".id", $"the category id {id} is used twice");
                }

                labels.Add(new ImportedLabel(name, Keypoints: keypoints, Skeleton: skeleton));
            }

            return labels;
        }

        private int[] ReadEdge(JsonElement edge, int keypointCount, string path)
        {
            if (edge.ValueKind == JsonValueKind.Array && edge.GetArrayLength() == 2
                && edge[0].TryGetInt32(out var a) && edge[1].TryGetInt32(out var b)
                && a >= 1 && b >= 1 && a <= keypointCount && b <= keypointCount)
            {
                return [a, b];
            }

            throw Error(path, $"expected a pair of keypoint numbers from 1 to {keypointCount}");
        }

        private List<Image> ReadImages(JsonElement images)
        {
            var order = new List<Image>();
            var refIds = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var image in images.EnumerateArray())
            {
                var path = $"images[{index.ToString(CultureInfo.InvariantCulture)}]";
                index++;
                RequireObject(image, path);
                var id = Integer(image, "id", path);
                var fileName = String(image, "file_name", path);
                if (mediaPath is not null && ImportPaths.LeavesFolder(fileName))
                {
                    throw Error(path + ".file_name", $"\"{fileName}\" leads out of the import folder (an absolute path or \"..\"); an import reads only files inside its folder");
                }

                var refId = RefIdOf(fileName);
                if (!refIds.Add(refId))
                {
                    throw Error(path + ".file_name", $"two images are named \"{fileName}\"");
                }

                var entry = new Image(refId, Size(image, "width", path), Size(image, "height", path), mediaPath?.Invoke(fileName), []);
                if (!_images.TryAdd(id, entry))
                {
                    throw Error(path + ".id", $"the image id {id} is used twice");
                }

                order.Add(entry);
            }

            return order;
        }

        private void ReadAnnotation(JsonElement annotation, string path)
        {
            RequireObject(annotation, path);
            var imageId = Integer(annotation, "image_id", path);
            if (!_images.TryGetValue(imageId, out var image))
            {
                throw Error(path + ".image_id", $"no image has id {imageId}");
            }

            var categoryId = Integer(annotation, "category_id", path);
            if (!_categories.TryGetValue(categoryId, out var category))
            {
                throw Error(path + ".category_id", $"no category has id {categoryId}");
            }

            var described = Optional(annotation, "id") is { } idElement && idElement.TryGetInt64(out var id)
                ? $"{path} (id {id.ToString(CultureInfo.InvariantCulture)})"
                : path;
            var segmentation = Optional(annotation, "segmentation");
            if (segmentation is { ValueKind: JsonValueKind.Object })
            {
                Skip(described, "RLE mask segmentation is not supported");
                return;
            }

            if (Optional(annotation, "iscrowd") is { } crowd && crowd.TryGetInt32(out var isCrowd) && isCrowd != 0)
            {
                Skip(described, "crowd regions (iscrowd 1) are not supported");
                return;
            }

            var attributes = Optional(annotation, "attributes") is { ValueKind: JsonValueKind.Object } a ? a.GetRawText() : null;
            var found = false;
            if (segmentation is { } rings)
            {
                RequireArray(rings, path + ".segmentation");
                var ringIndex = 0;
                foreach (var ring in rings.EnumerateArray())
                {
                    var ringPath = $"{path}.segmentation[{ringIndex.ToString(CultureInfo.InvariantCulture)}]";
                    ringIndex++;
                    var values = Numbers(ring, ringPath);
                    if (values.Length % 2 != 0)
                    {
                        throw Error(ringPath, $"expected x, y pairs, found {values.Length} values");
                    }

                    if (values.Length < 6)
                    {
                        Skip(ringPath, $"a polygon needs at least 3 points, found {values.Length / 2}");
                        continue;
                    }

                    var vertices = Enumerable.Range(0, values.Length / 2).Select(i => (values[2 * i], values[2 * i + 1]));
                    image.Annotations.Add(new ImportedAnnotation(category.Name, AnnotationTypes.Polygon, ImportJson.Vertices(vertices), attributes));
                    found = true;
                }
            }

            if (Optional(annotation, "keypoints") is { } keypointArray)
            {
                var values = Numbers(keypointArray, path + ".keypoints");
                if (values.Length % 3 != 0 || (category.KeypointCount > 0 && values.Length != 3 * category.KeypointCount))
                {
                    var expected = category.KeypointCount > 0
                        ? $"{3 * category.KeypointCount} values (x, y, v for each of the {category.KeypointCount} keypoints of \"{category.Name}\")"
                        : "x, y, v triples";
                    throw Error(path + ".keypoints", $"expected {expected}, found {values.Length}");
                }

                var points = new List<(double, double, string?, bool?)>();
                for (var i = 0; i < values.Length / 3; i++)
                {
                    var visibility = values[3 * i + 2];
                    if (visibility is not (0 or 1 or 2))
                    {
                        throw Error($"{path}.keypoints[{3 * i + 2}]", $"a visibility flag is 0, 1 or 2, found {visibility.ToString(CultureInfo.InvariantCulture)}");
                    }

                    // v = 0 marks a keypoint that was not labelled; Annex keeps only labelled ones.
                    if (visibility != 0)
                    {
                        points.Add((values[3 * i], values[3 * i + 1], category.KeypointNames?[i], visibility == 2));
                    }
                }

                if (points.Count > 0)
                {
                    // An object's box and keypoints are one COCO annotation; in Annex they are a box and the keypoints
                    // inside it, so the box survives a round trip (a polygon, when there is one, already frames it).
                    if (!found && Optional(annotation, "bbox") is { } keypointBox
                        && Numbers(keypointBox, path + ".bbox") is [var x, var y, var w, var h] && w > 0 && h > 0)
                    {
                        image.Annotations.Add(new ImportedAnnotation(category.Name, AnnotationTypes.BoundingBox, ImportJson.Box(x, y, w, h), attributes));
                    }

                    image.Annotations.Add(new ImportedAnnotation(category.Name, AnnotationTypes.Keypoints, ImportJson.Keypoints(points), attributes));
                    found = true;
                }
            }

            if (found)
            {
                return;
            }

            if (Optional(annotation, "bbox") is not { } bbox)
            {
                Skip(described, "no bbox, polygon or labelled keypoint");
                return;
            }

            var box = Numbers(bbox, path + ".bbox");
            if (box.Length != 4)
            {
                throw Error(path + ".bbox", $"expected 4 values [x, y, width, height], found {box.Length}");
            }

            if (box[2] <= 0 || box[3] <= 0)
            {
                Skip(described, "the bbox has no area");
                return;
            }

            image.Annotations.Add(new ImportedAnnotation(category.Name, AnnotationTypes.BoundingBox, ImportJson.Box(box[0], box[1], box[2], box[3]), attributes));
        }

        private void Skip(string path, string reason) => _skipped.Add(new ImportSkip(file, null, $"{path}: {reason}; skipped"));

        private ImportException Error(string path, string reason) => new(file, null, $"{path}: {reason}");

        private void RequireObject(JsonElement element, string path)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Error(path, $"expected an object, found {Kind(element)}");
            }
        }

        private void RequireArray(JsonElement element, string path)
        {
            if (element.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, $"expected a list, found {Kind(element)}");
            }
        }

        private JsonElement Array(JsonElement parent, string name, string path)
        {
            if (Optional(parent, name) is not { } value)
            {
                throw Error($"{path}.{name}", "missing");
            }

            RequireArray(value, $"{path}.{name}");
            return value;
        }

        private long Integer(JsonElement parent, string name, string path)
        {
            if (Optional(parent, name) is not { } value)
            {
                throw Error($"{path}.{name}", "missing");
            }

            return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
                ? number
                : throw Error($"{path}.{name}", $"expected an integer, found {Kind(value)}");
        }

        private int? Size(JsonElement parent, string name, string path)
        {
            if (Optional(parent, name) is not { } value)
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0
                ? number
                : throw Error($"{path}.{name}", $"expected a positive integer, found {value.GetRawText()}");
        }

        private string String(JsonElement parent, string name, string path)
        {
            if (Optional(parent, name) is not { } value)
            {
                throw Error($"{path}.{name}", "missing");
            }

            return value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
                ? value.GetString()!
                : throw Error($"{path}.{name}", $"expected a non-blank string, found {Kind(value)}");
        }

        private double[] Numbers(JsonElement array, string path)
        {
            RequireArray(array, path);
            var values = new double[array.GetArrayLength()];
            var i = 0;
            foreach (var value in array.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out values[i]) || !double.IsFinite(values[i]))
                {
                    throw Error($"{path}[{i.ToString(CultureInfo.InvariantCulture)}]", $"expected a number, found {Kind(value)}");
                }

                i++;
            }

            return values;
        }

        private static JsonElement? Optional(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

        private static string Kind(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "a list",
            JsonValueKind.String => $"\"{element.GetString()}\"",
            JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
            _ => element.GetRawText(),
        };
    }
}
