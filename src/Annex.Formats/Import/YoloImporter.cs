using System.Globalization;
using Annex.Formats.Media;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Annex.Formats.Import;

/// <summary>
/// Reads an Ultralytics YOLO dataset folder: <c>data.yaml</c> (<c>names</c> as a list or an index mapping,
/// <c>kpt_shape</c>, <c>kpt_names</c>), <c>images/&lt;split&gt;/</c> and <c>labels/&lt;split&gt;/*.txt</c>.
/// Normalized coordinates are turned into pixels with the size read from each image's header.
/// </summary>
public static class YoloImporter
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"];
    private static readonly string[] YamlNames = ["data.yaml", "data.yml", "dataset.yaml", "dataset.yml"];

    /// <summary>Pixel values keep 4 decimals: YOLO's 6 normalized decimals are coarser than that for any image size.</summary>
    private const int PixelDecimals = 4;

    public static ImportedDataset Read(string folder, YoloTask task = YoloTask.Auto)
    {
        var (labels, config, chosen) = Prepare(folder, task);
        var reader = new LabelReader(config, chosen);
        var items = Entries(folder).Select(entry => ToItem(entry, Annotations(reader, folder, entry))).ToList();
        return new ImportedDataset(labels, items) { Skipped = reader.Skipped };
    }

    /// <summary>
    /// Opens a YOLO folder for a streamed read, as <see cref="Read"/> reads it but without holding the annotations of
    /// every image: a first pass reads every image header and label file (so a fault is found before any item is
    /// handed out, as in <see cref="Read"/>) and keeps of each image only its name and size; a second pass reads
    /// each label file again as its item is handed out.
    /// </summary>
    public static StreamedImport OpenStreamed(string folder, YoloTask task = YoloTask.Auto)
    {
        var (labels, config, chosen) = Prepare(folder, task);
        var first = new LabelReader(config, chosen);
        var entries = new List<Entry>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        long annotations = 0;
        foreach (var entry in Entries(folder))
        {
            var read = Annotations(first, folder, entry);
            annotations += read.Count;
            used.UnionWith(read.Select(annotation => annotation.Label));
            entries.Add(entry);
        }

        return new YoloStream(folder, labels, entries, used, annotations, new LabelReader(config, chosen));
    }

    private static (List<ImportedLabel> Labels, Config Config, YoloTask Task) Prepare(string folder, YoloTask task)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
        {
            throw new ImportException(folder, null, "no such folder");
        }

        var config = ReadConfig(folder);
        if (task == YoloTask.Auto)
        {
            task = config.Task ?? (config.KeypointShape is not null ? YoloTask.Pose : YoloTask.Auto);
        }

        if (task == YoloTask.Pose && config.KeypointShape is null)
        {
            throw new ImportException(config.File, null, "a pose dataset needs kpt_shape: [keypoints, 2 or 3]");
        }

        var labels = config.Names.Select((name, index) =>
            new ImportedLabel(name, Keypoints: task == YoloTask.Pose ? config.KeypointNames(index) : null)).ToList();
        return (labels, config, task);
    }

    /// <summary>An image (or a label file without one) with what its item needs besides its annotations.</summary>
    private sealed record Entry(string RefId, string Split, string? Image, string? LabelFile, ImageInfo? Info);

    /// <summary>The folder's images and label files in item order, each checked and its image header read.</summary>
    private static IEnumerable<Entry> Entries(string folder)
    {
        var refIds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var split in Splits(folder))
        {
            foreach (var (key, image, labelFile) in Pairs(folder, split))
            {
                var refId = key;
                var where = image ?? labelFile!;
                foreach (var file in (string?[])[image, labelFile])
                {
                    if (file is not null)
                    {
                        ImportPaths.RequireInside(folder, file);
                    }
                }

                if (!refIds.TryAdd(refId, where))
                {
                    throw new ImportException(where, null, $"the name \"{refId}\" is also used by {refIds[refId]}");
                }

                ImageInfo? info = null;
                if (image is not null)
                {
                    using var stream = File.OpenRead(Path.Combine(folder, image));
                    info = ImageHeader.TryRead(stream, out var header)
                        ? header
                        : throw new ImportException(image, null, "not a PNG, JPEG, WebP, GIF or BMP image");
                }

                yield return new Entry(refId, split, image, labelFile, info);
            }
        }
    }

    private static List<ImportedAnnotation> Annotations(LabelReader reader, string folder, Entry entry) =>
        entry.LabelFile is null ? [] : reader.Read(folder, entry.LabelFile, entry.Info);

    private static ImportedItem ToItem(Entry entry, List<ImportedAnnotation> annotations) =>
        new(entry.RefId, entry.Info?.Width, entry.Info?.Height, ImportJson.Split(entry.Split.Length == 0 ? null : entry.Split), entry.Image, annotations);

    private sealed class YoloStream(string folder, List<ImportedLabel> labels, List<Entry> entries, HashSet<string> used, long annotations, LabelReader reader) : StreamedImport
    {
        private bool _read;

        public override IReadOnlyList<ImportedLabel> Labels => labels;

        public override IReadOnlySet<string> UsedLabels => used;

        public override int ItemCount => entries.Count;

        public override long AnnotationCount => annotations;

        public override IReadOnlyList<ImportSkip> Skipped => reader.Skipped;

        public override IEnumerable<ImportedItem> ReadItems()
        {
            if (_read)
            {
                throw new InvalidOperationException("The items of a streamed import can be read once.");
            }

            _read = true;
            return entries.Select(entry => ToItem(entry, Annotations(reader, folder, entry)));
        }
    }

    /// <summary>The split folders under images/ and labels/; "" stands for files directly inside them.</summary>
    private static List<string> Splits(string folder)
    {
        var splits = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var top in (string[])["images", "labels"])
        {
            var path = Path.Combine(folder, top);
            if (!Directory.Exists(path))
            {
                continue;
            }

            foreach (var directory in Directory.GetDirectories(path))
            {
                splits.Add(Path.GetFileName(directory));
            }

            if (Directory.EnumerateFiles(path).Any())
            {
                splits.Add("");
            }
        }

        if (splits.Count == 0)
        {
            throw new ImportException(".", null, "no images/ or labels/ folder");
        }

        return [.. splits];
    }

    /// <summary>Each image with its label file, matched on the path below the split folder without the extension.</summary>
    private static IEnumerable<(string Key, string? Image, string? Label)> Pairs(string folder, string split)
    {
        var images = Files(folder, "images", split, path => ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase));
        var labels = Files(folder, "labels", split, path => path.EndsWith(".txt", StringComparison.OrdinalIgnoreCase));
        var keys = new SortedSet<string>(images.Keys.Concat(labels.Keys), StringComparer.Ordinal);
        return keys.Select(key => (key, images.GetValueOrDefault(key), labels.GetValueOrDefault(key)));
    }

    private static Dictionary<string, string> Files(string folder, string top, string split, Func<string, bool> wanted)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var root = Path.Combine(folder, top, split);
        if (!Directory.Exists(root))
        {
            return files;
        }

        var option = split.Length == 0 ? SearchOption.TopDirectoryOnly : SearchOption.AllDirectories;
        foreach (var file in Directory.EnumerateFiles(root, "*", option).Where(wanted).Order(StringComparer.Ordinal))
        {
            var below = Path.GetRelativePath(root, file).Replace('\\', '/');
            var key = below[..^Path.GetExtension(below).Length];
            var relative = split.Length == 0 ? $"{top}/{below}" : $"{top}/{split}/{below}";
            if (!files.TryAdd(key, relative))
            {
                throw new ImportException(relative, null, $"{files[key]} has the same name; Ultralytics would read one label file for both");
            }
        }

        return files;
    }

    private sealed record KeypointShape(int Count, int Dimensions);

    private sealed record Config(
        string File, IReadOnlyList<string> Names, YoloTask? Task, KeypointShape? KeypointShape,
        Func<int, IReadOnlyList<string>?> KeypointNames);

    private static Config ReadConfig(string folder)
    {
        var name = YamlNames.FirstOrDefault(n => File.Exists(Path.Combine(folder, n)))
            ?? throw new ImportException("data.yaml", null, "missing: a YOLO dataset names its classes in data.yaml");
        ImportPaths.RequireInside(folder, name);
        var yaml = new YamlStream();
        try
        {
            using var text = File.OpenText(Path.Combine(folder, name));
            yaml.Load(text);
        }
        catch (YamlException e)
        {
            throw new ImportException(name, (int)e.Start.Line, "not valid YAML: " + e.Message, e);
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ImportException(name, null, "expected a mapping with names");
        }

        ImportException Error(YamlNode node, string reason) => new(name, (int)node.Start.Line, reason);

        YamlNode? Get(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

        var namesNode = Get("names") ?? throw new ImportException(name, null, "names: missing");
        var names = ReadNames(namesNode, Error);
        if (Get("nc") is YamlScalarNode nc)
        {
            if (!int.TryParse(nc.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count != names.Count)
            {
                throw Error(nc, $"nc is {nc.Value} but names lists {names.Count} classes");
            }
        }

        YoloTask? task = null;
        if (Get("task") is YamlScalarNode taskNode)
        {
            task = taskNode.Value switch
            {
                "detect" => YoloTask.Detect,
                "segment" => YoloTask.Segment,
                "obb" => YoloTask.Obb,
                "pose" => YoloTask.Pose,
                _ => throw Error(taskNode, $"task \"{taskNode.Value}\" is not detect, segment, obb or pose"),
            };
        }

        KeypointShape? shape = null;
        if (Get("kpt_shape") is { } shapeNode)
        {
            shape = shapeNode is YamlSequenceNode { Children.Count: 2 } pair
                && TryInt(pair.Children[0], out var count) && count > 0
                && TryInt(pair.Children[1], out var dimensions) && dimensions is 2 or 3
                ? new KeypointShape(count, dimensions)
                : throw Error(shapeNode, "kpt_shape: expected [keypoints, 2 or 3]");
        }

        var keypointNames = ReadKeypointNames(Get("kpt_names"), shape, names.Count, Error);
        return new Config(name, names, task, shape, keypointNames);
    }

    private static List<string> ReadNames(YamlNode node, Func<YamlNode, string, ImportException> error)
    {
        switch (node)
        {
            case YamlSequenceNode list:
                return [.. list.Children.Select(child => Scalar(child, error, "names: expected class names"))];
            case YamlMappingNode map:
                var byIndex = new SortedDictionary<int, string>();
                foreach (var (key, value) in map.Children)
                {
                    if (!TryInt(key, out var index) || index < 0 || !byIndex.TryAdd(index, Scalar(value, error, "names: expected a class name")))
                    {
                        throw error(key, $"names: \"{(key as YamlScalarNode)?.Value}\" is not a new class index");
                    }
                }

                if (byIndex.Count > 0 && byIndex.Keys.Last() != byIndex.Count - 1)
                {
                    throw error(map, $"names: class indexes must run from 0 to {byIndex.Count - 1} without gaps");
                }

                return [.. byIndex.Values];
            default:
                throw error(node, "names: expected a list or a mapping from class index to name");
        }
    }

    private static Func<int, IReadOnlyList<string>?> ReadKeypointNames(
        YamlNode? node, KeypointShape? shape, int classCount, Func<YamlNode, string, ImportException> error)
    {
        if (node is null)
        {
            return _ => null;
        }

        List<string> Names(YamlNode list)
        {
            var names = list is YamlSequenceNode sequence
                ? sequence.Children.Select(child => Scalar(child, error, "kpt_names: expected keypoint names")).ToList()
                : throw error(list, "kpt_names: expected a list of keypoint names");
            return shape is null || names.Count == shape.Count
                ? names
                : throw error(list, $"kpt_names: kpt_shape says {shape.Count} keypoints, the list has {names.Count}");
        }

        if (node is YamlSequenceNode)
        {
            var all = Names(node);
            return _ => all;
        }

        if (node is YamlMappingNode map)
        {
            var byClass = new Dictionary<int, List<string>>();
            foreach (var (key, value) in map.Children)
            {
                if (!TryInt(key, out var index) || index < 0 || index >= classCount)
                {
                    throw error(key, $"kpt_names: \"{(key as YamlScalarNode)?.Value}\" is not a class index");
                }

                byClass[index] = Names(value);
            }

            return index => byClass.GetValueOrDefault(index);
        }

        throw error(node, "kpt_names: expected a list or a mapping from class index to a list");
    }

    private static string Scalar(YamlNode node, Func<YamlNode, string, ImportException> error, string reason) =>
        node is YamlScalarNode { Value: { Length: > 0 } value } && !string.IsNullOrWhiteSpace(value) ? value : throw error(node, reason);

    private static bool TryInt(YamlNode node, out int value)
    {
        value = 0;
        return node is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private sealed class LabelReader(Config config, YoloTask task)
    {
        public List<ImportSkip> Skipped { get; } = [];

        public List<ImportedAnnotation> Read(string folder, string labelFile, ImageInfo? image)
        {
            var annotations = new List<ImportedAnnotation>();
            var lineNumber = 0;
            var rows = 0;
            foreach (var line in File.ReadLines(Path.Combine(folder, labelFile)))
            {
                lineNumber++;
                var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == 0)
                {
                    continue;
                }

                rows++;
                var values = Parse(fields, labelFile, lineNumber);
                var label = Label(values[0], labelFile, lineNumber);
                var read = Row(values, label, labelFile, lineNumber, image);
                if (image is not null)
                {
                    annotations.AddRange(read);
                }
            }

            if (image is null && rows > 0)
            {
                Skipped.Add(new ImportSkip(labelFile, null,
                    $"no image beside the labels, so their normalized coordinates cannot be turned into pixels; {rows} rows skipped"));
            }

            return annotations;
        }

        private List<ImportedAnnotation> Row(double[] values, string label, string file, int line, ImageInfo? image)
        {
            double width = image?.Width ?? 1, height = image?.Height ?? 1;
            var count = values.Length;
            switch (task)
            {
                case YoloTask.Detect when count != 5:
                    throw new ImportException(file, line, $"expected 5 values (class cx cy w h), found {count}");
                case YoloTask.Obb when count != 9:
                    throw new ImportException(file, line, $"expected 9 values (class x1 y1 x2 y2 x3 y3 x4 y4), found {count}");
                case YoloTask.Pose:
                    var shape = config.KeypointShape!;
                    var expected = 5 + shape.Count * shape.Dimensions;
                    return count == expected
                        ? Pose(values, label, shape, config.KeypointNames((int)values[0]), file, line, width, height)
                        : throw new ImportException(file, line,
                            $"expected {expected} values (class cx cy w h and {shape.Count} keypoints of {shape.Dimensions}), found {count}");
                case YoloTask.Segment when count != 5 && (count < 7 || count % 2 == 0):
                    throw new ImportException(file, line, $"expected class and at least 3 x y pairs (an odd number of at least 7 values), found {count}");
                case YoloTask.Auto when count != 5 && (count < 7 || count % 2 == 0):
                    throw new ImportException(file, line,
                        $"expected 5 values (class cx cy w h) or class and at least 3 x y pairs, found {count}");
            }

            if (count == 5)
            {
                return One(Box(values, label, file, line, width, height));
            }

            var points = Enumerable.Range(0, (count - 1) / 2).Select(i => (X: Pixel(values[1 + 2 * i], width), Y: Pixel(values[2 + 2 * i], height))).ToList();
            return One(task == YoloTask.Obb
                ? RotatedBox(points, label, file, line)
                : new ImportedAnnotation(label, AnnotationTypes.Polygon, ImportJson.Vertices(points)));
        }

        private static List<ImportedAnnotation> One(ImportedAnnotation? annotation) => annotation is null ? [] : [annotation];

        private ImportedAnnotation? Box(double[] values, string label, string file, int line, double width, double height)
        {
            var (cx, cy, w, h) = (values[1], values[2], values[3], values[4]);
            if (w <= 0 || h <= 0)
            {
                Skipped.Add(new ImportSkip(file, line, "the box has no area; skipped"));
                return null;
            }

            return new ImportedAnnotation(label, AnnotationTypes.BoundingBox,
                ImportJson.Box(Pixel(cx - w / 2, width), Pixel(cy - h / 2, height), Pixel(w, width), Pixel(h, height)));
        }

        /// <summary>Corners in Annex's order (top-left, top-right, bottom-right, bottom-left before a clockwise turn
        /// about the center), so the first edge gives the width and the angle.</summary>
        private ImportedAnnotation? RotatedBox(List<(double X, double Y)> corners, string label, string file, int line)
        {
            var (p0, p1, p2) = (corners[0], corners[1], corners[2]);
            var boxWidth = Math.Sqrt(Square(p1.X - p0.X) + Square(p1.Y - p0.Y));
            var boxHeight = Math.Sqrt(Square(p2.X - p1.X) + Square(p2.Y - p1.Y));
            if (boxWidth <= 0 || boxHeight <= 0)
            {
                Skipped.Add(new ImportSkip(file, line, "the rotated box has no area; skipped"));
                return null;
            }

            var cx = corners.Average(c => c.X);
            var cy = corners.Average(c => c.Y);
            var angle = Math.Atan2(p1.Y - p0.Y, p1.X - p0.X);
            return new ImportedAnnotation(label, AnnotationTypes.BoundingBox, ImportJson.Box(
                Round(cx - boxWidth / 2), Round(cy - boxHeight / 2), Round(boxWidth), Round(boxHeight),
                angle == 0 ? null : Math.Round(angle, 9)));
        }

        /// <summary>A pose row is an object's box and its keypoints: both are kept, so the box survives a round trip.</summary>
        private List<ImportedAnnotation> Pose(
            double[] values, string label, KeypointShape shape, IReadOnlyList<string>? names, string file, int line, double width, double height)
        {
            var read = One(Box(values, label, file, line, width, height));
            var points = new List<(double, double, string?, bool?)>();
            for (var i = 0; i < shape.Count; i++)
            {
                var at = 5 + i * shape.Dimensions;
                bool? visible = null;
                if (shape.Dimensions == 3)
                {
                    var flag = values[at + 2];
                    if (flag is not (0 or 1 or 2))
                    {
                        throw new ImportException(file, line, $"keypoint {i + 1}: a visibility flag is 0, 1 or 2, found {flag.ToString(CultureInfo.InvariantCulture)}");
                    }

                    // 0 marks a keypoint that was not labelled; Annex keeps only labelled ones.
                    if (flag == 0)
                    {
                        continue;
                    }

                    visible = flag == 2;
                }

                points.Add((Pixel(values[at], width), Pixel(values[at + 1], height), names?[i], visible));
            }

            if (points.Count > 0)
            {
                read.Add(new ImportedAnnotation(label, AnnotationTypes.Keypoints, ImportJson.Keypoints(points)));
            }

            return read;
        }

        private string Label(double value, string file, int line)
        {
            if (value != Math.Floor(value) || value < 0)
            {
                throw new ImportException(file, line, $"the class \"{value.ToString(CultureInfo.InvariantCulture)}\" is not a class index");
            }

            return value < config.Names.Count
                ? config.Names[(int)value]
                : throw new ImportException(file, line,
                    $"class {value.ToString(CultureInfo.InvariantCulture)} is not below the number of names ({config.Names.Count}) in {config.File}");
        }

        private static double[] Parse(string[] fields, string file, int line)
        {
            var values = new double[fields.Length];
            for (var i = 0; i < fields.Length; i++)
            {
                if (!double.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                {
                    throw new ImportException(file, line, $"value {i + 1} \"{fields[i]}\" is not a number");
                }
            }

            return values;
        }

        private static double Pixel(double normalized, double size) => Round(normalized * size);

        private static double Round(double value) => Math.Round(value, PixelDecimals);

        private static double Square(double value) => value * value;
    }
}
