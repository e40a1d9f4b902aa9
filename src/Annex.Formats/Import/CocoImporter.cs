using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Annex.Formats.Import;

/// <summary>
/// Reads COCO instances and person_keypoints files. Per COCO annotation: polygon <c>segmentation</c> rings become
/// polygons, labelled <c>keypoints</c> become one keypoints annotation (with the <c>bbox</c> as a box beside it when
/// there is no polygon), and only when neither is there the <c>bbox</c> becomes a bounding box (COCO derives the box
/// from the other two). A segmentation that is just the four corners of the bbox (how boxes are written for mask
/// readers) is a box. RLE masks and crowd regions have no Annex equivalent and are listed in
/// <see cref="ImportedDataset.Skipped"/>.
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
    /// Reads every <c>annotations/instances_*.json</c> and <c>annotations/person_keypoints_*.json</c> of a COCO folder,
    /// and finds each image at <c>images/&lt;split&gt;/</c>, <c>&lt;split&gt;/</c> (e.g. <c>val2017/</c>) or
    /// <c>images/</c>. A split's two files are one dataset, as COCO lays them out: the keypoints file's objects take the
    /// place of the instances objects with the same id (the same object, with its keypoints), its images and
    /// categories are those of the instances file.
    /// </summary>
    public static ImportedDataset ReadFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var annotations = Path.Combine(folder, "annotations");
        var splitFiles = Directory.Exists(annotations)
            ? Directory.GetFiles(annotations, "instances_*.json").Concat(Directory.GetFiles(annotations, "person_keypoints_*.json"))
                .GroupBy(file => RawSplitOf(Path.GetFileName(file))!, StringComparer.Ordinal)
                .OrderBy(split => split.Key, StringComparer.Ordinal)
                .Select(split => split.OrderBy(file => Path.GetFileName(file).StartsWith("person_keypoints_", StringComparison.Ordinal)).ToArray())
                .ToArray()
            : [];
        if (splitFiles.Length == 0)
        {
            throw new ImportException("annotations", null, "no instances_*.json or person_keypoints_*.json file found");
        }

        var labels = new List<ImportedLabel>();
        var labelNames = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<ImportedItem>();
        var refIds = new HashSet<string>(StringComparer.Ordinal);
        var skipped = new List<ImportSkip>();
        foreach (var files in splitFiles)
        {
            var relative = "annotations/" + Path.GetFileName(files[0]);
            var rawSplit = RawSplitOf(relative);
            string? MediaPath(string imageFile) => FindImage(folder, rawSplit, SplitOf(relative), imageFile);

            var reader = new Reader(relative, SplitOf(relative), MediaPath);
            foreach (var file in files)
            {
                relative = "annotations/" + Path.GetFileName(file);
                ImportPaths.RequireInside(folder, relative);
                using var stream = File.OpenRead(file);
                using var document = Parse(stream, relative);
                reader.Add(relative, document.RootElement);
            }

            var dataset = reader.Result();
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

    /// <summary>An image and its objects in file order; each object is the annotations one COCO annotation becomes.</summary>
    internal sealed record Image(string FileName, int? Width, int? Height, string? MediaPath, List<List<ImportedAnnotation>> Objects)
    {
        /// <summary>Made from the file name when asked.</summary>
        public string RefId => RefIdOf(FileName);

        /// <summary>Where the object of a COCO annotation id is in <see cref="Objects"/>, for the file read next (made
        /// when first needed; a reader of one file needs none).</summary>
        public Dictionary<long, int>? ObjectIndexes { get; set; }
    }

    internal sealed class Reader(string file, string? split, Func<string, string?>? mediaPath)
    {
        private readonly Dictionary<long, Category> _categories = [];
        private readonly Dictionary<long, Image> _images = [];
        private readonly List<ImportSkip> _skipped = [];
        private readonly List<ImportedLabel> _labels = [];
        private readonly List<Image> _order = [];
        private string _file = file;
        private bool _first = true;

        /// <summary>Where a streamed read of one file keeps its images, instead of an <see cref="Image"/> per image: no
        /// second file of the split follows, so no annotation ids need remembering, and the annotations go to
        /// <see cref="ImageTable.Objects"/> until the image is handed out.</summary>
        public ImageTable? Table { get; init; }

        public ImportedDataset Read(JsonElement root)
        {
            Add(_file, root);
            return Result();
        }

        /// <summary>Reads one file of the split; a later file's objects replace the earlier file's of the same id.</summary>
        public void Add(string fileName, JsonElement root)
        {
            _file = fileName;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error("$", "expected a COCO object with \"images\", \"annotations\" and \"categories\"");
            }

            ReadCategories(Array(root, "categories", "$"));
            ReadImages(Array(root, "images", "$"));
            if (Optional(root, "annotations") is not null)
            {
                var index = 0;
                foreach (var annotation in Array(root, "annotations", "$").EnumerateArray())
                {
                    ReadAnnotation(annotation, $"annotations[{index.ToString(CultureInfo.InvariantCulture)}]");
                    index++;
                }
            }

            _first = false;
        }

        public ImportedDataset Result()
        {
            var items = _order.Select(ToItem).ToList();
            return new ImportedDataset(_labels, items) { Skipped = _skipped };
        }

        public IReadOnlyList<ImportedLabel> Labels => _labels;

        public IReadOnlyList<ImportSkip> Skipped => _skipped;

        public bool TryGetCategory(long id, out string name)
        {
            var found = _categories.TryGetValue(id, out var category);
            name = category?.Name ?? string.Empty;
            return found;
        }

        public ImportedItem ToItem(Image image) => new(
            image.RefId, image.Width, image.Height, ImportJson.Split(split), image.MediaPath, [.. image.Objects.SelectMany(o => o)]);

        /// <summary>The image at <paramref name="index"/> of <see cref="Table"/>, with the annotations read for it, from
        /// its element of <c>images</c> as <see cref="ImageFields"/> read it again.</summary>
        public ImportedItem ItemAt(int index, (string FileName, int? Width, int? Height) image) => new(
            RefIdOf(image.FileName), image.Width, image.Height, ImportJson.Split(split), mediaPath?.Invoke(image.FileName), Table!.TakeObjects(index));

        /// <summary>The file name and size of an element of <c>images</c> that <see cref="ReadImage"/> checked.</summary>
        public static (string FileName, int? Width, int? Height) ImageFields(JsonElement image) =>
            (image.GetProperty("file_name").GetString()!, CheckedSize(image, "width"), CheckedSize(image, "height"));

        private static int? CheckedSize(JsonElement image, string name) => Optional(image, name) is { } value ? value.GetInt32() : null;

        /// <summary>Starts a file read element by element (instead of through <see cref="Add"/>).</summary>
        public void BeginFile(string fileName) => _file = fileName;

        public ImportException Missing(string name) => Error($"$.{name}", "missing");

        public ImportException NotAList(string name, string found) => Error($"$.{name}", $"expected a list, found {found}");

        public ImportException NotAnObject() => Error("$", "expected a COCO object with \"images\", \"annotations\" and \"categories\"");

        private void ReadCategories(JsonElement categories)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var category in categories.EnumerateArray())
            {
                ReadCategory(category, index, names);
                index++;
            }
        }

        /// <summary>One element of <c>categories</c>; <paramref name="names"/> holds the names of the file's categories so far.</summary>
        public void ReadCategory(JsonElement category, int index, HashSet<string> names)
        {
            {
                var path = $"categories[{index.ToString(CultureInfo.InvariantCulture)}]";
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

                if (!_first && _categories.TryGetValue(id, out var known))
                {
                    // The same category in the split's keypoints file, which may add its keypoints.
                    if (known.Name != name)
                    {
                        throw Error(path + ".name", $"the category id {id} is \"{known.Name}\" in the file before, \"{name}\" here");
                    }

                    if (keypoints is not null && known.KeypointNames is null)
                    {
                        _categories[id] = new Category(name, keypoints.Count, keypoints);
                        var label = _labels.FindIndex(l => l.Name == name);
                        _labels[label] = _labels[label] with { Keypoints = keypoints, Skeleton = skeleton };
                    }

                    return;
                }

                if (!_categories.TryAdd(id, new Category(name, keypoints?.Count ?? 0, keypoints)))
                {
                    throw Error(path + ".id", $"the category id {id} is used twice");
                }

                if (_labels.Any(l => l.Name == name))
                {
                    throw Error(path + ".name", $"the category name \"{name}\" is used twice");
                }

                _labels.Add(new ImportedLabel(name, Keypoints: keypoints, Skeleton: skeleton));
            }
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

        private void ReadImages(JsonElement images)
        {
            var refIds = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var image in images.EnumerateArray())
            {
                ReadImage(image, index, refIds);
                index++;
            }
        }

        /// <summary>One element of <c>images</c>; <paramref name="refIds"/> holds the ref_ids of the file's images so far
        /// (null with a <see cref="Table"/>, which finds them itself).</summary>
        public void ReadImage(JsonElement image, int index, HashSet<string>? refIds)
        {
            {
                var path = $"images[{index.ToString(CultureInfo.InvariantCulture)}]";
                RequireObject(image, path);
                var id = Integer(image, "id", path);
                var fileName = String(image, "file_name", path);
                if (mediaPath is not null && ImportPaths.LeavesFolder(fileName))
                {
                    throw Error(path + ".file_name", $"\"{fileName}\" leads out of the import folder (an absolute path or \"..\"); an import reads only files inside its folder");
                }

                var refId = RefIdOf(fileName);
                if (Table is { } table)
                {
                    if (table.HasRefId(refId))
                    {
                        throw Error(path + ".file_name", $"two images are named \"{fileName}\"");
                    }

                    // Checked here, and read again from the file when the image is handed out.
                    Size(image, "width", path);
                    Size(image, "height", path);
                    mediaPath?.Invoke(fileName);
                    if (table.IndexOf(id) >= 0)
                    {
                        throw Error(path + ".id", $"the image id {id} is used twice");
                    }

                    table.Add(id, refId);
                    return;
                }

                if (!refIds!.Add(refId))
                {
                    throw Error(path + ".file_name", $"two images are named \"{fileName}\"");
                }

                if (!_first && _images.TryGetValue(id, out var known))
                {
                    if (known.FileName != fileName)
                    {
                        throw Error(path + ".file_name", $"the image id {id} is \"{known.FileName}\" in the file before, \"{fileName}\" here");
                    }

                    return;
                }

                if (!_first && _order.Any(i => i.RefId == refId))
                {
                    throw Error(path + ".file_name", $"two images are named \"{fileName}\"");
                }

                var entry = new Image(fileName, Size(image, "width", path), Size(image, "height", path), mediaPath?.Invoke(fileName), []);
                if (!_images.TryAdd(id, entry))
                {
                    throw Error(path + ".id", $"the image id {id} is used twice");
                }

                _order.Add(entry);
            }
        }

        public void ReadAnnotation(JsonElement annotation, string path)
        {
            RequireObject(annotation, path);
            var imageId = Integer(annotation, "image_id", path);
            Image? image = null;
            var tableIndex = Table?.IndexOf(imageId) ?? -1;
            if (Table is null ? !_images.TryGetValue(imageId, out image) : tableIndex < 0)
            {
                throw Error(path + ".image_id", $"no image has id {imageId}");
            }

            var categoryId = Integer(annotation, "category_id", path);
            if (!_categories.TryGetValue(categoryId, out var category))
            {
                throw Error(path + ".category_id", $"no category has id {categoryId}");
            }

            long? id = Optional(annotation, "id") is { } idElement && idElement.TryGetInt64(out var number) ? number : null;
            // Only a skipped annotation needs its description.
            string Described() => id is { } known ? $"{path} (id {known.ToString(CultureInfo.InvariantCulture)})" : path;
            List<ImportedAnnotation> annotations;
            if (image is null)
            {
                // One file: the image's annotations are one list, in the order its objects come.
                annotations = Table!.Objects(tableIndex);
            }
            else
            {
                annotations = [];
                Place(image, id, annotations);
            }

            var segmentation = Optional(annotation, "segmentation");
            if (segmentation is { ValueKind: JsonValueKind.Object })
            {
                Skip(Described(), "RLE mask segmentation is not supported");
                return;
            }

            if (Optional(annotation, "iscrowd") is { } crowd && crowd.TryGetInt32(out var isCrowd) && isCrowd != 0)
            {
                Skip(Described(), "crowd regions (iscrowd 1) are not supported");
                return;
            }

            var attributes = Optional(annotation, "attributes") is { ValueKind: JsonValueKind.Object } a ? a.GetRawText() : null;
            var found = false;
            if (segmentation is { } rings && !IsBoxOutline(rings, Optional(annotation, "bbox")))
            {
                RequireArray(rings, path + ".segmentation");
                var ringIndex = 0;
                foreach (var ring in rings.EnumerateArray())
                {
                    var ringPath = $"{path}.segmentation[{ringIndex.ToString(CultureInfo.InvariantCulture)}]";
                    ringIndex++;
                    var values = Numbers(ring, ringPath, "");
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
                    annotations.Add(new ImportedAnnotation(category.Name, AnnotationTypes.Polygon, ImportJson.Vertices(vertices), attributes));
                    found = true;
                }
            }

            if (Optional(annotation, "keypoints") is { } keypointArray)
            {
                var values = Numbers(keypointArray, path, ".keypoints");
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
                        && Numbers(keypointBox, path, ".bbox") is [var x, var y, var w, var h] && w > 0 && h > 0)
                    {
                        annotations.Add(new ImportedAnnotation(category.Name, AnnotationTypes.BoundingBox, ImportJson.Box(x, y, w, h), attributes));
                    }

                    annotations.Add(new ImportedAnnotation(category.Name, AnnotationTypes.Keypoints, ImportJson.Keypoints(points), attributes));
                    found = true;
                }
            }

            if (found)
            {
                return;
            }

            if (Optional(annotation, "bbox") is not { } bbox)
            {
                Skip(Described(), "no bbox, polygon or labelled keypoint");
                return;
            }

            var box = Numbers(bbox, path, ".bbox");
            if (box.Length != 4)
            {
                throw Error(path + ".bbox", $"expected 4 values [x, y, width, height], found {box.Length}");
            }

            if (box[2] <= 0 || box[3] <= 0)
            {
                Skip(Described(), "the bbox has no area");
                return;
            }

            annotations.Add(new ImportedAnnotation(category.Name, AnnotationTypes.BoundingBox, ImportJson.Box(box[0], box[1], box[2], box[3]), attributes));
        }

        /// <summary>Puts a COCO annotation's object on its image: in place of the earlier file's object of the same id,
        /// else after the others.</summary>
        private void Place(Image image, long? id, List<ImportedAnnotation> annotations)
        {
            if (id is { } known && !_first && image.ObjectIndexes is { } indexes && indexes.TryGetValue(known, out var index))
            {
                image.Objects[index] = annotations;
                return;
            }

            if (id is { } key)
            {
                (image.ObjectIndexes ??= []).TryAdd(key, image.Objects.Count);
            }

            image.Objects.Add(annotations);
        }

        /// <summary>True for one ring of four points on the corners of the annotation's bbox, as boxes are written for
        /// mask readers; each value is rounded on its own, so they match within a thousandth of a pixel.</summary>
        private static bool IsBoxOutline(JsonElement rings, JsonElement? bbox)
        {
            if (rings.ValueKind != JsonValueKind.Array || rings.GetArrayLength() != 1 || bbox is not { ValueKind: JsonValueKind.Array } box
                || box.GetArrayLength() != 4 || rings[0] is not { ValueKind: JsonValueKind.Array } ring || ring.GetArrayLength() != 8
                || !ring.EnumerateArray().Concat(box.EnumerateArray()).All(v => v.ValueKind == JsonValueKind.Number))
            {
                return false;
            }

            const double Tolerance = 1e-3;
            double x = box[0].GetDouble(), y = box[1].GetDouble(), w = box[2].GetDouble(), h = box[3].GetDouble();
            var corners = new HashSet<(bool Right, bool Bottom)>();
            for (var i = 0; i < 4; i++)
            {
                double px = ring[2 * i].GetDouble(), py = ring[2 * i + 1].GetDouble();
                bool? right = Math.Abs(px - x) <= Tolerance ? false : Math.Abs(px - (x + w)) <= Tolerance ? true : null;
                bool? bottom = Math.Abs(py - y) <= Tolerance ? false : Math.Abs(py - (y + h)) <= Tolerance ? true : null;
                if (right is null || bottom is null || !corners.Add((right.Value, bottom.Value)))
                {
                    return false;
                }
            }

            return w > 0 && h > 0;
        }

        private void Skip(string path, string reason) => _skipped.Add(new ImportSkip(_file, null, $"{path}: {reason}; skipped"));

        private ImportException Error(string path, string reason) => new(_file, null, $"{path}: {reason}");

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

        /// <summary>The numbers of an array; <paramref name="path"/> and <paramref name="suffix"/> say where it is, and are
        /// joined only for a message.</summary>
        private double[] Numbers(JsonElement array, string path, string suffix)
        {
            if (array.ValueKind != JsonValueKind.Array)
            {
                RequireArray(array, path + suffix);
            }

            var values = new double[array.GetArrayLength()];
            var i = 0;
            foreach (var value in array.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out values[i]) || !double.IsFinite(values[i]))
                {
                    throw Error($"{path}{suffix}[{i.ToString(CultureInfo.InvariantCulture)}]", $"expected a number, found {Kind(value)}");
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
