using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Annex.Formats.Import;

public static partial class CocoImporter
{
    /// <summary>
    /// Opens one instances file for a streamed read, as <see cref="Read"/> reads it but without loading the file:
    /// a first pass over the file takes the categories and images (and counts each image's annotations), a second
    /// hands out the images with their annotations in file order, each as soon as its last annotation was read.
    /// Memory holds a compact table of the images (<see cref="ImageTable"/>: in the second pass a count per image, and
    /// the ids only when they do not follow each other; the names and sizes are read again from the file, by a second
    /// cursor over its <c>images</c>, as the images are handed out) and, when a file does not keep an image's
    /// annotations together, the annotations of the images still waiting for theirs. <paramref name="fileName"/>
    /// names the file in messages and gives the split.
    /// </summary>
    public static StreamedImport OpenStreamed(string path, string fileName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        Func<Stream> open = () => File.OpenRead(path);
        return new CocoStream([new Part(fileName, open, new Reader(fileName, SplitOf(fileName), mediaPath: null) { Table = NewTable(open) })]);
    }

    /// <summary>
    /// A COCO folder as <see cref="ReadFolder"/> reads it, streamed split by split. A split with both an instances
    /// and a person_keypoints file merges objects across the two files, which needs both whole: such a folder is
    /// read with <see cref="ReadFolder"/>.
    /// </summary>
    public static StreamedImport OpenFolderStreamed(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var annotations = Path.Combine(folder, "annotations");
        var files = Directory.Exists(annotations)
            ? Directory.GetFiles(annotations, "instances_*.json").Concat(Directory.GetFiles(annotations, "person_keypoints_*.json")).ToList()
            : [];
        var splits = files.GroupBy(file => RawSplitOf(Path.GetFileName(file))!, StringComparer.Ordinal).ToList();
        if (files.Count == 0 || splits.Any(split => split.Count() > 1))
        {
            return StreamedImport.FromDataset(ReadFolder(folder));
        }

        var parts = new List<Part>();
        foreach (var file in splits.OrderBy(split => split.Key, StringComparer.Ordinal).Select(split => split.Single()))
        {
            var relative = "annotations/" + Path.GetFileName(file);
            ImportPaths.RequireInside(folder, relative);
            var rawSplit = RawSplitOf(relative);
            var split = SplitOf(relative);
            Func<Stream> open = () => File.OpenRead(file);
            parts.Add(new Part(relative, open, new Reader(relative, split, imageFile => FindImage(folder, rawSplit, split, imageFile)) { Table = NewTable(open) }));
        }

        return new CocoStream(parts);
    }

    /// <summary>A table whose images' names are read again from the file when it needs one.</summary>
    private static ImageTable NewTable(Func<Stream> open) => new(index =>
    {
        using var stream = open();
        var image = new ImageAt(index);
        var walker = new JsonArrayWalker.Walker(stream, image);
        while (image.FileName is null && walker.Step())
        {
        }

        return RefIdOf(image.FileName ?? throw new InvalidOperationException("The file has fewer images than its first reading found; was it changed during the import?"));
    });

    private sealed class ImageAt(int index) : JsonArrayWalker.IVisitor
    {
        public string? FileName { get; private set; }

        public void Element(string property, int i, ref Utf8JsonReader element)
        {
            if (property == "images" && i == index && FileName is null)
            {
                using var document = JsonDocument.ParseValue(ref element);
                FileName = Reader.ImageFields(document.RootElement).FileName;
            }
        }

        public void Other(string property, ref Utf8JsonReader value)
        {
        }
    }

    private sealed record Part(string FileName, Func<Stream> Open, Reader Reader)
    {
        /// <summary>The images in file order, with how many annotations each still waits for.</summary>
        public ImageTable Images => Reader.Table!;
    }

    private sealed class CocoStream : StreamedImport
    {
        private readonly List<Part> _parts;
        private readonly List<ImportedLabel> _labels = [];
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);
        private readonly List<ImportSkip> _skipped = [];
        private int _itemCount;
        private long _annotationCount;
        private bool _read;

        public CocoStream(List<Part> parts)
        {
            _parts = parts;
            var labelNames = new HashSet<string>(StringComparer.Ordinal);
            for (var p = 0; p < parts.Count; p++)
            {
                var part = parts[p];
                var usedCategories = new HashSet<long>();
                var first = new FirstPass(part, usedCategories);
                Walk(part, first);
                first.Finish();
                _labels.AddRange(part.Reader.Labels.Where(label => labelNames.Add(label.Name)));
                foreach (var id in usedCategories)
                {
                    if (part.Reader.TryGetCategory(id, out var name))
                    {
                        _used.Add(name);
                    }
                }

                // A split's own ref_ids are distinct (its first pass checked them): look each up in the splits before
                // it, reading the split's images again.
                using var images = new ImageCursor(part);
                for (var i = 0; p > 0 && i < part.Images.Count; i++)
                {
                    var refId = RefIdOf(images.Next().FileName);
                    for (var earlier = 0; earlier < p; earlier++)
                    {
                        if (parts[earlier].Images.HasRefId(refId))
                        {
                            throw new ImportException(part.FileName, null, $"the image \"{refId}\" is also in another split");
                        }
                    }
                }

                _itemCount += part.Images.Count;
                _annotationCount += first.Annotations;
            }

            foreach (var part in parts)
            {
                part.Images.ForgetNames();
            }
        }

        public override IReadOnlyList<ImportedLabel> Labels => _labels;

        public override IReadOnlySet<string> UsedLabels => _used;

        public override int ItemCount => _itemCount;

        public override long AnnotationCount => _annotationCount;

        public override IReadOnlyList<ImportSkip> Skipped => _skipped;

        public override IEnumerable<ImportedItem> ReadItems()
        {
            if (_read)
            {
                throw new InvalidOperationException("The items of a streamed import can be read once.");
            }

            _read = true;
            foreach (var part in _parts)
            {
                using var second = new SecondPass(part);
                using var stream = part.Open();
                var walker = new JsonArrayWalker.Walker(stream, second);
                while (true)
                {
                    ImportException? error = null;
                    bool more;
                    try
                    {
                        more = Step(part, walker);
                    }
                    catch (ImportException e)
                    {
                        error = e;
                        more = false;
                    }

                    // What was read whole before a fault in the file is handed out before the fault is reported.
                    while (second.Ready.TryDequeue(out var item))
                    {
                        yield return item;
                    }

                    if (error is not null)
                    {
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                    }

                    if (!more)
                    {
                        break;
                    }
                }

                second.Drain(all: true);
                while (second.Ready.TryDequeue(out var item))
                {
                    yield return item;
                }

                _skipped.AddRange(part.Reader.Skipped);
            }
        }

        private static void Walk(Part part, JsonArrayWalker.IVisitor visitor)
        {
            using var stream = part.Open();
            var walker = new JsonArrayWalker.Walker(stream, visitor);
            while (Step(part, walker))
            {
            }
        }

        internal static bool Step(Part part, JsonArrayWalker.Walker walker)
        {
            try
            {
                return walker.Step();
            }
            catch (JsonException e)
            {
                throw new ImportException(part.FileName, (int?)e.LineNumber + 1, "not valid JSON: " + FirstSentence(e.Message), e);
            }
            catch (InvalidDataException)
            {
                throw part.Reader.NotAnObject();
            }
        }
    }

    /// <summary>Categories and images in full; of each annotation only its image and category, to count and check labels.</summary>
    private sealed class FirstPass(Part part, HashSet<long> usedCategories) : JsonArrayWalker.IVisitor
    {
        private readonly HashSet<string> _categoryNames = new(StringComparer.Ordinal);

        // Annotation counts of image ids not (yet) in the table: the annotations may come before the images.
        private readonly Dictionary<long, int> _waitingBefore = [];
        private bool _categories;
        private bool _images;

        public long Annotations { get; private set; }

        public void Element(string property, int index, ref Utf8JsonReader element)
        {
            switch (property)
            {
                case "categories":
                    using (var document = JsonDocument.ParseValue(ref element))
                    {
                        part.Reader.ReadCategory(document.RootElement, index, _categoryNames);
                    }

                    break;
                case "images":
                    using (var document = JsonDocument.ParseValue(ref element))
                    {
                        part.Reader.ReadImage(document.RootElement, index, refIds: null);
                    }

                    break;
                case "annotations":
                    Annotations++;
                    Count(ref element);
                    break;
            }
        }

        public void Other(string property, ref Utf8JsonReader value)
        {
            var kind = value.TokenType;
            if (kind == JsonTokenType.StartArray)
            {
                _categories |= property == "categories";
                _images |= property == "images";
                return;
            }

            // null is "missing" for categories and images (as in the whole-file reader) and nothing for annotations.
            if (property is "categories" or "images" or "annotations" && kind != JsonTokenType.Null)
            {
                throw part.Reader.NotAList(property, kind switch
                {
                    JsonTokenType.StartObject => "an object",
                    JsonTokenType.String => $"\"{value.GetString()}\"",
                    _ => Encoding.UTF8.GetString(value.ValueSpan),
                });
            }
        }

        public void Finish()
        {
            if (!_categories)
            {
                throw part.Reader.Missing("categories");
            }

            if (!_images)
            {
                throw part.Reader.Missing("images");
            }

            foreach (var (id, count) in _waitingBefore)
            {
                if (part.Images.IndexOf(id) is var index and >= 0)
                {
                    part.Images.Waiting(index) += count;
                }
            }
        }

        private void Count(ref Utf8JsonReader element)
        {
            if (element.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            var depth = element.CurrentDepth;
            long? imageId = null;
            while (element.Read() && !(element.TokenType == JsonTokenType.EndObject && element.CurrentDepth == depth))
            {
                if (element.TokenType != JsonTokenType.PropertyName || element.CurrentDepth != depth + 1)
                {
                    continue;
                }

                var isImage = element.ValueTextEquals("image_id"u8);
                var isCategory = !isImage && element.ValueTextEquals("category_id"u8);
                element.Read();
                if ((isImage || isCategory) && element.TokenType == JsonTokenType.Number && element.TryGetInt64(out var number))
                {
                    if (isImage)
                    {
                        imageId = number;
                    }
                    else
                    {
                        usedCategories.Add(number);
                    }
                }
                else if (element.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    element.TrySkip();
                }
            }

            if (imageId is { } id)
            {
                if (part.Images.IndexOf(id) is var index and >= 0)
                {
                    part.Images.Waiting(index)++;
                }
                else
                {
                    _waitingBefore[id] = _waitingBefore.GetValueOrDefault(id) + 1;
                }
            }
        }
    }

    /// <summary>Reads each annotation in full and hands out the images, in file order, once all of theirs are read.</summary>
    private sealed class SecondPass(Part part) : JsonArrayWalker.IVisitor, IDisposable
    {
        private readonly ImageCursor _images = new(part);
        private int _next;

        public Queue<ImportedItem> Ready { get; } = new();

        public void Element(string property, int index, ref Utf8JsonReader element)
        {
            if (property != "annotations")
            {
                return;
            }

            using var document = JsonDocument.ParseValue(ref element);
            var annotation = document.RootElement;
            part.Reader.ReadAnnotation(annotation, $"annotations[{index.ToString(CultureInfo.InvariantCulture)}]");

            // ReadAnnotation checked that image_id names an image.
            var image = part.Images.IndexOf(annotation.GetProperty("image_id").GetInt64());
            part.Images.Waiting(image)--;
            Drain(all: false);
        }

        public void Other(string property, ref Utf8JsonReader value)
        {
        }

        /// <summary>Queues the images, in order, that have all their annotations (every image left, with <paramref name="all"/>).</summary>
        public void Drain(bool all)
        {
            var images = part.Images;
            while (_next < images.Count && (all || images.Waiting(_next) <= 0))
            {
                // The image's annotations are handed out with it, and let go of in the table.
                Ready.Enqueue(part.Reader.ItemAt(_next, _images.Next()));
                _next++;
            }
        }

        public void Dispose() => _images.Dispose();
    }

    /// <summary>The elements of <c>images</c> again, one at a time as they are asked for, from a walk of its own over
    /// the file (which reads ahead one buffer, and stops once the last image has been asked for).</summary>
    private sealed class ImageCursor(Part part) : JsonArrayWalker.IVisitor, IDisposable
    {
        private readonly Queue<(string FileName, int? Width, int? Height)> _read = new();
        private Stream? _stream;
        private JsonArrayWalker.Walker? _walker;

        public (string FileName, int? Width, int? Height) Next()
        {
            while (_read.Count == 0)
            {
                if (_walker is null)
                {
                    _stream = part.Open();
                    _walker = new JsonArrayWalker.Walker(_stream, this);
                }

                if (!CocoStream.Step(part, _walker) && _read.Count == 0)
                {
                    throw new InvalidOperationException($"{part.FileName} has fewer images than its first reading found; was it changed during the import?");
                }
            }

            return _read.Dequeue();
        }

        public void Element(string property, int index, ref Utf8JsonReader element)
        {
            if (property == "images")
            {
                using var document = JsonDocument.ParseValue(ref element);
                _read.Enqueue(Reader.ImageFields(document.RootElement));
            }
        }

        public void Other(string property, ref Utf8JsonReader value)
        {
        }

        public void Dispose() => _stream?.Dispose();
    }
}
