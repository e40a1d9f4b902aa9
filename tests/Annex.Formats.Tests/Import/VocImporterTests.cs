using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using Annex.Formats.Import;
using Annex.Formats.Tests.Yolo;
using Annex.Tests;
using Xunit;

namespace Annex.Formats.Tests.Import;

public sealed class VocImporterTests : IDisposable
{
    private const string Street = """
        <annotation>
          <folder>VOC2007</folder>
          <filename>000001.jpg</filename>
          <source><database>The VOC2007 Database</database><image>flickr</image></source>
          <size><width>353</width><height>500</height><depth>3</depth></size>
          <segmented>0</segmented>
          <object>
            <name>dog</name>
            <pose>Left</pose>
            <truncated>1</truncated>
            <difficult>0</difficult>
            <bndbox><xmin>48</xmin><ymin>240</ymin><xmax>195</xmax><ymax>371</ymax></bndbox>
          </object>
          <object>
            <name>person</name>
            <bndbox><xmin>8</xmin><ymin>12</ymin><xmax>352</xmax><ymax>498</ymax></bndbox>
            <part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>
            <occluded>true</occluded>
          </object>
        </annotation>
        """;

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("annex-voc-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void ReadsObjectsAsPixelBoxesWithTheirFlags()
    {
        Write("Annotations/000001.xml", Street);
        Write("JPEGImages/000001.jpg", "bytes");

        var dataset = VocImporter.Read(_root.FullName);

        Assert.Equal(["dog", "person"], dataset.Labels.Select(l => l.Name));
        var item = Assert.Single(dataset.Items);
        Assert.Equal("000001", item.RefId);
        Assert.Equal((353, 500), (item.Width, item.Height));
        Assert.Equal("JPEGImages/000001.jpg", item.MediaPath);
        Assert.Null(item.MediaUrl); // "flickr" is not a URL
        Assert.Equal("{}", item.MetadataJson);
        Assert.Equal(
            [
                // 1-based inclusive 48..195 is the pixel edges 47..195.
                new ImportedAnnotation("dog", "bounding_box", """{"x":47,"y":239,"width":148,"height":132}""", """{"difficult":false,"truncated":true}"""),
                new ImportedAnnotation("person", "bounding_box", """{"x":7,"y":11,"width":345,"height":487}""", """{"occluded":true}"""),
            ],
            item.Annotations);
        Assert.Empty(dataset.Skipped);
        foreach (var annotation in item.Annotations)
        {
            CocoImporterTests.AssertValid(annotation, new HashSet<string>(["dog", "person"]));
        }
    }

    [Fact]
    public void LabelsTxtGivesTheClassOrderAndImageSetsTheSplit()
    {
        Write("labels.txt", "person\ncar\n\n");
        Write("Annotations/a.xml", Annotation("a.jpg", 10, 10, ("car", "1", "1", "5", "5")));
        Write("Annotations/b.xml", Annotation("b.jpg", 10, 10, ("bus", "1", "1", "5", "5")));
        Write("Annotations/c.xml", Annotation("c.jpg", 10, 10));
        Write("ImageSets/Main/trainval.txt", "a\nb\nc\n");
        Write("ImageSets/Main/val.txt", "b\n");
        Write("ImageSets/Main/train.txt", "a\n");
        Write("ImageSets/Main/car_train.txt", "a  1\nc -1\n");

        var dataset = VocImporter.Read(_root.FullName);

        // labels.txt first, then names it does not list in the order they appear.
        Assert.Equal(["person", "car", "bus"], dataset.Labels.Select(l => l.Name));
        Assert.Equal(["a", "b", "c"], dataset.Items.Select(i => i.RefId));
        // train and val win over trainval; a per-class list is not a split.
        Assert.Equal(["""{"split":"train"}""", """{"split":"val"}""", """{"split":"trainval"}"""], dataset.Items.Select(i => i.MetadataJson));
        Assert.All(dataset.Items, item => Assert.Null(item.MediaPath));
    }

    [Fact]
    public void ImagesWithoutAnnotationsAreItemsSizedFromTheirHeaders()
    {
        Write("Annotations/a.xml", Annotation("a.png", 10, 10, ("car", "1", "1", "5", "5")));
        Image("JPEGImages/a.png", 10, 10);
        Image("JPEGImages/background.png", 64, 32);
        Write("SegmentationObject/a.png", "mask");

        var dataset = VocImporter.Read(_root.FullName);

        Assert.Equal(["a", "background"], dataset.Items.Select(i => i.RefId));
        Assert.Equal("JPEGImages/a.png", dataset.Items[0].MediaPath);
        var background = dataset.Items[1];
        Assert.Equal((64, 32, "JPEGImages/background.png"), (background.Width, background.Height, background.MediaPath));
        Assert.Empty(background.Annotations);
        var skip = Assert.Single(dataset.Skipped);
        Assert.Equal("SegmentationObject", skip.File);
    }

    [Fact]
    public void ABoxThatEndsBeforeItStartsIsSkippedWithItsLine()
    {
        Write("Annotations/a.xml", Annotation("a.jpg", 10, 10, ("car", "1", "1", "5", "5"), ("car", "6", "1", "5", "5")));

        var dataset = VocImporter.Read(_root.FullName);

        Assert.Single(dataset.Items[0].Annotations);
        var skip = Assert.Single(dataset.Skipped);
        Assert.Equal(("Annotations/a.xml", 5), (skip.File, skip.Line));
        Assert.Equal("Annotations/a.xml:5: object 2: the bndbox ends before it starts, so it has no area; skipped", skip.ToString());
    }

    [Theory]
    [InlineData("<annotation>\n<size><width>10</width>\n<height>10</height></size>\n<object><name>a</name></annotation>", 4, "not valid XML: The 'object' start tag on line 4 position 2 does not match the end tag of 'annotation'")]
    [InlineData("<annotation>\n<filename>a.jpg</filename>\n</annotation>", 1, "size: missing; VOC boxes are measured against the image size")]
    [InlineData("<annotation>\n<size>\n<width>10</width>\n</size>\n</annotation>", 2, "size/height: missing")]
    [InlineData("<annotation>\n<size><width>ten</width><height>10</height></size>\n</annotation>", 2, "size/width \"ten\" is not a positive whole number")]
    [InlineData("<annotation><size><width>10</width><height>10</height></size>\n<object><name>a</name><bndbox>\n<xmin>1</xmin><ymin>1</ymin>\n<xmax>5px</xmax><ymax>5</ymax></bndbox></object>\n</annotation>", 4, "object 1: bndbox/xmax \"5px\" is not a number")]
    [InlineData("<annotation><size><width>10</width><height>10</height></size>\n<object><name>a</name>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax></bndbox></object>\n</annotation>", 3, "object 1: bndbox/ymax missing")]
    [InlineData("<annotation><size><width>10</width><height>10</height></size>\n<object><name>a</name></object>\n</annotation>", 2, "object 1: bndbox missing")]
    [InlineData("<annotation><size><width>10</width><height>10</height></size>\n<object>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>\n</annotation>", 2, "object 1: name missing")]
    [InlineData("<annotation><size><width>10</width><height>10</height></size>\n<object><name>a</name><difficult>maybe</difficult>\n</object></annotation>", 2, "object 1: difficult \"maybe\" is not 0 or 1")]
    [InlineData("<annotations>\n</annotations>", 1, "expected an <annotation> element, found <annotations>")]
    public void MalformedFilesSayFileLineAndReason(string xml, int line, string reason)
    {
        Write("Annotations/a.xml", xml);

        var error = Assert.Throws<ImportException>(() => VocImporter.Read(_root.FullName));

        Assert.Equal(("Annotations/a.xml", line), (error.File, error.Line));
        Assert.Equal(reason, error.Reason);
        Assert.Equal($"Annotations/a.xml:{line}: {reason}", error.Message);
    }

    [Fact]
    public void ADocumentTypeDefinitionIsRefused()
    {
        // Entities could expand without bound or read local files.
        Write("Annotations/a.xml", "<!DOCTYPE annotation [<!ENTITY x \"y\">]>\n<annotation>&x;</annotation>");

        var error = Assert.Throws<ImportException>(() => VocImporter.Read(_root.FullName));

        Assert.StartsWith("Annotations/a.xml: not valid XML: For security reasons DTD is prohibited", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AClassListedTwiceInLabelsTxtIsRefused()
    {
        Write("labels.txt", "car\nbus\ncar\n");
        Write("Annotations/a.xml", Annotation("a.jpg", 10, 10));

        var error = Assert.Throws<ImportException>(() => VocImporter.Read(_root.FullName));

        Assert.Equal("labels.txt:3: the class \"car\" is also on line 1", error.Message);
    }

    [Fact]
    public void AFolderWithoutAnnotationsIsRefused()
    {
        Directory.CreateDirectory(Path.Combine(_root.FullName, "JPEGImages"));

        var error = Assert.Throws<ImportException>(() => VocImporter.Read(_root.FullName));

        Assert.Equal("Annotations: no .xml file found", error.Message);
    }

    [Fact]
    public async Task Export_import_export_gives_the_same_boxes()
    {
        var (archive, _) = await EdgeCaseDataset.WriteAsync(s => new VocArchiveWriter(s), "VOC");
        using (var zip = new ZipArchive(new MemoryStream(archive)))
        {
            zip.ExtractToDirectory(_root.FullName);
        }

        var imported = VocImporter.Read(_root.FullName);
        Assert.Equal(EdgeCaseDataset.Classes.Labels.Select(l => l.Name), imported.Labels.Select(l => l.Name));
        var classes = new ClassList([imported.Labels.Select(l => new LabelRecord(l.Name, "#000000", null, null, null))]);
        var output = new MemoryStream();
        var report = new ExportReport("VOC");
        var uids = new Dictionary<string, Guid>(StringComparer.Ordinal);
        await using (var writer = new VocArchiveWriter(new TrainingArchiveSettings(output, classes, report, DateTime.UnixEpoch.AddYears(20), CompressionLevel.Fastest)))
        {
            foreach (var (item, index) in imported.Items.Select((item, index) => (item, index)))
            {
                var annotations = item.Annotations.Select(a => EdgeCaseDataset.Annotation(
                    $$"""{"label":{{JsonSerializer.Serialize(a.Label)}},"type":"{{a.Type}}","coordinates":{{a.CoordinatesJson}},"attributes":{{a.AttributesJson ?? "{}"}}}""")).ToList();
                uids[item.RefId] = new Guid(index + 1, 0, 0, new byte[8]);
                var image = item.MediaPath is null ? null : new TrainingImage(new MemoryStream(File.ReadAllBytes(Path.Combine(_root.FullName, item.MediaPath))), Path.GetExtension(item.MediaPath));
                await writer.WriteItemAsync(new TrainingItem(uids[item.RefId], item.RefId, item.MetadataJson, item.Width, item.Height, item.MediaUrl, annotations), image, CancellationToken.None);
            }

            await writer.CompleteAsync(CancellationToken.None);
        }

        using var first = new ZipArchive(new MemoryStream(archive));
        using var again = new ZipArchive(new MemoryStream(output.ToArray()));
        var firstFiles = first.Entries.Where(e => e.FullName.StartsWith("Annotations/", StringComparison.Ordinal)).ToList();
        Assert.Equal(firstFiles.Count, again.Entries.Count(e => e.FullName.StartsWith("Annotations/", StringComparison.Ordinal)));
        foreach (var entry in firstFiles)
        {
            // The imported ref_ids are the first export's stems; whole pixels come back exactly.
            var stem = Path.GetFileNameWithoutExtension(entry.Name);
            var before = XDocument.Load(entry.Open()).Root!;
            var after = XDocument.Load(again.GetEntry($"Annotations/{FileStems.For(stem, uids[stem])}.xml")!.Open()).Root!;
            Assert.Equal(Objects(before), Objects(after));
            Assert.Equal(before.Element("size")!.ToString(), after.Element("size")!.ToString());
            Assert.Equal(before.Element("source")?.Element("image")?.Value, after.Element("source")?.Element("image")?.Value);
        }

        string Text(ZipArchive zip, string name) => new StreamReader(zip.GetEntry(name)!.Open()).ReadToEnd();
        Assert.Equal(Text(first, "labels.txt"), Text(again, "labels.txt"));
        foreach (var split in Splits.All)
        {
            var stems = Text(first, $"ImageSets/Main/{split}.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(stems.Select(s => FileStems.For(s, uids[s])), Text(again, $"ImageSets/Main/{split}.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        Assert.Equal(0, report.ChangeCount(ReportChanges.ClippedToImage));
        Assert.Equal(0, report.ChangeCount(ReportChanges.DroppedZeroArea));
    }

    /// <summary>Each object's name and bndbox, in order.</summary>
    private static List<string> Objects(XElement annotation) =>
        [.. annotation.Elements("object").Select(o => o.Element("name")!.Value + " " + string.Join(" ", o.Element("bndbox")!.Elements().Select(e => e.Value)))];

    private static string Annotation(string fileName, int width, int height, params (string Name, string XMin, string YMin, string XMax, string YMax)[] objects) =>
        $"<annotation>\n<filename>{fileName}</filename>\n<size><width>{width}</width><height>{height}</height></size>\n"
        + string.Concat(objects.Select(o => $"<object><name>{o.Name}</name><bndbox><xmin>{o.XMin}</xmin><ymin>{o.YMin}</ymin><xmax>{o.XMax}</xmax><ymax>{o.YMax}</ymax></bndbox></object>\n"))
        + "</annotation>\n";

    [Fact]
    public void A_streamed_read_gives_the_items_labels_and_skips_the_whole_folder_reader_gives()
    {
        Write("labels.txt", "person\ncar\n");
        Write("Annotations/000001.xml", Street);
        Write("JPEGImages/000001.jpg", "bytes");
        Write("Annotations/a.xml", Annotation("a.png", 10, 10, ("car", "1", "1", "5", "5"), ("bus", "6", "1", "5", "5"), ("bus", "2", "2", "4", "4")));
        Image("JPEGImages/a.png", 10, 10);
        Image("JPEGImages/background.png", 64, 32);
        Write("ImageSets/Main/val.txt", "a\n");
        Write("SegmentationObject/a.png", "mask");

        var whole = VocImporter.Read(_root.FullName);
        using var import = VocImporter.OpenStreamed(_root.FullName);
        Assert.Equal((3, 4L), (import.ItemCount, import.AnnotationCount));
        Assert.Equal(["bus", "car", "dog", "person"], import.UsedLabels.Order(StringComparer.Ordinal));
        var streamed = new ImportedDataset(import.Labels, [.. import.ReadItems()]) { Skipped = import.Skipped };

        Assert.Equal(Canonical(whole), Canonical(streamed));
        Assert.Equal(2, streamed.Skipped.Count);
        Assert.Throws<InvalidOperationException>(() => import.ReadItems().First());
    }

    [Fact]
    public void A_streamed_read_finds_a_bad_file_before_any_item_is_handed_out()
    {
        Write("Annotations/a.xml", Annotation("a.jpg", 10, 10, ("car", "1", "1", "5", "5")));
        Write("Annotations/b.xml", "<annotation>\n<filename>b.jpg</filename>\n</annotation>");

        var whole = Assert.Throws<ImportException>(() => VocImporter.Read(_root.FullName));
        var streamed = Assert.Throws<ImportException>(() => VocImporter.OpenStreamed(_root.FullName));

        Assert.Equal(whole.Message, streamed.Message);
        Assert.Equal("Annotations/b.xml:1: size: missing; VOC boxes are measured against the image size", streamed.Message);
    }

    private static string Canonical(ImportedDataset dataset) => JsonSerializer.Serialize(new
    {
        labels = dataset.Labels.Select(l => new { l.Name, l.Color, l.Keypoints, l.Skeleton }),
        items = dataset.Items.Select(i => new { i.RefId, i.Width, i.Height, i.MetadataJson, i.MediaPath, i.MediaUrl, i.Annotations }),
        skipped = dataset.Skipped.Select(s => s.ToString()),
    });

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_root.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private void Image(string relative, int width, int height)
    {
        var path = Path.Combine(_root.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TestImages.Png(width, height));
    }
}
