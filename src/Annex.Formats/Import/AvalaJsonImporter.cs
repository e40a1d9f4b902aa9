using System.IO.Compression;
using System.Text.Json;

namespace Annex.Formats.Import;

/// <summary>
/// Reads an avala-json-external export: the zip Annex writes, or its JSON document on its own. The document is
/// checked with <see cref="AvalaJsonSchema"/> and every annotation with <see cref="AnnotationValidator"/>, so what
/// comes back is what the server would accept. Items of every dataset and labels of every project are merged.
/// The document is read element by element, never whole (see <see cref="OpenStreamed"/>).
/// </summary>
public static partial class AvalaJsonImporter
{
    private const string DefaultEntryName = "export.json";

    public static ImportedDataset Read(Stream zipOrJson)
    {
        ArgumentNullException.ThrowIfNull(zipOrJson);
        return ZipOrFile.Read(zipOrJson, ReadZip, json => ReadDocument(json, DefaultEntryName));
    }

    /// <summary>
    /// Opens a zip or JSON file for a streamed read: a first pass checks the whole document (schema, cross references,
    /// every annotation), so a fault is reported before any item is handed out, and keeps the labels and how many
    /// results each item has; the items are then handed out in document order, each with its annotations, read by
    /// a second cursor over the results. Memory holds the labels and a count per item, plus the results read ahead
    /// of their item when the document does not keep results in item order.
    /// </summary>
    public static StreamedImport OpenStreamed(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        bool zipped;
        using (var file = File.OpenRead(path))
        {
            Span<byte> magic = stackalloc byte[4];
            zipped = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("PK\u0003\u0004"u8);
        }

        if (!zipped)
        {
            return new AvalaStream(() => File.OpenRead(path), DefaultEntryName);
        }

        string entryName;
        using (var file = File.OpenRead(path))
        {
            using var zip = OpenZip(file);
            entryName = Entry(zip).FullName;
        }

        return new AvalaStream(() => new ZipEntryStream(File.OpenRead(path), entryName), entryName);
    }

    private static ImportedDataset ReadZip(Stream stream)
    {
        using var zip = OpenZip(stream);
        var entry = Entry(zip);
        using var content = entry.Open();
        return ReadDocument(content, entry.FullName);
    }

    private static ZipArchive OpenZip(Stream stream)
    {
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new ImportException("archive", null, "not a readable zip archive: " + e.Message, e);
        }
    }

    private static ZipArchiveEntry Entry(ZipArchive zip)
    {
        var entries = zip.Entries.Where(e => e.FullName.EndsWith(".json", StringComparison.OrdinalIgnoreCase)).ToList();
        return entries.FirstOrDefault(e => e.FullName == DefaultEntryName)
            ?? (entries.Count == 1 ? entries[0] : null)
            ?? throw new ImportException("archive", null, entries.Count == 0
                ? $"the archive holds no JSON document (expected {DefaultEntryName})"
                : $"the archive holds several JSON documents and none is {DefaultEntryName}");
    }

    /// <summary>A document in a stream read whole by the caller: the streamed reader over it (copied first when the
    /// stream cannot seek, as it is read more than once).</summary>
    private static ImportedDataset ReadDocument(Stream json, string file)
    {
        Stream seekable = json;
        if (!json.CanSeek)
        {
            var copy = new MemoryStream();
            json.CopyTo(copy);
            copy.Position = 0;
            seekable = copy;
        }

        var start = seekable.Position;
        using var import = new AvalaStream(() => new View(seekable, start), file);
        var items = import.ReadItems().ToList();
        return new ImportedDataset(import.Labels, items);
    }

    private static int[] ReadEdge(JsonElement edge, string file, string label) =>
        edge.ValueKind == JsonValueKind.Array && edge.GetArrayLength() == 2
        && edge[0].ValueKind == JsonValueKind.Number && edge[0].TryGetInt32(out var a)
        && edge[1].ValueKind == JsonValueKind.Number && edge[1].TryGetInt32(out var b)
            ? [a, b]
            : throw new ImportException(file, null, $"the skeleton of label \"{label}\" has an edge that is not a pair of keypoint numbers");

    private static int? Size(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var size) ? size : null;

    /// <summary>A read-only view of a seekable stream with a position of its own, so two cursors can read it at once.</summary>
    private sealed class View(Stream inner, long start) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            inner.Position = start + _position;
            var read = inner.Read(buffer, offset, count);
            _position += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>One entry of a zip file, read from its own opening of the file (closed with the entry).</summary>
    private sealed class ZipEntryStream : Stream
    {
        private readonly FileStream _file;
        private readonly ZipArchive _zip;
        private readonly Stream _entry;

        public ZipEntryStream(FileStream file, string entryName)
        {
            _file = file;
            try
            {
                _zip = OpenZip(file);
                _entry = (_zip.GetEntry(entryName) ?? throw new ImportException("archive", null, $"the archive no longer holds {entryName}")).Open();
            }
            catch
            {
                _zip?.Dispose();
                file.Dispose();
                throw;
            }
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _entry.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _entry.Dispose();
                _zip.Dispose();
                _file.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
