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
