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
    private readonly Utf8Buffer _rows = new(96 * 1024);
    private Stream? _entry;

    public CsvArchiveWriter(TrainingArchiveSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _classes = settings.Classes;
        _report = settings.Report;
        _archive = new TrainingArchive(settings);
    }

    /// <summary>Rows collect in a buffer and go to the entry in pieces of about this size.</summary>
    private const int FlushBytes = 64 * 1024;

    /// <summary>The CSV entry, opened with its header row on first use.</summary>
    private async Task<Stream> EntryAsync(CancellationToken cancellationToken)
    {
        if (_entry is null)
        {
            _entry = await _archive.OpenTextAsync(EntryName, cancellationToken);
            _rows.Append(string.Join(',', Columns)).Append("\r\n"u8);
        }

        return _entry;
    }

    public static IReadOnlyList<string> Types => AnnotationTypes.All;

    public bool IncludesImages => false;

    public async Task WriteItemAsync(TrainingItem item, TrainingImage? image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        _report.CountItem();
        _report.CountAnnotationRead(item.Annotations.Count);
        var entry = await EntryAsync(cancellationToken);
        foreach (var annotation in item.Annotations)
        {
            WriteRow(item, annotation);
            _report.CountAnnotationWritten();
        }

        if (_rows.Length >= FlushBytes)
        {
            await entry.WriteAsync(_rows.Memory, cancellationToken);
            _rows.Clear();
        }
    }

    /// <summary>One row, the cells in <see cref="Columns"/> order, formatted straight into the buffer.</summary>
    private void WriteRow(TrainingItem item, StoredAnnotation annotation)
    {
        var bounds = Bounds(annotation.Shape);
        Span<char> uid = stackalloc char[36];
        item.Uid.TryFormat(uid, out _);
        _rows.Append(uid).Append((byte)',');
        Text(item.RefId);
        Cell(item.Split);
        Integer(item.Width);
        Integer(item.Height);
        Cell(item.MediaUrl);
        _rows.Append((byte)',');
        Text(annotation.Label);
        Integer(_classes.TryGetIndex(annotation.Label, out var index) ? index : null);
        Cell(annotation.Type);
        Number(bounds?.Left);
        Number(bounds?.Top);
        Number(bounds?.Width);
        Number(bounds?.Height);
        Cell(annotation.CoordinatesJson);
        Cell(annotation.AttributesJson);
        _rows.Append("\r\n"u8);
    }

    private void Integer(int? value)
    {
        _rows.Append((byte)',');
        if (value is { } v)
        {
            _rows.Append(v);
        }
    }

    private void Number(double? value)
    {
        _rows.Append((byte)',');
        if (value is { } v)
        {
            _rows.Append(Math.Round(v, 4, MidpointRounding.AwayFromZero), "0.####");
        }
    }

    /// <summary>A comma, then the cell (see <see cref="Escape"/>).</summary>
    private void Cell(string? cell)
    {
        _rows.Append((byte)',');
        Append(cell, formulaGuard: false);
    }

    /// <summary>A cell of free text (no comma before it when it starts the row's text cells); keeps a spreadsheet
    /// from running it as a formula.</summary>
    private void Text(string value)
    {
        Append(value, formulaGuard: true);
    }

    private void Append(string? cell, bool formulaGuard)
    {
        if (string.IsNullOrEmpty(cell))
        {
            return;
        }

        var guard = formulaGuard && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r';
        if (cell.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            if (guard)
            {
                _rows.Append((byte)'\'');
            }

            _rows.Append(cell);
            return;
        }

        _rows.Append((byte)'"');
        if (guard)
        {
            _rows.Append((byte)'\'');
        }

        var rest = cell.AsSpan();
        int at;
        while ((at = rest.IndexOf('"')) >= 0)
        {
            _rows.Append(rest[..(at + 1)]).Append((byte)'"');
            rest = rest[(at + 1)..];
        }

        _rows.Append(rest).Append((byte)'"');
    }

    private static PixelRect? Bounds(AnnotationShape shape) => shape switch
    {
        BoxShape box => Geometry.Bounds(box),
        PolygonShape polygon when polygon.Vertices.Count > 0 => Geometry.BoundingBox(polygon.Vertices),
        PolylineShape line when line.Vertices.Count > 0 => Geometry.BoundingBox(line.Vertices),
        KeypointsShape keypoints when keypoints.Points.Count > 0 => Geometry.BoundingBox(keypoints.Points.Select(p => new PixelPoint(p.X, p.Y))),
        _ => null,
    };

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
        var entry = await EntryAsync(cancellationToken);
        await entry.WriteAsync(_rows.Memory, cancellationToken);
        _rows.Clear();
        await entry.DisposeAsync();
        await _archive.WriteReportAsync(_report, cancellationToken);
        await _archive.CompleteAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_entry is not null)
        {
            await _entry.DisposeAsync();
        }

        await _archive.DisposeAsync();
    }
}
