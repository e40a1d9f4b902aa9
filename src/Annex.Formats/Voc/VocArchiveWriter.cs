using System.Globalization;
using System.Text;
using System.Xml;

namespace Annex.Formats;

/// <summary>
/// Pascal VOC: <c>Annotations/&lt;stem&gt;.xml</c> per image (<c>size</c> and one <c>object/bndbox</c> per box),
/// images under <c>JPEGImages/</c>, <c>ImageSets/Main/&lt;split&gt;.txt</c> listing the stems of each split,
/// <c>labels.txt</c> with the class names in taxonomy order, the same as datumaro's <c>labelmap.txt</c>, and
/// <c>export_report.json</c>. Coordinates follow the
/// VOC devkit: whole pixels, 1-based and inclusive, so a box from x = 10 to x = 60 is xmin 11, xmax 60.
/// </summary>
public sealed class VocArchiveWriter : ITrainingArchiveWriter
{
    private readonly TrainingArchive _archive;
    private readonly ClassList _classes;
    private readonly ExportReport _report;
    private readonly Dictionary<string, FileStream> _imageSets = new(StringComparer.Ordinal);
    private readonly TrainingArchiveSettings _settings;
    private readonly Utf8Buffer _xml = new();
    private readonly Utf8Buffer _line = new(256);

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
        _xml.Clear();
        if (PlainText(fileName) && PlainText(item.RefId) && PlainText(item.MediaUrl) && item.Annotations.All(a => PlainText(a.Label)))
        {
            WriteXml(item, image, fileName);
        }
        else
        {
            WriteXmlWithXmlWriter(item, image, fileName);
        }

        await _archive.WriteTextAsync($"Annotations/{item.Stem}.xml", _xml.Memory, cancellationToken);
    }

    /// <summary>The item's XML, the bytes <see cref="XmlWriter"/> gives (indented by two spaces, lines ending in
    /// <see cref="XmlWriterSettings.NewLineChars"/>, empty elements as <c>&lt;x /&gt;</c>), written straight into
    /// a reused buffer: only text without characters XmlWriter treats specially takes this way.</summary>
    private void WriteXml(TrainingItem item, TrainingImage? image, string fileName)
    {
        _xml.Append("<annotation>"u8);
        Element(1, "folder"u8, "JPEGImages");
        Element(1, "filename"u8, fileName);
        Open(1, "source"u8);
        Element(2, "database"u8, "Annex");
        Element(2, "annotation"u8, item.RefId);
        if (image is null && !string.IsNullOrEmpty(item.MediaUrl))
        {
            Element(2, "image"u8, item.MediaUrl);
        }

        Close(1, "source"u8);
        Open(1, "size"u8);
        Element(2, "width"u8, item.Width!.Value);
        Element(2, "height"u8, item.Height!.Value);
        Element(2, "depth"u8, "3");
        Close(1, "size"u8);
        Element(1, "segmented"u8, "0");
        foreach (var annotation in item.Annotations)
        {
            if (Box(item, annotation) is not { } box)
            {
                continue;
            }

            Open(1, "object"u8);
            Element(2, "name"u8, annotation.Label);
            Element(2, "pose"u8, "Unspecified");
            Element(2, "truncated"u8, box.Truncated ? "1" : "0");
            Element(2, "difficult"u8, "0");
            Open(2, "bndbox"u8);
            Element(3, "xmin"u8, box.XMin);
            Element(3, "ymin"u8, box.YMin);
            Element(3, "xmax"u8, box.XMax);
            Element(3, "ymax"u8, box.YMax);
            Close(2, "bndbox"u8);
            Close(1, "object"u8);
            _report.CountAnnotationWritten();
        }

        _xml.Append(NewLine).Append("</annotation>"u8);
    }

    private static readonly byte[] NewLine = Encoding.UTF8.GetBytes(new XmlWriterSettings().NewLineChars);

    private void Indent(int depth)
    {
        _xml.Append(NewLine);
        for (var i = 0; i < depth; i++)
        {
            _xml.Append("  "u8);
        }
    }

    private void Open(int depth, ReadOnlySpan<byte> name)
    {
        Indent(depth);
        _xml.Append((byte)'<').Append(name).Append((byte)'>');
    }

    private void Close(int depth, ReadOnlySpan<byte> name)
    {
        Indent(depth);
        _xml.Append("</"u8).Append(name).Append((byte)'>');
    }

    private void Element(int depth, ReadOnlySpan<byte> name, int value)
    {
        Indent(depth);
        _xml.Append((byte)'<').Append(name).Append((byte)'>').Append(value).Append("</"u8).Append(name).Append((byte)'>');
    }

    private void Element(int depth, ReadOnlySpan<byte> name, string? text)
    {
        Indent(depth);
        _xml.Append((byte)'<').Append(name);
        if (string.IsNullOrEmpty(text))
        {
            _xml.Append(" />"u8);
            return;
        }

        _xml.Append((byte)'>');
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            var at = rest.IndexOfAny('&', '<', '>');
            if (at < 0)
            {
                _xml.Append(rest);
                break;
            }

            _xml.Append(rest[..at]).Append(rest[at] switch { '&' => "&amp;"u8, '<' => "&lt;"u8, _ => "&gt;"u8 });
            rest = rest[(at + 1)..];
        }

        _xml.Append("</"u8).Append(name).Append((byte)'>');
    }

    /// <summary>Text XmlWriter writes as it is apart from &amp;, &lt; and &gt;: no control characters or line breaks (which
    /// it replaces or rejects) and no surrogates or non-characters (which it checks).</summary>
    private static bool PlainText(string? text) =>
        text is null || text.AsSpan().IndexOfAnyInRange('\0', '\u001F') < 0 && text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0
            && text.AsSpan().IndexOfAny('\uFFFE', '\uFFFF') < 0;

    /// <summary>Any other item goes through XmlWriter itself, as it always did.</summary>
    private void WriteXmlWithXmlWriter(TrainingItem item, TrainingImage? image, string fileName)
    {
        var output = new MemoryStream();
        using (var xml = XmlWriter.Create(output, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), OmitXmlDeclaration = true }))
        {
            xml.WriteStartElement(null, "annotation", null);
            xml.WriteElementString(null, "folder", null, "JPEGImages");
            xml.WriteElementString(null, "filename", null, fileName);
            xml.WriteStartElement(null, "source", null);
            xml.WriteElementString(null, "database", null, "Annex");
            xml.WriteElementString(null, "annotation", null, item.RefId);
            if (image is null && !string.IsNullOrEmpty(item.MediaUrl))
            {
                xml.WriteElementString(null, "image", null, item.MediaUrl);
            }

            xml.WriteEndElement();
            xml.WriteStartElement(null, "size", null);
            xml.WriteElementString(null, "width", null, Number(item.Width!.Value));
            xml.WriteElementString(null, "height", null, Number(item.Height!.Value));
            xml.WriteElementString(null, "depth", null, "3");
            xml.WriteEndElement();
            xml.WriteElementString(null, "segmented", null, "0");
            foreach (var annotation in item.Annotations)
            {
                if (Box(item, annotation) is not { } box)
                {
                    continue;
                }

                xml.WriteStartElement(null, "object", null);
                xml.WriteElementString(null, "name", null, annotation.Label);
                xml.WriteElementString(null, "pose", null, "Unspecified");
                xml.WriteElementString(null, "truncated", null, box.Truncated ? "1" : "0");
                xml.WriteElementString(null, "difficult", null, "0");
                xml.WriteStartElement(null, "bndbox", null);
                xml.WriteElementString(null, "xmin", null, Number(box.XMin));
                xml.WriteElementString(null, "ymin", null, Number(box.YMin));
                xml.WriteElementString(null, "xmax", null, Number(box.XMax));
                xml.WriteElementString(null, "ymax", null, Number(box.YMax));
                xml.WriteEndElement();
                xml.WriteEndElement();
                _report.CountAnnotationWritten();
            }

            xml.WriteEndElement();
        }

        _xml.Append(output.GetBuffer().AsSpan(0, (int)output.Length));
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

        _line.Clear();
        _line.Append(stem).Append((byte)'\n');
        await file.WriteAsync(_line.Memory, cancellationToken);
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
        await _archive.WriteTextAsync(LabelMapEntryName, LabelMap(_classes), cancellationToken);
        await _archive.WriteReportAsync(_report, cancellationToken);
        await _archive.CompleteAsync(cancellationToken);
    }

    public const string LabelMapEntryName = "labelmap.txt";

    /// <summary>
    /// datumaro's label map, which it reads instead of the 20 VOC classes: a header, then <c>name:r,g,b::</c> per label
    /// (no parts, no actions). datumaro splits each stripped line at ':' and skips lines starting with '#', so a name
    /// with ':' or a line break, starting with '#' or with spaces around it cannot be written and is left out.
    /// </summary>
    private static string LabelMap(ClassList classes)
    {
        var map = new StringBuilder("# label:color_rgb:parts:actions\n");
        foreach (var label in classes.Labels)
        {
            var name = label.Name;
            if (name.Length == 0 || name[0] == '#' || name.Trim() != name || name.IndexOfAny([':', '\n', '\r']) >= 0)
            {
                continue;
            }

            map.Append(name).Append(':').Append(Rgb(label.Color)).Append("::\n");
        }

        return map.ToString();
    }

    /// <summary>"#RRGGBB" as "r,g,b"; anything else as no color.</summary>
    private static string Rgb(string? color)
    {
        if (color is not { Length: 7 } || color[0] != '#'
            || !int.TryParse(color.AsSpan(1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var rgb))
        {
            return "";
        }

        return string.Create(CultureInfo.InvariantCulture, $"{rgb >> 16 & 0xFF},{rgb >> 8 & 0xFF},{rgb & 0xFF}");
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
