using System.IO.Compression;
using System.Text;
using System.Xml.Linq;
using Annex.Formats.Tests.Yolo;
using Xunit;

namespace Annex.Formats.Tests.Voc;

public sealed class VocAndCsvWriterTests
{
    [Fact]
    public async Task Voc_files_follow_the_devkit_layout_and_every_box_lies_within_its_image()
    {
        var (archive, report) = await EdgeCaseDataset.WriteAsync(s => new VocArchiveWriter(s), "VOC");
        using var zip = new ZipArchive(new MemoryStream(archive));
        var xmlFiles = zip.Entries.Where(e => e.FullName.StartsWith("Annotations/", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, xmlFiles.Count); // the item without a size has none

        var objects = 0;
        foreach (var entry in xmlFiles)
        {
            var root = XDocument.Load(entry.Open()).Root!;
            Assert.Equal("annotation", root.Name.LocalName);
            var width = int.Parse(root.Element("size")!.Element("width")!.Value, System.Globalization.CultureInfo.InvariantCulture);
            var height = int.Parse(root.Element("size")!.Element("height")!.Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(Path.GetFileNameWithoutExtension(entry.Name), Path.GetFileNameWithoutExtension(root.Element("filename")!.Value));
            foreach (var element in root.Elements("object"))
            {
                objects++;
                Assert.Contains(element.Element("name")!.Value, EdgeCaseDataset.Classes.Labels.Select(l => l.Name));
                var box = element.Element("bndbox")!;
                int Value(string name) => int.Parse(box.Element(name)!.Value, System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(Value("xmin"), 1, Value("xmax"));
                Assert.InRange(Value("ymin"), 1, Value("ymax"));
                Assert.InRange(Value("xmax"), 1, width);
                Assert.InRange(Value("ymax"), 1, height);
            }
        }

        Assert.Equal(report.AnnotationsWritten, objects);
        Assert.Equal(report.AnnotationsRead, EdgeCaseDataset.Accounted(report));
        Assert.Equal(2, report.UnsupportedCount(AnnotationTypes.Keypoints));

        var first = XDocument.Load(zip.GetEntry($"Annotations/a_{new Guid("00000000-0000-0000-0000-000000000001"):N}.xml")!.Open()).Root!;
        var firstBox = first.Elements("object").First().Element("bndbox")!;
        Assert.Equal(["11", "11", "60", "40"], firstBox.Elements().Select(e => e.Value)); // x 10..60, y 10..40
        Assert.Equal("1", first.Elements("object").ElementAt(2).Element("truncated")!.Value);

        string Text(string name) => new StreamReader(zip.GetEntry(name)!.Open()).ReadToEnd();
        Assert.Equal("car\nperson\nsign: \"stop\"\n", Text("labels.txt"));
        Assert.Equal(2, Text("ImageSets/Main/train.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Single(Text("ImageSets/Main/val.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.NotNull(zip.GetEntry($"JPEGImages/a_{new Guid("00000000-0000-0000-0000-000000000001"):N}.png"));
    }

    [Fact]
    public async Task Voc_writes_the_label_map_datumaro_reads_beside_labels_txt()
    {
        var classes = new ClassList([[
            new LabelRecord("building", "#FF8000", null, null, null),
            new LabelRecord("car", "#00ff00", null, null, null),
            new LabelRecord("tree", "green", null, null, null),
        ]]);
        var output = new MemoryStream();
        using var report = new ExportReport("VOC");
        await using (var writer = new VocArchiveWriter(new TrainingArchiveSettings(output, classes, report, DateTime.UnixEpoch, CompressionLevel.Fastest)))
        {
            await writer.WriteItemAsync(new TrainingItem(Guid.Empty, "a", "{}", 100, 100, null,
                [EdgeCaseDataset.Box("building", 1, 1, 20, 20), EdgeCaseDataset.Box("car", 30, 30, 20, 20), EdgeCaseDataset.Box("tree", 60, 60, 20, 20)]), null, CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }

        using var zip = new ZipArchive(new MemoryStream(output.ToArray()));
        string Text(string name) => new StreamReader(zip.GetEntry(name)!.Open(), Encoding.UTF8).ReadToEnd();
        Assert.Equal("building\ncar\ntree\n", Text("labels.txt"));
        Assert.Equal("# label:color_rgb:parts:actions\nbuilding:255,128,0::\ncar:0,255,0::\ntree:::\n", Text("labelmap.txt"));

        // Without labelmap.txt datumaro declares only the 20 VOC classes: every object's name must be declared in it.
        var declared = DatumaroLabelMap(Text("labelmap.txt"));
        Assert.Equal(["building", "car", "tree"], declared);
        var names = XDocument.Load(zip.GetEntry("Annotations/a_00000000000000000000000000000000.xml")!.Open()).Root!.Elements("object").Select(o => o.Element("name")!.Value);
        Assert.All(names, name => Assert.Contains(name, declared));
    }

    [Fact]
    public async Task Voc_label_map_leaves_out_a_name_datumaro_cannot_read()
    {
        var (archive, _) = await EdgeCaseDataset.WriteAsync(s => new VocArchiveWriter(s), "VOC");
        using var zip = new ZipArchive(new MemoryStream(archive));
        var text = new StreamReader(zip.GetEntry("labelmap.txt")!.Open(), Encoding.UTF8).ReadToEnd();

        // "sign: \"stop\"" would split into five fields, which datumaro refuses for the whole file.
        Assert.Equal("# label:color_rgb:parts:actions\ncar:255,0,0::\nperson:0,255,0::\n", text);
        Assert.Equal(["car", "person"], DatumaroLabelMap(text));
    }

    /// <summary>datumaro's label map rules (voc format parse_label_map): lines stripped, '#' lines and blank ones
    /// skipped, four ':'-separated fields, names unique, a color of three integers or none.</summary>
    private static List<string> DatumaroLabelMap(string text)
    {
        var names = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var fields = line.Split(':');
            Assert.Equal(4, fields.Length);
            Assert.DoesNotContain(fields[0], names);
            if (fields[1].Length > 0)
            {
                var color = fields[1].Split(',');
                Assert.Equal(3, color.Length);
                Assert.All(color, c => int.Parse(c, System.Globalization.CultureInfo.InvariantCulture));
            }

            names.Add(fields[0]);
        }

        return names;
    }

    [Fact]
    public async Task Csv_has_one_parsable_row_per_annotation()
    {
        var (archive, report) = await EdgeCaseDataset.WriteAsync(s => new CsvArchiveWriter(s), "CSV");
        using var zip = new ZipArchive(new MemoryStream(archive));
        Assert.Equal([CsvArchiveWriter.EntryName, ExportReport.EntryName], zip.Entries.Select(e => e.FullName));
        var rows = ParseCsv(new StreamReader(zip.GetEntry(CsvArchiveWriter.EntryName)!.Open()).ReadToEnd());

        Assert.Equal("item_uid", rows[0][0]);
        Assert.All(rows, r => Assert.Equal(rows[0].Count, r.Count));
        var total = EdgeCaseDataset.Items().Sum(i => i.Item.Annotations.Count);
        Assert.Equal(total, rows.Count - 1);
        Assert.Equal(total, report.AnnotationsWritten);

        var column = rows[0].Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index);
        var sign = rows.First(r => r[column["type"]] == "polygon");
        Assert.Equal("sign: \"stop\"", sign[column["label"]]);
        Assert.Equal("2", sign[column["class_index"]]);
        Assert.Equal("150", sign[column["bbox_x"]]);
        Assert.Equal("80", sign[column["bbox_width"]]);
        Assert.StartsWith("{\"vertices\":", sign[column["coordinates"]], StringComparison.Ordinal);
        Assert.Equal("", rows.First(r => r[column["label"]] == "bicycle")[column["class_index"]]);
        Assert.Equal("../../etc/passwd", rows.First(r => r[column["split"]] == "test")[column["ref_id"]]);
    }

    [Fact]
    public void Csv_cells_are_quoted_as_RFC_4180_says()
    {
        Assert.Equal("plain", CsvArchiveWriter.Escape("plain"));
        Assert.Equal("\"a,b\"", CsvArchiveWriter.Escape("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", CsvArchiveWriter.Escape("say \"hi\""));
        Assert.Equal("\"two\nlines\"", CsvArchiveWriter.Escape("two\nlines"));
        Assert.Equal("", CsvArchiveWriter.Escape(null));
    }

    /// <summary>RFC 4180, read independently of the writer.</summary>
    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add(row);
                row = [];
                i++;
            }
            else
            {
                cell.Append(c);
            }
        }

        Assert.False(quoted);
        Assert.Empty(row);
        return rows;
    }
}
