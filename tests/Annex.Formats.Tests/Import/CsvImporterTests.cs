using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Annex.Formats.Import;
using Annex.Formats.Tests.Yolo;
using Xunit;

namespace Annex.Formats.Tests.Import;

public sealed class CsvImporterTests
{
    private const string Header = "item_uid,ref_id,split,image_width,image_height,media_url,label,class_index,type,bbox_x,bbox_y,bbox_width,bbox_height,coordinates,attributes";

    [Fact]
    public void ReadsItemsLabelsAndEveryTypeFromTheJsonColumns()
    {
        // Quoted cells hold commas, doubled quotes and a line break; the apostrophe guards a formula.
        var csv = (Header + "\n" + """"
            u1,frame_001,val,640,480,,car,0,bounding_box,10,20,30,40,"{""x"":10,""y"":20,""width"":30,""height"":40}","{""note"":""say \""hi\"", bye""}"
            u1,frame_001,val,640,480,,bicycle,,cuboid,,,,,"{""center"":{""x"":1,""y"":2,""z"":3},""dimensions"":{""length"":4,""width"":2,""height"":1.5},""rotation"":{""yaw"":0.1,""pitch"":0,""roll"":0}}",{}
            u2,"'=SUM(A1),
            ""2""",,,,https://example.com/b.jpg,person,1,classification,,,,,,{}

            """").ReplaceLineEndings("\r\n");

        var dataset = Read(csv);

        // Indexed labels in class order, then the label without an index.
        Assert.Equal(["car", "person", "bicycle"], dataset.Labels.Select(l => l.Name));
        Assert.Equal(["frame_001", "=SUM(A1),\r\n\"2\""], dataset.Items.Select(i => i.RefId));
        var first = dataset.Items[0];
        Assert.Equal((640, 480, """{"split":"val"}"""), (first.Width, first.Height, first.MetadataJson));
        Assert.Null(first.MediaPath);
        Assert.Equal(("car", "bounding_box", """{"x":10,"y":20,"width":30,"height":40}"""), (first.Annotations[0].Label, first.Annotations[0].Type, first.Annotations[0].CoordinatesJson));
        Assert.Equal("say \"hi\", bye", JsonDocument.Parse(first.Annotations[0].AttributesJson!).RootElement.GetProperty("note").GetString());
        Assert.Equal("cuboid", first.Annotations[1].Type);
        Assert.Equal("bicycle", first.Annotations[1].Label);
        var second = dataset.Items[1];
        Assert.Equal((null, null, "{}", "https://example.com/b.jpg"), (second.Width, second.Height, second.MetadataJson, second.MediaUrl));
        Assert.Equal(new ImportedAnnotation("person", "classification", null, "{}"), Assert.Single(second.Annotations));
        Assert.Empty(dataset.Skipped);
    }

    [Fact]
    public void ColumnsMayComeInAnyOrderAndOnlyTheAnnotationOnesAreRequired()
    {
        var dataset = Read("type,coordinates,label,ref_id\npolyline,\"{\"\"vertices\"\":[[1,1],[20,30]]}\",road,a\n");

        var item = Assert.Single(dataset.Items);
        Assert.Equal(("a", (int?)null), (item.RefId, item.Width));
        Assert.Equal(new ImportedAnnotation("road", "polyline", """{"vertices":[[1,1],[20,30]]}""", "{}"), Assert.Single(item.Annotations));
    }

    [Theory]
    [InlineData("item_uid,ref_id,label,type,coordinates,colour\r\n", 1, "unknown column \"colour\"; the columns are item_uid, ref_id, split, image_width, image_height, media_url, label, class_index, type, bbox_x, bbox_y, bbox_width, bbox_height, coordinates, attributes")]
    [InlineData("ref_id,label,type,label,coordinates\r\n", 1, "the column \"label\" appears twice")]
    [InlineData("ref_id,label,type\r\n", 1, "the column \"coordinates\" is missing")]
    [InlineData("ref_id,label,type,coordinates\r\na,car,bounding_box,\"{\"\"x\"\":1}\r\nb,car,classification,\r\n", 2, "field 4: the quote opened on this line is never closed")]
    [InlineData("ref_id,label,type,coordinates\r\na,car,bounding_box,\"{}\"x\r\n", 2, "field 4: expected a comma or the end of the line after the closing quote, found 'x'")]
    [InlineData("ref_id,label,type,coordinates\r\na,car,bounding_box,{\"x\":1}\r\n", 2, "field 4: a quote inside a field must be in a quoted field, doubled")]
    [InlineData("ref_id,label,type,coordinates\r\na,car,classification,\r\nb,car,bounding_box,\"{\"\"x\"\":\r\n1,}\"\r\n", 3, "coordinates: not valid JSON: The JSON object contains a trailing comma at the end which is not supported in this mode")]
    [InlineData("ref_id,label,type,coordinates\r\na,car,bounding_box,\"{\"\"x\"\":1,\"\"y\"\":1,\"\"width\"\":0,\"\"height\"\":1}\"\r\n", 2, "coordinates.width: Ensure this value is greater than 0.")]
    [InlineData("ref_id,label,type,coordinates\r\na,car,ellipse,{}\r\n", 2, "type: \"ellipse\" is not a valid choice.")]
    [InlineData("ref_id,label,type,coordinates,attributes\r\na,car,classification,,[1]\r\n", 2, "attributes: Expected a dictionary of items but got type \"list\".")]
    [InlineData("ref_id,label,type,coordinates\r\na,car,classification\r\n", 2, "expected 4 fields as in the header, found 3")]
    [InlineData("ref_id,label,type,coordinates\r\n,car,classification,\r\n", 2, "ref_id: blank")]
    [InlineData("ref_id,image_width,label,type,coordinates\r\na,wide,car,classification,\r\n", 2, "image_width \"wide\" is not a positive whole number")]
    [InlineData("ref_id,image_width,label,type,coordinates\r\na,10,car,classification,\r\na,20,car,classification,\r\n", 3, "item a: image_width is \"20\" here but \"10\" on line 2")]
    [InlineData("ref_id,label,class_index,type,coordinates\r\na,car,0,classification,\r\na,bus,0,classification,\r\n", 3, "class_index 0 is \"bus\" here but \"car\" on line 2")]
    [InlineData("ref_id,label,class_index,type,coordinates\r\na,car,0,classification,\r\na,car,1,classification,\r\n", 3, "the class_index of \"car\" is 1 here but 0 on line 2")]
    [InlineData("item_uid,ref_id,label,type,coordinates\r\nu1,a,car,classification,\r\nu2,b,car,classification,\r\nu3,a,car,classification,\r\n", 4, "ref_id \"a\" is also the ref_id of another item on line 2; a dataset holds each ref_id once")]
    public void MalformedInputSaysFileLineAndReason(string csv, int line, string reason)
    {
        var error = Assert.Throws<ImportException>(() => Read(csv));

        Assert.Equal(("annotations.csv", line, reason), (error.File, error.Line, error.Reason));
        Assert.Equal($"annotations.csv:{line}: {reason}", error.Message);

        // Streamed, the first pass finds the same fault before any item is handed out.
        var path = TempFile(Encoding.UTF8.GetBytes(csv));
        try
        {
            var streamed = Assert.Throws<ImportException>(() => CsvImporter.OpenStreamed(path, "annotations.csv"));
            Assert.Equal(error.Message, streamed.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string> StreamedFiles => new()
    {
        // Every column, quoted cells with line breaks, the formula guard, an item without sizes.
        (Header + "\n" + """"
            u1,frame_001,val,640,480,,car,0,bounding_box,10,20,30,40,"{""x"":10,""y"":20,""width"":30,""height"":40}","{""note"":""say \""hi\"", bye""}"
            u1,frame_001,val,640,480,,bicycle,,cuboid,,,,,"{""center"":{""x"":1,""y"":2,""z"":3},""dimensions"":{""length"":4,""width"":2,""height"":1.5},""rotation"":{""yaw"":0.1,""pitch"":0,""roll"":0}}",{}
            u2,"'=SUM(A1),
            ""2""",,,,https://example.com/b.jpg,person,1,classification,,,,,,{}
            """").ReplaceLineEndings("\r\n"),
        // An item's records apart: the items still come in the order they first appear.
        "ref_id,label,type,coordinates\na,car,classification,\nb,bus,classification,\nc,car,classification,\na,bus,classification,\n\nb,car,classification,\n",
        // Keyed by item_uid, one ref_id per item.
        "item_uid,ref_id,label,type,coordinates\r\nu2,b,car,classification,\r\nu1,a,car,classification,\r\nu2,b,car,classification,\r\n",
    };

    [Theory]
    [MemberData(nameof(StreamedFiles))]
    public void A_streamed_read_gives_the_items_the_whole_file_reader_gives(string csv)
    {
        AssertStreamedSame(Encoding.UTF8.GetBytes(csv), "annotations.csv");
    }

    [Fact]
    public async Task A_streamed_read_of_an_export_zip_gives_the_items_the_whole_file_reader_gives()
    {
        var (archive, _) = await WriteAsync(EdgeCaseDataset.Classes, RoundTripItems());

        AssertStreamedSame(archive, "export.zip");
    }

    [Fact]
    public void A_streamed_read_hands_out_items_before_the_file_is_read_to_its_end()
    {
        var csv = new StringBuilder("ref_id,label,type,coordinates\n");
        const int Items = 20_000;
        for (var i = 0; i < Items; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"img{i},car,bounding_box,\"{{\"\"x\"\":1,\"\"y\"\":2,\"\"width\"\":3,\"\"height\"\":4}}\"\n");
        }

        var path = TempFile(Encoding.UTF8.GetBytes(csv.ToString()));
        try
        {
            using var import = CsvImporter.OpenStreamed(path, "annotations.csv");
            Assert.Equal((Items, 20_000L), (import.ItemCount, import.AnnotationCount));
            var seen = 0;
            foreach (var item in import.ReadItems())
            {
                Assert.Equal("img" + seen.ToString(System.Globalization.CultureInfo.InvariantCulture), item.RefId);
                Assert.Equal("""{"x":1,"y":2,"width":3,"height":4}""", Assert.Single(item.Annotations).CoordinatesJson);
                seen++;
            }

            Assert.Equal(Items, seen);
            Assert.Throws<InvalidOperationException>(() => import.ReadItems().First());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertStreamedSame(byte[] content, string fileName)
    {
        var whole = CsvImporter.Read(new MemoryStream(content), fileName);
        var path = TempFile(content);
        try
        {
            using var import = CsvImporter.OpenStreamed(path, fileName);
            var streamed = new ImportedDataset(import.Labels, [.. import.ReadItems()]) { Skipped = import.Skipped };
            Assert.Equal(Canonical(whole), Canonical(streamed));
            Assert.Equal(whole.Items.Count, import.ItemCount);
            Assert.Equal(whole.Items.Sum(i => i.Annotations.Count), import.AnnotationCount);
            Assert.Equal(whole.Items.SelectMany(i => i.Annotations).Select(a => a.Label).ToHashSet(), import.UsedLabels.ToHashSet());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Canonical(ImportedDataset dataset) => JsonSerializer.Serialize(new
    {
        labels = dataset.Labels.Select(l => new { l.Name, l.Color, l.Keypoints, l.Skeleton }),
        items = dataset.Items.Select(i => new { i.RefId, i.Width, i.Height, i.MetadataJson, i.MediaPath, i.MediaUrl, i.Annotations }),
        skipped = dataset.Skipped.Select(s => s.ToString()),
    });

    private static string TempFile(byte[] content)
    {
        var path = Path.Combine(Path.GetTempPath(), "annex-csv-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public void AnEmptyFileHasNoHeader()
    {
        var error = Assert.Throws<ImportException>(() => Read(""));

        Assert.Equal("annotations.csv: empty: expected a header row naming the columns", error.Message);
    }

    [Fact]
    public void AZipWithoutACsvIsRefused()
    {
        using var archive = new MemoryStream();
        using (var zip = new ZipArchive(archive, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntry("export.json");
        }

        archive.Position = 0;
        var error = Assert.Throws<ImportException>(() => CsvImporter.Read(archive, "export.zip"));

        Assert.Equal("export.zip: the archive holds no CSV file (expected annotations.csv)", error.Message);
    }

    [Fact]
    public async Task Export_import_export_gives_the_same_file()
    {
        var items = RoundTripItems();
        var (archive, _) = await WriteAsync(EdgeCaseDataset.Classes, items);
        var before = Entry(archive);

        var imported = CsvImporter.Read(new MemoryStream(archive), "export.zip");

        // The server gives imported items new uids; written again under the uids they had, the file is the same.
        var uids = items.Where(i => i.Annotations.Count > 0).Select(i => i.Uid).ToList();
        Assert.Equal(uids.Count, imported.Items.Count);
        var classes = new ClassList([imported.Labels.Select(l => new LabelRecord(l.Name, "#000000", null, null, null))]);
        var again = imported.Items.Select((item, index) => new TrainingItem(
            uids[index], item.RefId, item.MetadataJson, item.Width, item.Height, item.MediaUrl,
            [.. item.Annotations.Select(a => Stored(a.Label, a.Type, a.CoordinatesJson, a.AttributesJson))])).ToList();
        var (output, report) = await WriteAsync(classes, again);

        Assert.Equal(before, Entry(output));
        Assert.Equal(before.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length - 1, report.AnnotationsWritten);
    }

    /// <summary>
    /// The edge-case dataset as the server would hold it: only annotations the validator accepts (no zero-area box),
    /// in its canonical form, labels all in the taxonomy and ref_ids unique; plus text that needs quoting or the
    /// formula guard.
    /// </summary>
    private static List<TrainingItem> RoundTripItems()
    {
        var taxonomy = EdgeCaseDataset.Classes.Labels.Select(l => l.Name).ToHashSet();
        var items = EdgeCaseDataset.Items().Select(pair => pair.Item).Select((item, index) => item with
        {
            RefId = index == 1 ? "scene/b.jpg" : item.RefId,
            Annotations = [.. item.Annotations.Where(a => taxonomy.Contains(a.Label) && Valid(a)).Select(a => Stored(a.Label, a.Type, a.CoordinatesJson, a.AttributesJson))],
        }).ToList();
        items.Add(new TrainingItem(new Guid("00000000-0000-0000-0000-000000000009"), "=HYPERLINK(\"x\"), \"quoted\"\nline", """{"split":"val"}""", 64, 48, null,
        [
            Stored("sign: \"stop\"", "bounding_box", """{"x":1.25,"y":2,"width":3,"height":4,"rotation":0.5}""", """{"note":"say \"hi\",\nthen, go","n":[1,2.5]}"""),
            Stored("person", "keypoints", """{"points":[{"x":1,"y":2,"label":"nose","visible":true},{"x":3,"y":4}]}""", "{}"),
        ]));
        return items;
    }

    private static bool Valid(StoredAnnotation annotation) =>
        Canonical(annotation.Label, annotation.Type, annotation.CoordinatesJson, annotation.AttributesJson, out _) is not null;

    private static StoredAnnotation Stored(string label, string type, string? coordinates, string? attributes) =>
        EdgeCaseDataset.Annotation(Canonical(label, type, coordinates, attributes, out var errors) ?? throw new Xunit.Sdk.XunitException(string.Join("; ", errors)));

    private static string? Canonical(string label, string type, string? coordinates, string? attributes, out List<FieldError> errors)
    {
        var json = $$"""{"label":{{JsonSerializer.Serialize(label)}},"type":"{{type}}","coordinates":{{coordinates ?? "null"}},"attributes":{{attributes ?? "{}"}}}""";
        using var document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        errors = [];
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (!AnnotationValidator.TryWriteCanonical(document.RootElement, _ => true, writer, errors))
            {
                return null;
            }
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static async Task<(byte[] Archive, ExportReport Report)> WriteAsync(ClassList classes, IEnumerable<TrainingItem> items)
    {
        var output = new MemoryStream();
        var report = new ExportReport("CSV");
        await using (var writer = new CsvArchiveWriter(new TrainingArchiveSettings(output, classes, report, DateTime.UnixEpoch.AddYears(20), CompressionLevel.Fastest)))
        {
            foreach (var item in items)
            {
                await writer.WriteItemAsync(item, null, CancellationToken.None);
            }

            await writer.CompleteAsync(CancellationToken.None);
        }

        return (output.ToArray(), report);
    }

    private static string Entry(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive));
        using var reader = new StreamReader(zip.GetEntry(CsvArchiveWriter.EntryName)!.Open());
        return reader.ReadToEnd();
    }

    private static ImportedDataset Read(string csv) => CsvImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "annotations.csv");
}
