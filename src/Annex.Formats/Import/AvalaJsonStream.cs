using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Annex.Formats.Import;

public static partial class AvalaJsonImporter
{
    /// <summary>
    /// The streamed read: the constructor checks the document (one pass, or two when the results come before the
    /// datasets or projects they refer to) with the same checks and messages as <see cref="AvalaJsonSchema"/>;
    /// <see cref="ReadItems"/> walks the items and the results with two cursors and joins them.
    /// </summary>
    private sealed class AvalaStream : StreamedImport
    {
        private readonly Func<Stream> _open;
        private readonly string _file;
        private readonly List<ImportedLabel> _labels = [];
        private readonly HashSet<string> _labelNames = new(StringComparer.Ordinal);
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);

        // The number of results of each item, by its position in document order; the only state kept per item once
        // the document is checked (the uids are kept only during the check, by the schema's checker).
        private int[] _resultsPerItem = new int[256];
        private int _itemCount;
        private long _annotationCount;
        private bool _read;

        public AvalaStream(Func<Stream> open, string file)
        {
            _open = open;
            _file = file;
            var check = new CheckPass(this);
            Walk(check);
            if (check.ResultsLater)
            {
                // The results came before what they refer to: check them again, now that every item and label is known.
                check.ResultsOnly = true;
                Walk(check);
            }

            check.Finish();
            if (_resultsPerItem.Length > _itemCount)
            {
                Array.Resize(ref _resultsPerItem, _itemCount);
            }
        }

        public override IReadOnlyList<ImportedLabel> Labels => _labels;

        public override IReadOnlySet<string> UsedLabels => _used;

        public override int ItemCount => _itemCount;

        public override long AnnotationCount => _annotationCount;

        public override IReadOnlyList<ImportSkip> Skipped => [];

        public override IEnumerable<ImportedItem> ReadItems()
        {
            if (_read)
            {
                throw new InvalidOperationException("The items of a streamed import can be read once.");
            }

            _read = true;
            using var itemStream = _open();
            using var resultStream = _open();
            var items = new Cursor<(string Uid, ImportedItem Item)>(this, itemStream, queue => new ItemVisitor(queue));
            var results = new Cursor<(string ItemUid, List<ImportedAnnotation> Annotations)>(this, resultStream, queue => new ResultVisitor(this, queue));

            // Results read before their item's turn (a document whose results are not in item order) wait here.
            var early = new Dictionary<string, (List<ImportedAnnotation> Annotations, int Results)>(StringComparer.Ordinal);
            var position = 0;
            while (items.TryNext(out var next))
            {
                var (uid, item) = next;
                var expected = position < _resultsPerItem.Length ? _resultsPerItem[position] : 0;
                position++;
                var (annotations, got) = early.Remove(uid, out var waiting) ? waiting : ([], 0);
                while (got < expected)
                {
                    if (!results.TryNext(out var result))
                    {
                        throw new ImportException(_file, null, "the document changed while it was read");
                    }

                    if (result.ItemUid == uid)
                    {
                        annotations.AddRange(result.Annotations);
                        got++;
                    }
                    else if (early.TryGetValue(result.ItemUid, out var other))
                    {
                        other.Annotations.AddRange(result.Annotations);
                        early[result.ItemUid] = (other.Annotations, other.Results + 1);
                    }
                    else
                    {
                        early[result.ItemUid] = (result.Annotations, 1);
                    }
                }

                yield return item with { Annotations = annotations };
            }
        }

        private void Walk(JsonTreeWalker.IVisitor visitor)
        {
            using var stream = _open();
            var walker = new JsonTreeWalker(stream, visitor);
            while (Step(walker))
            {
            }
        }

        private bool Step(JsonTreeWalker walker)
        {
            try
            {
                return walker.Step();
            }
            catch (JsonException e)
            {
                throw new ImportException(_file, (int?)e.LineNumber + 1, "not valid JSON: " + CocoImporter.FirstSentence(e.Message), e);
            }
        }

        private static string At(string path, int index) => string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]");

        private static bool Is(IReadOnlyList<JsonTreeWalker.Level> path, string property) => path[0].Name == property;

        /// <summary>Hands out the values a walk finds, one part of the stream at a time.</summary>
        private sealed class Cursor<T>
        {
            private readonly AvalaStream _import;
            private readonly Queue<T> _queue = new();
            private readonly JsonTreeWalker _walker;
            private bool _more = true;

            public Cursor(AvalaStream import, Stream stream, Func<Queue<T>, JsonTreeWalker.IVisitor> visitor)
            {
                _import = import;
                _walker = new JsonTreeWalker(stream, visitor(_queue));
            }

            public bool TryNext(out T value)
            {
                while (_queue.Count == 0 && _more)
                {
                    _more = _import.Step(_walker);
                }

                return _queue.TryDequeue(out value!);
            }
        }

        /// <summary>The first violation found in one part of the document and how many there are.</summary>
        private sealed class Violations
        {
            public string? First { get; private set; }

            public int Count { get; private set; }

            public void Add(string violation)
            {
                First ??= violation;
                Count++;
            }

            public void Add(Violations other)
            {
                First ??= other.First;
                Count += other.Count;
            }
        }

        /// <summary>
        /// Checks the document as <see cref="AvalaJsonSchema.Validate"/> does, element by element: items, projects and
        /// results go through the schema's own checks one at a time; the top level and each dataset's own fields are
        /// checked once their end is reached. Violations are kept per part of the document (top fields, datasets,
        /// projects, results) and reported in the schema's order, whatever order the document has. Also reads the
        /// labels and counts what the second pass will hand out.
        /// </summary>
        private sealed class CheckPass(AvalaStream import) : JsonTreeWalker.IVisitor
        {
            private readonly AvalaJsonSchema.Checker _checker = new();
            private readonly Violations _head = new();
            private readonly Violations _datasets = new();
            private readonly Violations _projects = new();
            private readonly Violations _results = new();
            private readonly Dictionary<string, string> _top = new(StringComparer.Ordinal);
            private readonly HashSet<string> _done = new(StringComparer.Ordinal);
            private Dictionary<string, string> _dataset = new(StringComparer.Ordinal);
            private Violations _datasetItems = new();
            private string? _rootNotAnObject;
            private string? _edgeError;
            private string? _annotationError;

            /// <summary>Results were met before the datasets and projects were both read: they need a second walk.</summary>
            public bool ResultsLater { get; private set; }

            /// <summary>The second walk: only the results.</summary>
            public bool ResultsOnly { get; set; }

            private int Total => _head.Count + _datasets.Count + _projects.Count + _results.Count;

            public JsonTreeWalker.Take Decide(IReadOnlyList<JsonTreeWalker.Level> path, JsonTokenType token)
            {
                var container = token == JsonTokenType.StartArray ? JsonTreeWalker.Take.Enter : JsonTreeWalker.Take.Whole;
                switch (path.Count)
                {
                    case 0:
                        return token == JsonTokenType.StartObject ? JsonTreeWalker.Take.Enter : JsonTreeWalker.Take.Whole;
                    case 1:
                        if (ResultsOnly)
                        {
                            return Is(path, "results") && token == JsonTokenType.StartArray ? JsonTreeWalker.Take.Enter : JsonTreeWalker.Take.Skip;
                        }

                        return path[0].Name switch
                        {
                            "scheme_version" or "export_info" => JsonTreeWalker.Take.Whole,
                            "datasets" or "projects" or "results" => container,
                            _ => JsonTreeWalker.Take.Skip,
                        };
                    case 2 when Is(path, "datasets"):
                        return token == JsonTokenType.StartObject ? JsonTreeWalker.Take.Enter : JsonTreeWalker.Take.Whole;
                    case 2:
                        return JsonTreeWalker.Take.Whole;
                    case 3:
                        return path[2].Name switch
                        {
                            "items" => container,
                            "uid" or "name" => JsonTreeWalker.Take.Whole,
                            _ => JsonTreeWalker.Take.Skip,
                        };
                    case 4:
                        return JsonTreeWalker.Take.Whole;
                    default:
                        return JsonTreeWalker.Take.Skip;
                }
            }

            public void Whole(IReadOnlyList<JsonTreeWalker.Level> path, ref Utf8JsonReader value)
            {
                using var document = JsonDocument.ParseValue(ref value);
                var element = document.RootElement;
                switch (path.Count)
                {
                    case 0:
                        _checker.Root(element);
                        _rootNotAnObject = _checker.Violations[0];
                        _checker.Violations.Clear();
                        break;
                    case 1:
                        _top[path[0].Name!] = element.GetRawText();
                        _done.Add(path[0].Name!);
                        break;
                    case 2 when Is(path, "datasets"):
                        _checker.Element(element, At("$.datasets", path[1].Index), _checker.Dataset);
                        Drain(_datasets);
                        break;
                    case 2 when Is(path, "projects"):
                        Project(element, At("$.projects", path[1].Index));
                        break;
                    case 2:
                        Result(element, path[1].Index);
                        break;
                    case 3:
                        _dataset[path[2].Name!] = element.GetRawText();
                        break;
                    case 4:
                        _checker.Element(element, At($"{At("$.datasets", path[1].Index)}.items", path[3].Index), _checker.Item);
                        Drain(_datasetItems);
                        if (import._itemCount == import._resultsPerItem.Length)
                        {
                            Array.Resize(ref import._resultsPerItem, import._itemCount * 2);
                        }

                        import._itemCount++;
                        break;
                }
            }

            public void Entered(IReadOnlyList<JsonTreeWalker.Level> path, JsonTokenType token)
            {
                switch (path.Count)
                {
                    case 1:
                        _top[path[0].Name!] = "[]";
                        break;
                    case 2:
                        _dataset = new(StringComparer.Ordinal);
                        _datasetItems = new();
                        break;
                    case 3:
                        _dataset["items"] = "[]";
                        break;
                }
            }

            public void Left(IReadOnlyList<JsonTreeWalker.Level> path)
            {
                switch (path.Count)
                {
                    case 1:
                        _done.Add(path[0].Name!);
                        break;
                    case 2 when !ResultsOnly:
                        // A dataset's own fields are checked first, as the schema does, then its items.
                        using (var fields = JsonDocument.Parse(ObjectOf(_dataset)))
                        {
                            _checker.Dataset(fields.RootElement, At("$.datasets", path[1].Index));
                        }

                        Drain(_datasets);
                        _datasets.Add(_datasetItems);
                        break;
                }
            }

            /// <summary>Throws what the whole-document reader would: the schema's first violation, else a label's bad
            /// skeleton edge, else the first annotation the server would refuse.</summary>
            public void Finish()
            {
                if (_rootNotAnObject is not null)
                {
                    throw new ImportException(import._file, null, _rootNotAnObject);
                }

                using (var top = JsonDocument.Parse(ObjectOf(_top)))
                {
                    _checker.Root(top.RootElement);
                }

                foreach (var violation in _checker.Violations)
                {
                    var part = violation.StartsWith("$.datasets", StringComparison.Ordinal) ? _datasets
                        : violation.StartsWith("$.projects", StringComparison.Ordinal) ? _projects
                        : violation.StartsWith("$.results", StringComparison.Ordinal) ? _results
                        : _head;
                    part.Add(violation);
                }

                _checker.Violations.Clear();
                var all = new Violations();
                all.Add(_head);
                all.Add(_datasets);
                all.Add(_projects);
                all.Add(_results);
                if (all.Count > 0)
                {
                    var more = all.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (and {all.Count - 1} more)") : "";
                    throw new ImportException(import._file, null, all.First + more);
                }

                if (_edgeError is not null)
                {
                    throw new ImportException(import._file, null, _edgeError);
                }

                if (_annotationError is not null)
                {
                    throw new ImportException(import._file, null, _annotationError);
                }
            }

            private void Project(JsonElement project, string path)
            {
                _checker.Element(project, path, _checker.Project);
                var before = _projects.Count;
                Drain(_projects);
                if (_projects.Count > before || Total > 0)
                {
                    // The document is refused for its schema; its labels do not matter.
                    return;
                }

                foreach (var label in project.GetProperty("labels").EnumerateArray())
                {
                    var name = label.GetProperty("name").GetString()!;
                    if (!import._labelNames.Add(name))
                    {
                        continue;
                    }

                    try
                    {
                        import._labels.Add(new ImportedLabel(
                            name,
                            label.GetProperty("color").GetString(),
                            label.TryGetProperty("keypoints", out var keypoints) && keypoints.ValueKind == JsonValueKind.Array
                                ? [.. keypoints.EnumerateArray().Select(k => k.GetString() ?? "")]
                                : null,
                            label.TryGetProperty("skeleton", out var skeleton) && skeleton.ValueKind == JsonValueKind.Array
                                ? [.. skeleton.EnumerateArray().Select(edge => ReadEdge(edge, import._file, name))]
                                : null));
                    }
                    catch (ImportException e)
                    {
                        _edgeError ??= e.Reason;
                    }
                }
            }

            private void Result(JsonElement result, int index)
            {
                if (!ResultsOnly && !(_done.Contains("datasets") && _done.Contains("projects")))
                {
                    ResultsLater = true;
                    return;
                }

                var path = At("$.results", index);
                _checker.Element(result, path, _checker.Result);
                Drain(_results);
                if (Total > 0)
                {
                    return;
                }

                // With no violation every item has a uid of its own, so a uid's position is its item's position.
                import._resultsPerItem[_checker.ItemUids.IndexOf(result.GetProperty("dataset_item_uid").GetString()!)]++;
                var annotationIndex = 0;
                foreach (var annotation in result.GetProperty("annotations").EnumerateArray())
                {
                    import._annotationCount++;
                    import._used.Add(annotation.GetProperty("label").GetString()!);
                    if (_annotationError is null && ImportJson.Check(annotation, import._labelNames.Contains) is { } error)
                    {
                        var annotationPath = string.Create(CultureInfo.InvariantCulture, $"{path}.annotations[{annotationIndex}]");
                        _annotationError = $"{(error.Path.Length == 0 ? annotationPath : $"{annotationPath}.{error.Path}")}: {error.Message}";
                    }

                    annotationIndex++;
                }
            }

            private void Drain(Violations into)
            {
                foreach (var violation in _checker.Violations)
                {
                    into.Add(violation);
                }

                _checker.Violations.Clear();
            }

            /// <summary>An object with the given members, each value JSON text.</summary>
            private static string ObjectOf(Dictionary<string, string> members)
            {
                var text = new StringBuilder("{");
                foreach (var (name, value) in members)
                {
                    if (text.Length > 1)
                    {
                        text.Append(',');
                    }

                    text.Append(JsonSerializer.Serialize(name)).Append(':').Append(value);
                }

                return text.Append('}').ToString();
            }
        }

        /// <summary>The items of every dataset with their uids, in document order, without their annotations yet.</summary>
        private sealed class ItemVisitor(Queue<(string Uid, ImportedItem Item)> items) : JsonTreeWalker.IVisitor
        {
            public JsonTreeWalker.Take Decide(IReadOnlyList<JsonTreeWalker.Level> path, JsonTokenType token) => path.Count switch
            {
                0 => JsonTreeWalker.Take.Enter,
                1 => Is(path, "datasets") ? JsonTreeWalker.Take.Enter : JsonTreeWalker.Take.Skip,
                2 => JsonTreeWalker.Take.Enter,
                3 => path[2].Name == "items" ? JsonTreeWalker.Take.Enter : JsonTreeWalker.Take.Skip,
                4 => JsonTreeWalker.Take.Whole,
                _ => JsonTreeWalker.Take.Skip,
            };

            public void Whole(IReadOnlyList<JsonTreeWalker.Level> path, ref Utf8JsonReader value)
            {
                using var document = JsonDocument.ParseValue(ref value);
                var item = document.RootElement;
                items.Enqueue((item.GetProperty("uid").GetString()!, new ImportedItem(
                    item.GetProperty("ref_id").GetString()!,
                    Size(item, "width"),
                    Size(item, "height"),
                    item.GetProperty("metadata").GetRawText(),
                    null,
                    [])
                {
                    MediaUrl = item.TryGetProperty("media_url", out var url) && url.ValueKind == JsonValueKind.String ? url.GetString() : null,
                }));
            }

            public void Entered(IReadOnlyList<JsonTreeWalker.Level> path, JsonTokenType token)
            {
            }

            public void Left(IReadOnlyList<JsonTreeWalker.Level> path)
            {
            }
        }

        /// <summary>Each result's item uid and its annotations in canonical form.</summary>
        private sealed class ResultVisitor(AvalaStream import, Queue<(string ItemUid, List<ImportedAnnotation> Annotations)> results) : JsonTreeWalker.IVisitor
        {
            public JsonTreeWalker.Take Decide(IReadOnlyList<JsonTreeWalker.Level> path, JsonTokenType token) => path.Count switch
            {
                0 => JsonTreeWalker.Take.Enter,
                1 => Is(path, "results") ? JsonTreeWalker.Take.Enter : JsonTreeWalker.Take.Skip,
                2 => JsonTreeWalker.Take.Whole,
                _ => JsonTreeWalker.Take.Skip,
            };

            public void Whole(IReadOnlyList<JsonTreeWalker.Level> path, ref Utf8JsonReader value)
            {
                using var document = JsonDocument.ParseValue(ref value);
                var result = document.RootElement;
                var annotations = new List<ImportedAnnotation>();
                foreach (var annotation in result.GetProperty("annotations").EnumerateArray())
                {
                    annotations.Add(ImportJson.Canonical(annotation, import._labelNames.Contains, out _)
                        ?? throw new ImportException(import._file, null, "the document changed while it was read"));
                }

                results.Enqueue((result.GetProperty("dataset_item_uid").GetString()!, annotations));
            }

            public void Entered(IReadOnlyList<JsonTreeWalker.Level> path, JsonTokenType token)
            {
            }

            public void Left(IReadOnlyList<JsonTreeWalker.Level> path)
            {
            }
        }
    }
}
