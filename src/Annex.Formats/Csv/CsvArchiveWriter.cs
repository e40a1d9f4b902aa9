using System.Globalization;
using System.Text;

namespace Annex.Formats;

/// <summary>
/// <c>annotations.csv</c>: one row per annotation (RFC 4180, UTF-8, header row) for spreadsheets and pandas, with
/// the item, the label and its class index, the type, the axis-aligned bounds in pixels where the shape has them,
/// and the coordinates and attributes as JSON. Every annotation type is written as it is stored. Text cells that
/// a spreadsheet would run as a formula (starting with =, +, -, @) get a leading apostrophe.
/// </summary>
public sealed class CsvArchiveWriter : ITrainingArchiveWriter
{
    public const string EntryName = "annotations.csv";

    /// <summary>The header row's column names, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "item_uid", "ref_id", "split", "image_width", "image_height", "media_url", "label", "class_index", "type",
        "bbox_x", "bbox_y", "bbox_width", "bbox_height", "coordinates", "attributes",
    ];

    private readonly TrainingArchive _archive;
    private readonly ClassList _classes;
    private readonly ExportReport _report;
    private StreamWriter? _writer;

    public CsvArchiveWriter(TrainingArchiveSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _classes = settings.Classes;
        _report = settings.Report;
        _archive = new TrainingArchive(settings);
    }

    /// <summary>The CSV entry, opened with its header row on first use.</summary>
    private async Task<StreamWriter> WriterAsync(CancellationToken cancellationToken)
    {
        if (_writer is null)
        {
            var entry = await _archive.OpenTextAsync(EntryName, cancellationToken);
            _writer = new StreamWriter(entry, new UTF8Encoding(false), 64 * 1024) { NewLine = "\r\n" };
            await _writer.WriteLineAsync(string.Join(',', Columns).AsMemory(), cancellationToken);
        }

        return _writer;
    }

    public static IReadOnlyList<string> Types => AnnotationTypes.All;

    public bool IncludesImages => false;

    public async Task WriteItemAsync(TrainingItem item, TrainingImage? image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        _report.CountItem();
        _report.CountAnnotationRead(item.Annotations.Count);
        var writer = await WriterAsync(cancellationToken);
        foreach (var annotation in item.Annotations)
        {
            var bounds = Bounds(annotation.Shape);
            string?[] cells =
            [
                item.Uid.ToString(),
                Text(item.RefId),
                item.Split,
                item.Width?.ToString(CultureInfo.InvariantCulture),
                item.Height?.ToString(CultureInfo.InvariantCulture),
                item.MediaUrl,
                Text(annotation.Label),
                _classes.TryGetIndex(annotation.Label, out var index) ? index.ToString(CultureInfo.InvariantCulture) : null,
                annotation.Type,
                Number(bounds?.Left),
                Number(bounds?.Top),
                Number(bounds?.Width),
                Number(bounds?.Height),
                annotation.CoordinatesJson,
                annotation.AttributesJson,
            ];
            await writer.WriteLineAsync(string.Join(',', cells.Select(Escape)).AsMemory(), cancellationToken);
            _report.CountAnnotationWritten();
        }
    }

    private static PixelRect? Bounds(AnnotationShape shape) => shape switch
    {
        BoxShape box => Geometry.Bounds(box),
        PolygonShape polygon when polygon.Vertices.Count > 0 => Geometry.BoundingBox(polygon.Vertices),
        PolylineShape line when line.Vertices.Count > 0 => Geometry.BoundingBox(line.Vertices),
        KeypointsShape keypoints when keypoints.Points.Count > 0 => Geometry.BoundingBox(keypoints.Points.Select(p => new PixelPoint(p.X, p.Y))),
        _ => null,
    };

    private static string? Number(double? value) => value is { } v ? Math.Round(v, 4, MidpointRounding.AwayFromZero).ToString("0.####", CultureInfo.InvariantCulture) : null;

    /// <summary>Keeps a spreadsheet from running a cell as a formula.</summary>
    private static string Text(string value) => value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;

    /// <summary>RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled.</summary>
    public static string Escape(string? cell)
    {
        if (string.IsNullOrEmpty(cell))
        {
            return "";
        }

        return cell.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        var writer = await WriterAsync(cancellationToken);
        await writer.FlushAsync(cancellationToken);
        await writer.DisposeAsync();
        await _archive.WriteReportAsync(_report, cancellationToken);
        await _archive.CompleteAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }

        await _archive.DisposeAsync();
    }
}
