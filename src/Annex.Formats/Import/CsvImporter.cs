using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Annex.Formats.Import;

/// <summary>
/// Reads the CSV export (<see cref="CsvArchiveWriter"/>): the zip, or its <c>annotations.csv</c> on its own. Records
/// are RFC 4180 (quoted fields may hold commas, doubled quotes and line breaks); the header names the columns, in any
/// order. Each annotation comes back from its <c>type</c>, <c>coordinates</c> and <c>attributes</c> JSON, checked by
/// the server's validator; the bounds columns are derived from them and not read. Rows are grouped into items by
/// <c>item_uid</c> (by <c>ref_id</c> when there is no such column). Labels come in <c>class_index</c> order, then labels
/// without an index in the order they first appear; a label with no annotation is not in the file.
/// </summary>
public static class CsvImporter
{
    private static readonly string[] RequiredColumns = ["ref_id", "label", "type", "coordinates"];

    public static ImportedDataset Read(Stream csvOrZip, string fileName)
    {
        ArgumentNullException.ThrowIfNull(csvOrZip);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        return ZipOrFile.Read(csvOrZip, zip => ReadZip(zip, fileName), file =>
        {
            using var text = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
            return new Reader(fileName).Read(text);
        });
    }

    /// <summary>
    /// Opens a CSV file (or a CSV export's zip) for a streamed read, as <see cref="Read"/> reads it but without holding
    /// its annotations: a first pass checks every record (so a bad record fails before any item is handed out, as in
    /// <see cref="Read"/>) and keeps each item's columns and record count; a second pass hands out the items in the
    /// order they first appear, each once its last record was read. Memory holds the item list and, when a file does
    /// not keep an item's records together, the annotations of the items still waiting for theirs.
    /// </summary>
    public static StreamedImport OpenStreamed(string path, string fileName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        return new CsvStream(() => OpenText(path, fileName));
    }

    /// <summary>The CSV text of a file or of the CSV entry of a zip, with the name messages give it.</summary>
    private static (TextReader Text, string File) OpenText(string path, string fileName)
    {
        var stream = System.IO.File.OpenRead(path);
        try
        {
            Span<byte> magic = stackalloc byte[4];
            var read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            stream.Position = 0;
            if (!(read == 4 && magic.SequenceEqual("PK\u0003\u0004"u8)))
            {
                return (new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true), fileName);
            }

            var zip = OpenZip(stream, fileName);
            try
            {
                var entry = CsvEntry(zip, fileName);
                return (new ZipEntryReader(entry.Open(), zip), entry.FullName);
            }
            catch
            {
                zip.Dispose();
                throw;
            }
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads a zip entry's text and closes the zip (and its file) with it.</summary>
    private sealed class ZipEntryReader(Stream entry, ZipArchive zip) : StreamReader(entry, Encoding.UTF8, detectEncodingFromByteOrderMarks: true)
    {
        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing)
            {
                zip.Dispose();
            }
        }
    }

    private static ZipArchive OpenZip(Stream stream, string fileName)
    {
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (InvalidDataException e)
        {
            throw new ImportException(fileName, null, "not a readable zip archive: " + e.Message, e);
        }
    }

    private static ZipArchiveEntry CsvEntry(ZipArchive zip, string fileName)
    {
        var entries = zip.Entries.Where(e => e.FullName.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)).ToList();
        return entries.FirstOrDefault(e => e.FullName == CsvArchiveWriter.EntryName)
            ?? (entries.Count == 1 ? entries[0] : null)
            ?? throw new ImportException(fileName, null, entries.Count == 0
                ? $"the archive holds no CSV file (expected {CsvArchiveWriter.EntryName})"
                : $"the archive holds several CSV files and none is {CsvArchiveWriter.EntryName}");
    }

    private sealed class CsvStream : StreamedImport
    {
        private readonly Func<(TextReader Text, string File)> _open;
        private readonly Reader _first;
        private readonly List<ImportedLabel> _labels;
        private readonly HashSet<string> _used;
        private readonly long _annotationCount;
        private bool _read;

        public CsvStream(Func<(TextReader Text, string File)> open)
        {
            _open = open;
            var (text, file) = open();
            using (text)
            {
                _first = new Reader(file) { KeepAnnotations = false };
                _first.Scan(text);
            }

            _labels = _first.Labels();
            _used = new HashSet<string>(_labels.Select(label => label.Name), StringComparer.Ordinal);
            _annotationCount = _first.Order.Sum(item => (long)item.Rows);
        }

        public override IReadOnlyList<ImportedLabel> Labels => _labels;

        public override IReadOnlySet<string> UsedLabels => _used;

        public override int ItemCount => _first.Order.Count;

        public override long AnnotationCount => _annotationCount;

        public override IReadOnlyList<ImportSkip> Skipped => [];

        public override IEnumerable<ImportedItem> ReadItems()
        {
            if (_read)
            {
                throw new InvalidOperationException("The items of a streamed import can be read once.");
            }

            _read = true;
            var order = _first.Order;
            var position = new Dictionary<string, int>(order.Count, StringComparer.Ordinal);
            var remaining = new int[order.Count];
            for (var i = 0; i < order.Count; i++)
            {
                remaining[i] = order[i].Rows;
            }

            var waiting = new Dictionary<int, List<ImportedAnnotation>>();
            var next = 0;
            var (text, file) = _open();
            using (text)
            {
                var records = new RecordReader(text, file);
                records.Next();
                while (records.Next() is { } record)
                {
                    var (key, annotation) = _first.Reread(record.Fields, record.Line);
                    if (!position.TryGetValue(key, out var index))
                    {
                        // Items are numbered as they first appear, which is the order records come in.
                        index = position.Count;
                        position.Add(key, index);
                    }

                    if (!waiting.TryGetValue(index, out var annotations))
                    {
                        annotations = [];
                        waiting.Add(index, annotations);
                    }

                    annotations.Add(annotation);
                    remaining[index]--;
                    while (next < order.Count && remaining[next] == 0)
                    {
                        waiting.Remove(next, out var done);
                        yield return Reader.ToItem(order[next], done ?? []);
                        next++;
                    }
                }
            }

            if (next < order.Count)
            {
                throw new ImportException(file, null, "the file changed while it was being imported");
            }
        }
    }

    private static ImportedDataset ReadZip(Stream stream, string fileName)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new ImportException(fileName, null, "not a readable zip archive: " + e.Message, e);
        }

        using (zip)
        {
            var entry = CsvEntry(zip, fileName);
            using var text = new StreamReader(entry.Open(), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return new Reader(entry.FullName).Read(text);
        }
    }

    /// <summary>Undoes the writer's guard against spreadsheet formulas: an apostrophe before =, +, -, @, tab or CR.</summary>
    private static string Unguard(string cell) =>
        cell.Length > 1 && cell[0] == '\'' && cell[1] is '=' or '+' or '-' or '@' or '\t' or '\r' ? cell[1..] : cell;

    private sealed record ItemRow(string RefId, int? Width, int? Height, string? Split, string? MediaUrl, int Line);

    private sealed class Item(ItemRow row)
    {
        public ItemRow Row { get; } = row;

        public List<ImportedAnnotation> Annotations { get; } = [];

        /// <summary>The item's records (one per annotation).</summary>
        public int Rows { get; set; }
    }

    private sealed class Reader(string file)
    {
        private readonly Dictionary<string, Item> _items = new(StringComparer.Ordinal);
        private readonly List<Item> _order = [];
        private readonly Dictionary<string, string> _keyByRefId = new(StringComparer.Ordinal);
        private readonly Dictionary<int, (string Label, int Line)> _labelByIndex = [];
        private readonly Dictionary<string, (int? Index, int Line)> _labels = new(StringComparer.Ordinal);
        private Dictionary<string, int> _columns = [];

        /// <summary>False for the first pass of a streamed read: every record is checked, annotations are only counted.</summary>
        public bool KeepAnnotations { get; init; } = true;

        /// <summary>The items in the order they first appear.</summary>
        public List<Item> Order => _order;

        public ImportedDataset Read(TextReader text)
        {
            Scan(text);
            return new ImportedDataset(Labels(), [.. _order.Select(item => ToItem(item, item.Annotations))]);
        }

        /// <summary>Reads and checks every record.</summary>
        public void Scan(TextReader text)
        {
            var records = new RecordReader(text, file);
            var header = records.Next() ?? throw new ImportException(file, null, "empty: expected a header row naming the columns");
            _columns = ReadHeader(header.Fields);
            while (records.Next() is { } record)
            {
                if (record.Fields.Count != _columns.Count)
                {
                    throw new ImportException(file, record.Line, $"expected {_columns.Count} fields as in the header, found {record.Fields.Count}");
                }

                ReadRecord(record.Fields, record.Line);
            }
        }

        public List<ImportedLabel> Labels() => [.. _labels
            .OrderBy(pair => pair.Value.Index ?? int.MaxValue)
            .ThenBy(pair => pair.Value.Line)
            .Select(pair => new ImportedLabel(pair.Key))];

        public static ImportedItem ToItem(Item item, IReadOnlyList<ImportedAnnotation> annotations) =>
            new(item.Row.RefId, item.Row.Width, item.Row.Height, ImportJson.Split(item.Row.Split), null, annotations)
            {
                MediaUrl = item.Row.MediaUrl,
            };

        /// <summary>The item key and the annotation of a record this reader has already checked (a streamed read's second pass).</summary>
        public (string Key, ImportedAnnotation Annotation) Reread(List<string> fields, int line)
        {
            var refId = Unguard(Cell(fields, "ref_id")!);
            var key = Cell(fields, "item_uid") ?? refId;
            var label = Unguard(Cell(fields, "label")!);
            return (key, Annotation(label, Cell(fields, "type"), Cell(fields, "coordinates"), Cell(fields, "attributes"), line));
        }

        private Dictionary<string, int> ReadHeader(List<string> names)
        {
            var columns = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                var name = names[i].Trim();
                if (!CsvArchiveWriter.Columns.Contains(name, StringComparer.Ordinal))
                {
                    throw new ImportException(file, 1, $"unknown column \"{name}\"; the columns are {string.Join(", ", CsvArchiveWriter.Columns)}");
                }

                if (!columns.TryAdd(name, i))
                {
                    throw new ImportException(file, 1, $"the column \"{name}\" appears twice");
                }
            }

            foreach (var required in RequiredColumns.Where(r => !columns.ContainsKey(r)))
            {
                throw new ImportException(file, 1, $"the column \"{required}\" is missing");
            }

            return columns;
        }

        private string? Cell(List<string> fields, string column) =>
            _columns.TryGetValue(column, out var index) && fields[index].Length > 0 ? fields[index] : null;

        private void ReadRecord(List<string> fields, int line)
        {
            var refId = Unguard(Cell(fields, "ref_id") ?? throw new ImportException(file, line, "ref_id: blank"));
            var row = new ItemRow(
                refId,
                Size(fields, "image_width", line),
                Size(fields, "image_height", line),
                Cell(fields, "split"),
                Cell(fields, "media_url"),
                line);
            var key = Cell(fields, "item_uid") ?? refId;
            if (!_items.TryGetValue(key, out var item))
            {
                if (!_keyByRefId.TryAdd(refId, key))
                {
                    var other = _items[_keyByRefId[refId]].Row;
                    throw new ImportException(file, line,
                        $"ref_id \"{refId}\" is also the ref_id of another item on line {other.Line}; a dataset holds each ref_id once");
                }

                item = new Item(row);
                _items.Add(key, item);
                _order.Add(item);
            }
            else if (Difference(item.Row, row) is { } difference)
            {
                throw new ImportException(file, line, $"item {key}: {difference} on line {item.Row.Line}");
            }

            var label = Unguard(Cell(fields, "label") ?? throw new ImportException(file, line, "label: blank"));
            ReadClassIndex(label, Cell(fields, "class_index"), line);
            var annotation = Annotation(label, Cell(fields, "type"), Cell(fields, "coordinates"), Cell(fields, "attributes"), line);
            if (KeepAnnotations)
            {
                item.Annotations.Add(annotation);
            }

            item.Rows++;
        }

        /// <summary>What differs between two rows of one item, worded for a message, or null.</summary>
        private static string? Difference(ItemRow first, ItemRow row)
        {
            static string Show(object? value) => value is null ? "empty" : $"\"{Convert.ToString(value, CultureInfo.InvariantCulture)}\"";

            return (first, row) switch
            {
                _ when first.RefId != row.RefId => $"ref_id is {Show(row.RefId)} here but {Show(first.RefId)}",
                _ when first.Width != row.Width => $"image_width is {Show(row.Width)} here but {Show(first.Width)}",
                _ when first.Height != row.Height => $"image_height is {Show(row.Height)} here but {Show(first.Height)}",
                _ when first.Split != row.Split => $"split is {Show(row.Split)} here but {Show(first.Split)}",
                _ when first.MediaUrl != row.MediaUrl => $"media_url is {Show(row.MediaUrl)} here but {Show(first.MediaUrl)}",
                _ => null,
            };
        }

        private int? Size(List<string> fields, string column, int line)
        {
            if (Cell(fields, column) is not { } text)
            {
                return null;
            }

            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw new ImportException(file, line, $"{column} \"{text}\" is not a positive whole number");
        }

        private void ReadClassIndex(string label, string? text, int line)
        {
            int? index = null;
            if (text is not null)
            {
                index = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                    ? value
                    : throw new ImportException(file, line, $"class_index \"{text}\" is not a whole number");
                if (_labelByIndex.TryGetValue(value, out var holder) && holder.Label != label)
                {
                    throw new ImportException(file, line, $"class_index {value} is \"{label}\" here but \"{holder.Label}\" on line {holder.Line}");
                }

                _labelByIndex.TryAdd(value, (label, line));
            }

            if (!_labels.TryGetValue(label, out var known))
            {
                _labels.Add(label, (index, line));
            }
            else if (known.Index != index)
            {
                string Show(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "empty";
                throw new ImportException(file, line, $"the class_index of \"{label}\" is {Show(index)} here but {Show(known.Index)} on line {known.Line}");
            }
        }

        /// <summary>Rebuilds the annotation object from its cells and runs the server's check on it.</summary>
        private ImportedAnnotation Annotation(string label, string? type, string? coordinates, string? attributes, int line)
        {
            var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("label", label);
                if (type is not null)
                {
                    json.WriteString("type", type);
                }

                json.WritePropertyName("coordinates");
                WriteJsonCell(json, "coordinates", coordinates, line);
                if (attributes is not null)
                {
                    json.WritePropertyName("attributes");
                    WriteJsonCell(json, "attributes", attributes, line);
                }

                json.WriteEndObject();
            }

            using var document = JsonDocument.Parse(buffer.ToArray());
            return ImportJson.Canonical(document.RootElement, _ => true, out var error)
                ?? throw new ImportException(file, line, $"{(error!.Path.Length == 0 ? "annotation" : error.Path)}: {error.Message}");
        }

        private void WriteJsonCell(Utf8JsonWriter json, string column, string? cell, int line)
        {
            if (cell is null)
            {
                json.WriteNullValue();
                return;
            }

            try
            {
                using var value = JsonDocument.Parse(cell);
                value.RootElement.WriteTo(json);
            }
            catch (JsonException e)
            {
                throw new ImportException(file, line, $"{column}: not valid JSON: {CocoImporter.FirstSentence(e.Message)}", e);
            }
        }
    }

    private sealed record CsvRecord(List<string> Fields, int Line);

    /// <summary>RFC 4180 records with the line each starts on. Lines end with CRLF or LF; blank lines between records are ignored.</summary>
    private sealed class RecordReader(TextReader text, string file)
    {
        private int _line = 1;

        public CsvRecord? Next()
        {
            while (text.Peek() is '\r' or '\n')
            {
                EndOfLine(text.Read());
            }

            if (text.Peek() < 0)
            {
                return null;
            }

            var start = _line;
            var fields = new List<string>();
            var cell = new StringBuilder();
            while (true)
            {
                cell.Clear();
                int c;
                if (text.Peek() == '"')
                {
                    text.Read();
                    var opened = _line;
                    while (true)
                    {
                        c = text.Read();
                        if (c < 0)
                        {
                            throw new ImportException(file, opened, $"field {fields.Count + 1}: the quote opened on this line is never closed");
                        }

                        if (c == '"')
                        {
                            if (text.Peek() != '"')
                            {
                                break;
                            }

                            text.Read();
                        }
                        else if (c == '\n' || (c == '\r' && text.Peek() != '\n'))
                        {
                            _line++;
                        }

                        cell.Append((char)c);
                    }

                    c = text.Read();
                    if (c is not (',' or '\r' or '\n' or -1))
                    {
                        throw new ImportException(file, _line, $"field {fields.Count + 1}: expected a comma or the end of the line after the closing quote, found '{(char)c}'");
                    }
                }
                else
                {
                    while ((c = text.Read()) is not (',' or '\r' or '\n' or -1))
                    {
                        if (c == '"')
                        {
                            throw new ImportException(file, _line, $"field {fields.Count + 1}: a quote inside a field must be in a quoted field, doubled");
                        }

                        cell.Append((char)c);
                    }
                }

                fields.Add(cell.ToString());
                if (c != ',')
                {
                    EndOfLine(c);
                    return new CsvRecord(fields, start);
                }
            }
        }

        private void EndOfLine(int c)
        {
            if (c == '\r' && text.Peek() == '\n')
            {
                text.Read();
            }

            if (c is '\r' or '\n')
            {
                _line++;
            }
        }
    }
}
