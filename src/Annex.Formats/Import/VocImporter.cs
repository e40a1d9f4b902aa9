using System.Globalization;
using System.Xml;
using Annex.Formats.Media;

namespace Annex.Formats.Import;

/// <summary>
/// Reads a Pascal VOC folder (or an unpacked VOC export): <c>Annotations/*.xml</c> with <c>filename</c>, <c>size</c>
/// and <c>object</c>s (<c>name</c>, <c>bndbox</c>, and <c>difficult</c>, <c>truncated</c>, <c>occluded</c> as
/// attributes where present); <c>labels.txt</c> for the class order when there is one, else the order names first
/// appear in; the split from <c>ImageSets/Main/&lt;split&gt;.txt</c>; images from <c>JPEGImages/</c>. Boxes go from the
/// devkit's 1-based inclusive pixels back to pixel edges (<c>x = xmin - 1</c>, <c>width = xmax - xmin + 1</c>).
/// </summary>
public static class VocImporter
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"];
    private static readonly string[] PreferredSplits = ["train", "val", "test"];
    private static readonly string[] AttributeFlags = ["difficult", "truncated", "occluded"];
    private static readonly string[] MaskFolders = ["SegmentationClass", "SegmentationObject"];

    private static readonly XmlReaderSettings XmlSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
    };

    public static ImportedDataset Read(string folder)
    {
        var scan = Scan(folder, keepObjects: true);
        return new ImportedDataset(scan.Labels, scan.Items) { Skipped = scan.Skipped };
    }

    /// <summary>
    /// Opens a VOC folder for a streamed read, as <see cref="Read"/> reads it but without holding every object: a
    /// first pass reads every annotation file (so a fault is found before any item is handed out, as in
    /// <see cref="Read"/>) and keeps of each item only its fields; a second pass reads each file again as its item is
    /// handed out.
    /// </summary>
    public static StreamedImport OpenStreamed(string folder) => new VocStream(folder, Scan(folder, keepObjects: false));

    /// <summary>What a pass over the folder found; with <c>keepObjects</c> false the items come without annotations,
    /// and <c>Files</c> names the annotation file of each of the first items (the others have no file).</summary>
    private sealed record ScanResult(List<ImportedLabel> Labels, List<ImportedItem> Items, List<ImportSkip> Skipped, List<(string Path, string File)> Files, HashSet<string> Used, long Objects);

    private static ScanResult Scan(string folder, bool keepObjects)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
        {
            throw new ImportException(folder, null, "no such folder");
        }

        var annotations = Path.Combine(folder, "Annotations");
        var xmlFiles = Directory.Exists(annotations)
            ? Directory.GetFiles(annotations, "*.xml").Order(StringComparer.Ordinal).ToArray()
            : [];
        if (xmlFiles.Length == 0)
        {
            throw new ImportException("Annotations", null, "no .xml file found");
        }

        var labels = ReadLabelList(folder);
        var labelNames = labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var splits = ReadSplits(folder);
        var skipped = new List<ImportSkip>();
        var items = new List<ImportedItem>();
        var files = new List<(string Path, string File)>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        long objects = 0;
        foreach (var path in xmlFiles)
        {
            var stem = Path.GetFileNameWithoutExtension(path);
            var file = $"Annotations/{Path.GetFileName(path)}";
            ImportPaths.RequireInside(folder, file);
            var document = ReadDocument(path, file, skipped);
            labels.AddRange(document.Objects.Select(o => o.Label).Where(labelNames.Add).Select(name => new ImportedLabel(name)));
            used.UnionWith(document.Objects.Select(o => o.Label));
            objects += document.Objects.Count;
            files.Add((path, file));
            items.Add(new ImportedItem(
                stem, document.Width, document.Height, ImportJson.Split(splits.GetValueOrDefault(stem)),
                FindImage(folder, stem, document.FileName), keepObjects ? document.Objects : [])
            {
                MediaUrl = document.MediaUrl,
            });
        }

        items.AddRange(ImagesWithoutAnnotations(folder, items.Select(i => i.RefId).ToHashSet(StringComparer.Ordinal), splits));
        foreach (var masks in MaskFolders.Where(name => Directory.Exists(Path.Combine(folder, name))))
        {
            skipped.Add(new ImportSkip(masks, null, "segmentation masks are not read; the boxes in Annotations/ are"));
        }

        return new ScanResult(labels, items, skipped, files, used, objects);
    }

    private sealed class VocStream(string folder, ScanResult scan) : StreamedImport
    {
        private bool _read;

        public override IReadOnlyList<ImportedLabel> Labels => scan.Labels;

        public override IReadOnlySet<string> UsedLabels => scan.Used;

        public override int ItemCount => scan.Items.Count;

        public override long AnnotationCount => scan.Objects;

        /// <summary>The first pass found every skip already, in the order the whole-folder reader lists them.</summary>
        public override IReadOnlyList<ImportSkip> Skipped => scan.Skipped;

        public override IEnumerable<ImportedItem> ReadItems()
        {
            if (_read)
            {
                throw new InvalidOperationException("The items of a streamed import can be read once.");
            }

            _read = true;
            return Items();
        }

        private IEnumerable<ImportedItem> Items()
        {
            for (var i = 0; i < scan.Items.Count; i++)
            {
                if (i >= scan.Files.Count)
                {
                    yield return scan.Items[i];
                    continue;
                }

                var (path, file) = scan.Files[i];
                ImportPaths.RequireInside(folder, file);
                var document = ReadDocument(path, file, []);
                yield return scan.Items[i] with { Annotations = document.Objects };
            }
        }
    }

    /// <summary>labels.txt, one class name a line, in class order.</summary>
    private static List<ImportedLabel> ReadLabelList(string folder)
    {
        var labels = new List<ImportedLabel>();
        var path = Path.Combine(folder, "labels.txt");
        if (!File.Exists(path))
        {
            return labels;
        }

        ImportPaths.RequireInside(folder, "labels.txt");
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var name = line.Trim();
            if (name.Length == 0)
            {
                continue;
            }

            if (!seen.TryAdd(name, lineNumber))
            {
                throw new ImportException("labels.txt", lineNumber, $"the class \"{name}\" is also on line {seen[name]}");
            }

            labels.Add(new ImportedLabel(name));
        }

        return labels;
    }

    /// <summary>
    /// The split of each stem from <c>ImageSets/Main/&lt;split&gt;.txt</c>. Per-class lists (<c>car_train.txt</c>) are
    /// not split lists; a stem listed twice (VOC's <c>trainval.txt</c> repeats train and val) keeps train, val or test first.
    /// </summary>
    private static Dictionary<string, string> ReadSplits(string folder)
    {
        var splits = new Dictionary<string, string>(StringComparer.Ordinal);
        var main = Path.Combine(folder, "ImageSets", "Main");
        if (!Directory.Exists(main))
        {
            return splits;
        }

        var lists = Directory.GetFiles(main, "*.txt")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => name is { Length: > 0 } && !name.Contains('_', StringComparison.Ordinal))
            .Select(name => name!)
            .OrderBy(name => Array.IndexOf(PreferredSplits, name) is var rank and >= 0 ? rank : PreferredSplits.Length)
            .ThenBy(name => name, StringComparer.Ordinal);
        foreach (var split in lists)
        {
            ImportPaths.RequireInside(folder, $"ImageSets/Main/{split}.txt");
            foreach (var line in File.ReadLines(Path.Combine(main, split + ".txt")))
            {
                var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 0)
                {
                    splits.TryAdd(fields[0], split);
                }
            }
        }

        return splits;
    }

    /// <summary>The image the XML names in <c>JPEGImages/</c>, else one there with the XML's stem.</summary>
    private static string? FindImage(string folder, string stem, string? fileName)
    {
        var candidates = new List<string>();
        if (fileName is not null && !fileName.Replace('\\', '/').Split('/').Contains(".."))
        {
            candidates.Add($"JPEGImages/{fileName.Replace('\\', '/')}");
        }

        candidates.AddRange(ImageExtensions.Select(extension => $"JPEGImages/{stem}{extension}"));
        var found = candidates.FirstOrDefault(candidate => File.Exists(Path.Combine(folder, candidate)));
        if (found is not null)
        {
            ImportPaths.RequireInside(folder, found);
        }

        return found;
    }

    /// <summary>Images with no annotation file are items too, sized from their headers: VOC writes no XML for an image without a size.</summary>
    private static IEnumerable<ImportedItem> ImagesWithoutAnnotations(string folder, HashSet<string> annotated, Dictionary<string, string> splits)
    {
        var images = Path.Combine(folder, "JPEGImages");
        if (!Directory.Exists(images))
        {
            yield break;
        }

        var files = Directory.EnumerateFiles(images)
            .Where(path => ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
        foreach (var path in files)
        {
            var stem = Path.GetFileNameWithoutExtension(path);
            if (!annotated.Add(stem))
            {
                continue;
            }

            var relative = $"JPEGImages/{Path.GetFileName(path)}";
            ImportPaths.RequireInside(folder, relative);
            using var stream = File.OpenRead(path);
            var info = ImageHeader.TryRead(stream, out var header)
                ? header
                : throw new ImportException(relative, null, "not a PNG, JPEG, WebP, GIF or BMP image");
            yield return new ImportedItem(stem, info.Width, info.Height, ImportJson.Split(splits.GetValueOrDefault(stem)), relative, []);
        }
    }

    private sealed record VocDocument(string? FileName, int Width, int Height, string? MediaUrl, List<ImportedAnnotation> Objects);

    private static VocDocument ReadDocument(string path, string file, List<ImportSkip> skipped)
    {
        using var stream = File.OpenRead(path);
        using var xml = XmlReader.Create(stream, XmlSettings);
        try
        {
            return new DocumentReader(xml, file, skipped).Read();
        }
        catch (XmlException e)
        {
            // A prohibited DTD is reported without a position.
            throw new ImportException(file, e.LineNumber > 0 ? e.LineNumber : null, "not valid XML: " + CocoImporter.FirstSentence(e.Message), e);
        }
    }

    /// <summary>Walks one annotation file element by element, remembering each element's line for messages.</summary>
    private sealed class DocumentReader(XmlReader xml, string file, List<ImportSkip> skipped)
    {
        private readonly IXmlLineInfo _lines = (IXmlLineInfo)xml;
        private int _objectCount;

        private int Line => _lines.LineNumber;

        public VocDocument Read()
        {
            xml.MoveToContent();
            var rootLine = Line;
            if (xml.NodeType != XmlNodeType.Element || xml.LocalName != "annotation")
            {
                throw Error(rootLine, $"expected an <annotation> element, found <{xml.LocalName}>");
            }

            string? fileName = null;
            string? mediaUrl = null;
            (int Width, int Height)? size = null;
            var objects = new List<ImportedAnnotation>();
            foreach (var name in Children())
            {
                switch (name)
                {
                    case "filename":
                        fileName = Text();
                        break;
                    case "size":
                        size = ReadSize();
                        break;
                    case "source":
                        mediaUrl = ReadSourceUrl();
                        break;
                    case "object":
                        if (ReadObject() is { } annotation)
                        {
                            objects.Add(annotation);
                        }

                        break;
                    default:
                        xml.Skip();
                        break;
                }
            }

            // The rest of the file must be well-formed too.
            while (xml.Read())
            {
            }

            if (size is not { } known)
            {
                throw Error(rootLine, "size: missing; VOC boxes are measured against the image size");
            }

            return new VocDocument(string.IsNullOrWhiteSpace(fileName) ? null : fileName.Trim(), known.Width, known.Height, mediaUrl, objects);
        }

        /// <summary>
        /// Yields the local name of each child element of the current element, positioned on it; the caller must read
        /// or skip that element. Leaves the reader after the current element's end tag.
        /// </summary>
        private IEnumerable<string> Children()
        {
            if (xml.IsEmptyElement)
            {
                xml.Read();
                yield break;
            }

            xml.Read();
            while (xml.NodeType != XmlNodeType.EndElement && !xml.EOF)
            {
                if (xml.NodeType == XmlNodeType.Element)
                {
                    yield return xml.LocalName;
                }
                else
                {
                    xml.Read();
                }
            }

            xml.Read();
        }

        private string Text() => xml.ReadElementContentAsString().Trim();

        private (int Width, int Height) ReadSize()
        {
            var line = Line;
            int? width = null, height = null;
            foreach (var name in Children())
            {
                switch (name)
                {
                    case "width":
                        width = WholeNumber("size/width");
                        break;
                    case "height":
                        height = WholeNumber("size/height");
                        break;
                    default:
                        xml.Skip();
                        break;
                }
            }

            return (width ?? throw Error(line, "size/width: missing"), height ?? throw Error(line, "size/height: missing"));
        }

        /// <summary>An Annex export names an external image in <c>source/image</c>; other VOC sets put a word such as "flickr" there.</summary>
        private string? ReadSourceUrl()
        {
            string? url = null;
            foreach (var name in Children())
            {
                if (name != "image")
                {
                    xml.Skip();
                    continue;
                }

                var text = Text();
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                {
                    url = text;
                }
            }

            return url;
        }

        private ImportedAnnotation? ReadObject()
        {
            _objectCount++;
            var what = string.Create(CultureInfo.InvariantCulture, $"object {_objectCount}");
            var line = Line;
            string? label = null;
            double[]? box = null;
            var flags = new List<KeyValuePair<string, bool>>();
            foreach (var name in Children())
            {
                switch (name)
                {
                    case "name":
                        label = Text();
                        break;
                    case "bndbox":
                        box = ReadBox(what);
                        break;
                    case var flag when AttributeFlags.Contains(flag):
                        flags.Add(new KeyValuePair<string, bool>(flag, Flag($"{what}: {flag}")));
                        break;
                    default:
                        xml.Skip();
                        break;
                }
            }

            if (string.IsNullOrEmpty(label))
            {
                throw Error(line, $"{what}: name missing");
            }

            if (box is not [var xMin, var yMin, var xMax, var yMax])
            {
                throw Error(line, $"{what}: bndbox missing");
            }

            if (xMax < xMin || yMax < yMin)
            {
                skipped.Add(new ImportSkip(file, line, $"{what}: the bndbox ends before it starts, so it has no area; skipped"));
                return null;
            }

            var attributes = flags.Count == 0 ? null : ImportJson.Flags(flags.OrderBy(f => Array.IndexOf(AttributeFlags, f.Key)));
            return new ImportedAnnotation(label, AnnotationTypes.BoundingBox, ImportJson.Box(xMin - 1, yMin - 1, xMax - xMin + 1, yMax - yMin + 1), attributes);
        }

        private double[] ReadBox(string what)
        {
            var line = Line;
            string[] corners = ["xmin", "ymin", "xmax", "ymax"];
            var values = new double?[4];
            foreach (var name in Children())
            {
                var index = Array.IndexOf(corners, name);
                if (index < 0)
                {
                    xml.Skip();
                    continue;
                }

                values[index] = Number($"{what}: bndbox/{name}");
            }

            for (var i = 0; i < corners.Length; i++)
            {
                if (values[i] is null)
                {
                    throw Error(line, $"{what}: bndbox/{corners[i]} missing");
                }
            }

            return [.. values.Select(v => v!.Value)];
        }

        private double Number(string what)
        {
            var line = Line;
            var text = Text();
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
                ? value
                : throw Error(line, $"{what} \"{text}\" is not a number");
        }

        private int WholeNumber(string what)
        {
            var line = Line;
            var text = Text();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw Error(line, $"{what} \"{text}\" is not a positive whole number");
        }

        private bool Flag(string what)
        {
            var line = Line;
            return Text() switch
            {
                "0" or "false" => false,
                "1" or "true" => true,
                var other => throw Error(line, $"{what} \"{other}\" is not 0 or 1"),
            };
        }

        private ImportException Error(int line, string reason) => new(file, line, reason);
    }
}
