using System.Globalization;
using System.Text;
using System.Xml;

namespace Annex.Formats;

/// <summary>
/// Pascal VOC: <c>Annotations/&lt;stem&gt;.xml</c> per image (<c>size</c> and one <c>object/bndbox</c> per box),
/// images under <c>JPEGImages/</c>, <c>ImageSets/Main/&lt;split&gt;.txt</c> listing the stems of each split,
/// <c>labels.txt</c> with the class names in taxonomy order, and <c>export_report.json</c>. Coordinates follow the
/// VOC devkit: whole pixels, 1-based and inclusive, so a box from x = 10 to x = 60 is xmin 11, xmax 60.
/// </summary>
public sealed class VocArchiveWriter : ITrainingArchiveWriter
{
    private readonly TrainingArchive _archive;
    private readonly ClassList _classes;
    private readonly ExportReport _report;
    private readonly Dictionary<string, FileStream> _imageSets = new(StringComparer.Ordinal);
    private readonly TrainingArchiveSettings _settings;

    public VocArchiveWriter(TrainingArchiveSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _classes = settings.Classes;
        _report = settings.Report;
        _archive = new TrainingArchive(settings);
    }

    public static IReadOnlyList<string> Types { get; } = [AnnotationTypes.BoundingBox, AnnotationTypes.Polygon];

    public bool IncludesImages => true;

    public async Task WriteItemAsync(TrainingItem item, TrainingImage? image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        _report.CountItem();
        _report.CountAnnotationRead(item.Annotations.Count);
        var fileName = item.Stem + (image?.Extension ?? ".jpg");
        await _archive.WriteMediaAsync(item, image, _report, $"JPEGImages/{fileName}", cancellationToken);
        if (!item.HasImageSize)
        {
            // VOC's size element is required and its boxes are checked against it.
            _report.ItemWithoutImageSize(item.ReportItem, item.Annotations.Count);
            return;
        }

        await AddToImageSetAsync(item.Split, item.Stem, cancellationToken);
        await using var entry = await _archive.OpenTextAsync($"Annotations/{item.Stem}.xml", cancellationToken);
        await using var xml = XmlWriter.Create(entry, new XmlWriterSettings { Async = true, Indent = true, Encoding = new UTF8Encoding(false), OmitXmlDeclaration = true });
        await xml.WriteStartElementAsync(null, "annotation", null);
        await xml.WriteElementStringAsync(null, "folder", null, "JPEGImages");
        await xml.WriteElementStringAsync(null, "filename", null, fileName);
        await xml.WriteStartElementAsync(null, "source", null);
        await xml.WriteElementStringAsync(null, "database", null, "Annex");
        await xml.WriteElementStringAsync(null, "annotation", null, item.RefId);
        if (image is null && !string.IsNullOrEmpty(item.MediaUrl))
        {
            await xml.WriteElementStringAsync(null, "image", null, item.MediaUrl);
        }

        await xml.WriteEndElementAsync();
        await xml.WriteStartElementAsync(null, "size", null);
        await xml.WriteElementStringAsync(null, "width", null, Number(item.Width!.Value));
        await xml.WriteElementStringAsync(null, "height", null, Number(item.Height!.Value));
        await xml.WriteElementStringAsync(null, "depth", null, "3");
        await xml.WriteEndElementAsync();
        await xml.WriteElementStringAsync(null, "segmented", null, "0");
        foreach (var annotation in item.Annotations)
        {
            if (Box(item, annotation) is not { } box)
            {
                continue;
            }

            await xml.WriteStartElementAsync(null, "object", null);
            await xml.WriteElementStringAsync(null, "name", null, annotation.Label);
            await xml.WriteElementStringAsync(null, "pose", null, "Unspecified");
            await xml.WriteElementStringAsync(null, "truncated", null, box.Truncated ? "1" : "0");
            await xml.WriteElementStringAsync(null, "difficult", null, "0");
            await xml.WriteStartElementAsync(null, "bndbox", null);
            await xml.WriteElementStringAsync(null, "xmin", null, Number(box.XMin));
            await xml.WriteElementStringAsync(null, "ymin", null, Number(box.YMin));
            await xml.WriteElementStringAsync(null, "xmax", null, Number(box.XMax));
            await xml.WriteElementStringAsync(null, "ymax", null, Number(box.YMax));
            await xml.WriteEndElementAsync();
            await xml.WriteEndElementAsync();
            _report.CountAnnotationWritten();
        }

        await xml.WriteEndElementAsync();
    }

    private readonly record struct VocBox(int XMin, int YMin, int XMax, int YMax, bool Truncated);

    private VocBox? Box(TrainingItem item, StoredAnnotation annotation)
    {
        if (!_classes.TryGetIndex(annotation.Label, out _))
        {
            _report.Change(ReportChanges.UnknownLabel, item.ReportItem, annotation.Label, "The label is in none of the exported projects.");
            return null;
        }

        PixelRect bounds;
        switch (annotation.Shape)
        {
            case BoxShape box:
                if (box.IsRotated)
                {
                    _report.Change(ReportChanges.RotatedBoxToBox, item.ReportItem, annotation.Label);
                }

                bounds = Geometry.Bounds(box);
                break;
            case PolygonShape polygon:
                _report.Change(ReportChanges.PolygonToBox, item.ReportItem, annotation.Label);
                bounds = Geometry.BoundingBox(polygon.Vertices);
                break;
            default:
                _report.Unsupported(annotation.Type, item.ReportItem, annotation.Label);
                return null;
        }

        var truncated = !Geometry.IsInside(bounds, item.Width!.Value, item.Height!.Value);
        if (truncated)
        {
            _report.Change(ReportChanges.ClippedToImage, item.ReportItem, annotation.Label);
            bounds = Geometry.ClipToImage(bounds, item.Width.Value, item.Height.Value);
        }

        // Pixel edges to the devkit's 1-based inclusive pixel indexes.
        var box1 = new VocBox(
            (int)Math.Round(bounds.Left, MidpointRounding.AwayFromZero) + 1,
            (int)Math.Round(bounds.Top, MidpointRounding.AwayFromZero) + 1,
            (int)Math.Round(bounds.Right, MidpointRounding.AwayFromZero),
            (int)Math.Round(bounds.Bottom, MidpointRounding.AwayFromZero),
            truncated);
        if (box1.XMax < box1.XMin || box1.YMax < box1.YMin)
        {
            _report.Change(ReportChanges.DroppedZeroArea, item.ReportItem, annotation.Label, "Less than a whole pixel is left inside the image.");
            return null;
        }

        return box1;
    }

    private async Task AddToImageSetAsync(string split, string stem, CancellationToken cancellationToken)
    {
        if (!_imageSets.TryGetValue(split, out var file))
        {
            file = _settings.CreateSpillFile("annex-voc", ".txt");
            _imageSets.Add(split, file);
        }

        await file.WriteAsync(Encoding.UTF8.GetBytes(stem + "\n"), cancellationToken);
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        foreach (var split in Splits.All.Where(_imageSets.ContainsKey))
        {
            var file = _imageSets[split];
            file.Position = 0;
            await using var entry = await _archive.OpenTextAsync($"ImageSets/Main/{split}.txt", cancellationToken);
            await file.CopyToAsync(entry, cancellationToken);
        }

        var labels = new StringBuilder();
        foreach (var label in _classes.Labels)
        {
            labels.Append(label.Name).Append('\n');
        }

        await _archive.WriteTextAsync("labels.txt", labels.ToString(), cancellationToken);
        await _archive.WriteReportAsync(_report, cancellationToken);
        await _archive.CompleteAsync(cancellationToken);
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        foreach (var file in _imageSets.Values)
        {
            await file.DisposeAsync();
        }

        await _archive.DisposeAsync();
    }
}
