using System.Text;
using System.Text.Json;

namespace Annex.Formats;

/// <summary>The item an entry of the report is about.</summary>
public readonly record struct ReportItem(Guid Uid, string RefId);

/// <summary>The kinds of change a training format makes to annotations, as counted in the report.</summary>
public static class ReportChanges
{
    /// <summary>Partly outside the image, cut to its border.</summary>
    public const string ClippedToImage = "clipped_to_image";

    /// <summary>Nothing with an area left (after clipping, or to begin with): not written.</summary>
    public const string DroppedZeroArea = "dropped_zero_area";

    public const string PolygonToBox = "polygon_to_box";
    public const string RotatedBoxToBox = "rotated_box_to_box";
    public const string BoxToPolygon = "box_to_polygon";

    /// <summary>The same row twice in one item's labels: written once.</summary>
    public const string DuplicateRemoved = "duplicate_removed";

    /// <summary>A keypoint outside the image: written as not labeled.</summary>
    public const string KeypointOutsideImage = "keypoint_outside_image";

    /// <summary>A keypoint whose name is not among its label's keypoints, or beyond their count: not written.</summary>
    public const string KeypointNotInTaxonomy = "keypoint_not_in_taxonomy";

    /// <summary>An annotation whose label is in none of the projects in scope: not written.</summary>
    public const string UnknownLabel = "unknown_label";

    /// <summary>An annotation of an item without width/height, which cannot be normalized: not written.</summary>
    public const string NoImageSize = "no_image_size";
}

/// <summary>
/// <c>export_report.json</c>: what a format changed or left out, so nothing is lost silently. Counters are
/// exact; examples are bounded per reason; items whose media lives only at an external URL are all listed,
/// kept in a temporary file until the report is written so memory stays flat.
/// </summary>
public sealed class ExportReport : IDisposable
{
    public const string EntryName = "export_report.json";

    private readonly string _format;
    private readonly int _maxExamplesPerReason;
    private readonly SortedDictionary<string, long> _changes = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _unsupported = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _examplesPerReason = new(StringComparer.Ordinal);
    private readonly List<Example> _examples = [];
    private FileStream? _externalMedia;
    private Utf8JsonWriter? _externalMediaWriter;
    private bool _examplesTruncated;

    private readonly string? _tempFolder;

    /// <param name="format">The format's name, as the report gives it.</param>
    /// <param name="maxExamplesPerReason">Examples kept per reason.</param>
    /// <param name="tempFolder">Where the list of external media is spooled; the system's temporary folder when null.</param>
    public ExportReport(string format, int maxExamplesPerReason = 20, string? tempFolder = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(format);
        ArgumentOutOfRangeException.ThrowIfNegative(maxExamplesPerReason);
        _format = format;
        _maxExamplesPerReason = maxExamplesPerReason;
        _tempFolder = tempFolder;
    }

    private sealed record Example(ReportItem Item, string? Label, string Reason, string? Detail);

    public long Items { get; private set; }

    public long AnnotationsRead { get; private set; }

    public long AnnotationsWritten { get; private set; }

    public long ImagesIncluded { get; private set; }

    public long ImagesAtExternalUrl { get; private set; }

    public long ItemsWithoutMedia { get; private set; }

    public long ItemsWithoutImageSize { get; private set; }

    /// <summary>Counts by <see cref="ReportChanges"/> code.</summary>
    public IReadOnlyDictionary<string, long> Changes => _changes;

    /// <summary>Annotations the format cannot represent, by annotation type.</summary>
    public IReadOnlyDictionary<string, long> UnsupportedTypes => _unsupported;

    public void CountItem() => Items++;

    public void CountAnnotationRead(int count = 1) => AnnotationsRead += count;

    public void CountAnnotationWritten(int count = 1) => AnnotationsWritten += count;

    public void CountImageIncluded() => ImagesIncluded++;

    public void CountItemWithoutMedia() => ItemsWithoutMedia++;

    public long ChangeCount(string change) => _changes.GetValueOrDefault(change);

    public long UnsupportedCount(string annotationType) => _unsupported.GetValueOrDefault(annotationType);

    /// <summary>Counts one change of kind <paramref name="change"/> (see <see cref="ReportChanges"/>).</summary>
    public void Change(string change, ReportItem item, string? label, string? detail = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(change);
        _changes[change] = _changes.GetValueOrDefault(change) + 1;
        AddExample(change, item, label, detail);
    }

    /// <summary>Counts an annotation the format has no way to write.</summary>
    public void Unsupported(string annotationType, ReportItem item, string label)
    {
        ArgumentException.ThrowIfNullOrEmpty(annotationType);
        _unsupported[annotationType] = _unsupported.GetValueOrDefault(annotationType) + 1;
        AddExample("unsupported_type", item, label, $"{_format} cannot represent a {annotationType}.");
    }

    /// <summary>An item with no width/height: its <paramref name="skippedAnnotations"/> annotations are left out.</summary>
    public void ItemWithoutImageSize(ReportItem item, int skippedAnnotations)
    {
        ItemsWithoutImageSize++;
        if (skippedAnnotations > 0)
        {
            _changes[ReportChanges.NoImageSize] = _changes.GetValueOrDefault(ReportChanges.NoImageSize) + skippedAnnotations;
            AddExample(ReportChanges.NoImageSize, item, null, $"{skippedAnnotations} annotation(s) left out: the item has no width/height.");
        }
    }

    /// <summary>An item whose image is not in the archive but at <paramref name="url"/>.</summary>
    public void ExternalMedia(ReportItem item, string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        ImagesAtExternalUrl++;
        if (_externalMediaWriter is null)
        {
            _externalMedia = SpillFiles.Create(_tempFolder, "annex-report", ".json");
            _externalMediaWriter = new Utf8JsonWriter(_externalMedia);
            _externalMediaWriter.WriteStartArray();
        }

        _externalMediaWriter.WriteStartObject();
        _externalMediaWriter.WriteString("uid", item.Uid);
        _externalMediaWriter.WriteString("ref_id", item.RefId);
        _externalMediaWriter.WriteString("media_url", url);
        _externalMediaWriter.WriteEndObject();
        if (_externalMediaWriter.BytesPending > 32 * 1024)
        {
            _externalMediaWriter.Flush();
        }
    }

    private void AddExample(string reason, ReportItem item, string? label, string? detail)
    {
        var shown = _examplesPerReason.GetValueOrDefault(reason);
        if (shown >= _maxExamplesPerReason)
        {
            _examplesTruncated = true;
            return;
        }

        _examplesPerReason[reason] = shown + 1;
        _examples.Add(new Example(item, label, reason, detail));
    }

    /// <summary>Writes the report as one JSON document.</summary>
    public async Task WriteAsync(Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", _format);
        json.WriteNumber("items", Items);
        json.WriteStartObject("annotations");
        json.WriteNumber("read", AnnotationsRead);
        json.WriteNumber("written", AnnotationsWritten);
        json.WriteEndObject();
        json.WriteStartObject("images");
        json.WriteNumber("included", ImagesIncluded);
        json.WriteNumber("at_external_url", ImagesAtExternalUrl);
        json.WriteNumber("none", ItemsWithoutMedia);
        json.WriteEndObject();
        json.WriteNumber("items_without_image_size", ItemsWithoutImageSize);
        WriteCounts(json, "changes", _changes);
        WriteCounts(json, "unsupported", _unsupported);
        json.WriteStartArray("examples");
        foreach (var example in _examples)
        {
            json.WriteStartObject();
            json.WriteString("uid", example.Item.Uid);
            json.WriteString("ref_id", example.Item.RefId);
            json.WriteString("label", example.Label);
            json.WriteString("reason", example.Reason);
            json.WriteString("detail", example.Detail);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteBoolean("examples_truncated", _examplesTruncated);
        await json.FlushAsync(cancellationToken);

        // The external media list comes last and is copied from its temporary file as it is, so the object
        // is closed by hand rather than through the writer.
        await output.WriteAsync(Encoding.UTF8.GetBytes(",\n  \"external_media\": "), cancellationToken);
        if (_externalMediaWriter is null || _externalMedia is null)
        {
            await output.WriteAsync("[]"u8.ToArray(), cancellationToken);
        }
        else
        {
            _externalMediaWriter.WriteEndArray();
            await _externalMediaWriter.FlushAsync(cancellationToken);
            _externalMedia.Position = 0;
            await _externalMedia.CopyToAsync(output, cancellationToken);
        }

        await output.WriteAsync("\n}\n"u8.ToArray(), cancellationToken);
    }

    private static void WriteCounts(Utf8JsonWriter json, string name, SortedDictionary<string, long> counts)
    {
        json.WriteStartObject(name);
        foreach (var (key, count) in counts)
        {
            json.WriteNumber(key, count);
        }

        json.WriteEndObject();
    }

    public void Dispose()
    {
        _externalMediaWriter?.Dispose();
        _externalMedia?.Dispose();
    }
}
