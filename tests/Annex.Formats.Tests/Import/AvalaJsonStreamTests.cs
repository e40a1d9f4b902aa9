using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Annex.Formats.Import;
using Xunit;

namespace Annex.Formats.Tests.Import;

/// <summary>The streamed avala-json-external read: everything arrives, whatever the order of the document, and a
/// faulty document is refused with the message the schema check gives.</summary>
public sealed class AvalaJsonStreamTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("annex-avala-stream-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>What the generated document holds: per item in document order, its ref_id, uid and boxes (label, x, y, w, h).</summary>
    private sealed record Expected(string RefId, Guid Uid, int? Width, string Metadata, List<(string Label, int X, int Y, int W, int H)> Boxes);

    private static readonly string[] Labels = ["car", "truck", "person", "bicycle"];

    /// <summary>Writes a document with the server's writer: two datasets, two projects, and results that are mostly in
    /// item order, with some blocks of results written out of order and some items with a result in each project.</summary>
    private static async Task<List<Expected>> WriteAsync(Stream output, int items)
    {
        var random = new Random(items);
        var projects = new[] { Guid.NewGuid(), Guid.NewGuid() };
        var expected = new List<Expected>();
        await using var writer = new AvalaJsonWriter(output, new ExportInfo("large", DateTime.UtcNow, "avala-json-external", null));
        writer.BeginDatasets();
        for (var d = 0; d < 2; d++)
        {
            writer.BeginDataset(new DatasetHeader(Guid.NewGuid(), $"part {d}"));
            for (var i = d * (items / 2); i < (d + 1) * (items / 2); i++)
            {
                var refId = string.Create(CultureInfo.InvariantCulture, $"frame_{i:D6}");
                var metadata = string.Create(CultureInfo.InvariantCulture, $$"""{"index":{{i}}}""");
                int? width = i % 7 == 0 ? null : 1920;
                var item = new Expected(refId, Guid.NewGuid(), width, metadata, []);
                writer.WriteItem(new ItemRecord(item.Uid, refId, metadata, width, width is null ? null : 1080, null));
                expected.Add(item);
            }

            writer.EndDataset();
        }

        writer.EndDatasets();
        writer.WriteProjects(projects.Select((uid, p) => new ProjectRecord(uid, $"project {p}", [.. Labels.Select(l => new LabelRecord(l, "#112233", null, null, null))])));

        // Results: one per item in the first project (some empty), a second one in the other project for every tenth
        // item; each block of 500 items is written in reverse when its number is odd.
        var results = new List<(Guid Item, Guid Project, List<(string, int, int, int, int)> Boxes)>();
        foreach (var block in Enumerable.Range(0, expected.Count).Chunk(500).Select((chunk, n) => n % 2 == 1 ? chunk.Reverse() : chunk))
        {
            foreach (var index in block)
            {
                var item = expected[index];
                foreach (var project in index % 10 == 0 ? projects : projects[..1])
                {
                    var boxes = Enumerable.Range(0, random.Next(0, 5))
                        .Select(_ => (Labels[random.Next(Labels.Length)], random.Next(0, 1800), random.Next(0, 1000), random.Next(1, 100), random.Next(1, 80)))
                        .ToList();
                    results.Add((item.Uid, project, boxes));
                }
            }
        }

        var byUid = expected.ToDictionary(e => e.Uid);
        writer.BeginResults();
        foreach (var (itemUid, project, boxes) in results)
        {
            var json = "[" + string.Join(",", boxes.Select(b => string.Create(CultureInfo.InvariantCulture,
                $$$"""{"label":"{{{b.Item1}}}","type":"bounding_box","coordinates":{"x":{{{b.Item2}}},"y":{{{b.Item3}}},"width":{{{b.Item4}}},"height":{{{b.Item5}}}},"attributes":{}}"""))) + "]";
            writer.WriteResult(new ResultRecord(Guid.NewGuid(), itemUid, project, json));
            byUid[itemUid].Boxes.AddRange(boxes);
        }

        writer.EndResults();
        await writer.CompleteAsync(CancellationToken.None);
        return expected;
    }

    private static void AssertArrived(List<Expected> expected, StreamedImport import)
    {
        Assert.Equal(expected.Count, import.ItemCount);
        Assert.Equal(expected.Sum(e => e.Boxes.Count), import.AnnotationCount);
        Assert.Equal(Labels, import.Labels.Select(l => l.Name));
        var items = import.ReadItems().ToList();
        Assert.Equal(expected.Select(e => e.RefId), items.Select(i => i.RefId));
        for (var i = 0; i < items.Count; i++)
        {
            Assert.Equal(expected[i].Width, items[i].Width);
            Assert.Equal(expected[i].Metadata, items[i].MetadataJson);
            var boxes = items[i].Annotations.Select(a =>
            {
                using var coordinates = JsonDocument.Parse(a.CoordinatesJson!);
                var c = coordinates.RootElement;
                return (a.Label, c.GetProperty("x").GetInt32(), c.GetProperty("y").GetInt32(), c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32());
            });
            Assert.Equal(expected[i].Boxes, boxes);
        }
    }

    [Fact]
    public async Task ALargeDocumentArrivesWhole()
    {
        var path = Path.Combine(_folder, "large.json");
        List<Expected> expected;
        await using (var file = File.Create(path))
        {
            expected = await WriteAsync(file, 40_000);
        }

        // Larger than the reader's buffer many times over, so every element is read across buffer ends.
        Assert.True(new FileInfo(path).Length > 20 * 256 * 1024);
        using var import = AvalaJsonImporter.OpenStreamed(path);
        AssertArrived(expected, import);
    }

    [Fact]
    public async Task AZippedDocumentArrivesWhole()
    {
        var path = Path.Combine(_folder, "large.zip");
        List<Expected> expected;
        await using (var file = File.Create(path))
        using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            await using var entry = zip.CreateEntry("export.json").Open();
            expected = await WriteAsync(entry, 6_000);
        }

        using var import = AvalaJsonImporter.OpenStreamed(path);
        AssertArrived(expected, import);
    }

    private const string Info = """
        "export_info":{"name":"x","created_at":"2025-01-01T00:00:00Z","format":"avala-json-external","filter_query_string":null}
        """;

    private const string Datasets = """
        "datasets":[{"uid":"d","name":"d","items":[
          {"uid":"i1","ref_id":"a","metadata":{},"width":10,"height":10,"media_url":null},
          {"uid":"i2","ref_id":"b","metadata":{"k":1},"width":10,"height":10,"media_url":null}]}]
        """;

    private const string Projects = """
        "projects":[{"uid":"p","name":"p","labels":[{"name":"car","color":"#00FF00"}]}]
        """;

    private const string Results = """
        "results":[
          {"uid":"r2","dataset_item_uid":"i2","project_uid":"p","annotations":[{"label":"car","type":"bounding_box","coordinates":{"x":1,"y":1,"width":2,"height":2},"attributes":{}}]},
          {"uid":"r1","dataset_item_uid":"i1","project_uid":"p","annotations":[{"label":"car","type":"bounding_box","coordinates":{"x":3,"y":3,"width":4,"height":4},"attributes":{}}]}]
        """;

    [Fact]
    public void ResultsWrittenBeforeWhatTheyReferToAreJoined()
    {
        var json = $$"""{{{Results}},{{Projects}},"scheme_version":"1.0",{{Info}},{{Datasets}}}""";
        var path = Path.Combine(_folder, "results-first.json");
        File.WriteAllText(path, json);

        using var import = AvalaJsonImporter.OpenStreamed(path);
        var items = import.ReadItems().ToList();

        Assert.Equal(["a", "b"], items.Select(i => i.RefId));
        Assert.Equal("""{"x":3,"y":3,"width":4,"height":4}""", Assert.Single(items[0].Annotations).CoordinatesJson);
        Assert.Equal("""{"x":1,"y":1,"width":2,"height":2}""", Assert.Single(items[1].Annotations).CoordinatesJson);
        Assert.Equal(["car"], import.UsedLabels);
    }

    [Fact]
    public void AByteOrderMarkIsSkippedAsBefore()
    {
        var json = $$"""{"scheme_version":"1.0",{{Info}},{{Datasets}},{{Projects}},{{Results}}}""";
        var path = Path.Combine(_folder, "bom.json");
        File.WriteAllText(path, json, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(0xEF, File.ReadAllBytes(path)[0]);

        using var import = AvalaJsonImporter.OpenStreamed(path);

        Assert.Equal(["a", "b"], import.ReadItems().Select(i => i.RefId));
    }

    /// <summary>Item uids of every form: GUIDs in lowercase (one of them all zeros), the uppercase form of a lowercase
    /// one used too (another uid), GUIDs in braces and plain names; more items than the uid table starts with.</summary>
    private static List<string> MixedUids(int count)
    {
        var random = new Random(count);
        var uids = new List<string>();
        while (uids.Count < count)
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            var guid = new Guid(bytes).ToString();
            uids.Add(uids.Count == 203 ? Guid.Empty.ToString() : (uids.Count % 4) switch
            {
                0 => guid,
                1 => uids[^1].ToUpperInvariant(),
                2 => "{" + guid + "}",
                _ => string.Create(CultureInfo.InvariantCulture, $"item-{uids.Count}"),
            });
        }

        return uids;
    }

    private static string MixedDocument(List<string> uids)
    {
        var items = uids.Select((uid, i) => string.Create(CultureInfo.InvariantCulture,
            $$"""{"uid":"{{uid}}","ref_id":"r{{i}}","metadata":{},"width":10,"height":10,"media_url":null}"""));

        // Item i has i % 3 results, written from the last item to the first.
        var results = uids.Select((uid, i) => (uid, i)).Reverse().SelectMany(e => Enumerable.Range(0, e.i % 3).Select(r => string.Create(CultureInfo.InvariantCulture,
            $$$"""{"uid":"r{{{e.i}}}-{{{r}}}","dataset_item_uid":"{{{e.uid}}}","project_uid":"p","annotations":[{"label":"car","type":"bounding_box","coordinates":{"x":{{{e.i}}},"y":{{{r}}},"width":2,"height":2},"attributes":{}}]}""")));
        return $$"""{"scheme_version":"1.0",{{Info}},"datasets":[{"uid":"d","name":"d","items":[{{string.Join(",", items)}}]}],{{Projects}},"results":[{{string.Join(",", results)}}]}""";
    }

    [Fact]
    public void ItemUidsOfEveryFormAreJoinedAsTheWholeReadJoinsThem()
    {
        var json = MixedDocument(MixedUids(1_000));
        var path = Path.Combine(_folder, "mixed-uids.json");
        File.WriteAllText(path, json);

        using var import = AvalaJsonImporter.OpenStreamed(path);
        var streamed = import.ReadItems().ToList();
        var whole = AvalaJsonImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(json))).Items;

        Assert.Equal(1_000, streamed.Count);
        Assert.Equal(whole.Select(i => i.RefId), streamed.Select(i => i.RefId));
        Assert.Equal(whole.Select(i => i.Annotations.Select(a => a.CoordinatesJson)), streamed.Select(i => i.Annotations.Select(a => a.CoordinatesJson)));
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => i % 3), streamed.Select(i => i.Annotations.Count));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(203)]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(402)]
    [InlineData(403)]
    public void ADuplicateItemUidOfAnyFormIsFound(int duplicated)
    {
        var uids = MixedUids(600);
        uids.Add(uids[duplicated]);
        using var document = JsonDocument.Parse(MixedDocument(uids));

        var violation = Assert.Single(AvalaJsonSchema.Validate(document));

        Assert.Equal($"$.datasets[0].items[600].uid: duplicate item uid \"{uids[duplicated]}\"", violation);
    }

    public static TheoryData<string> FaultyDocuments() => new()
    {
        $$"""{{{Datasets}},{{Projects}},{{Results}}}""",
        $$"""{"scheme_version":1,{{Info}},{{Datasets.Replace("\"uid\":\"i2\"", "\"uid\":\"i1\"", StringComparison.Ordinal)}},{{Projects}},{{Results}}}""",
        $$"""{{{Results.Replace("\"i2\"", "\"i9\"", StringComparison.Ordinal)}},"scheme_version":"1.0",{{Info}},{{Datasets}},{{Projects}}}""",
        $$"""{"scheme_version":"1.0",{{Info}},"datasets":[{"items":[{"uid":"i1"},7],"name":3},"x"],{{Projects.Replace("#00FF00", "green", StringComparison.Ordinal)}},{{Results}}}""",
        $$"""{"scheme_version":"1.0",{{Info}},"datasets":{},"projects":[5],{{Results.Replace("\"car\"", "\"bus\"", StringComparison.Ordinal)}}}""",
        """[1, 2]""",
    };

    [Theory]
    [MemberData(nameof(FaultyDocuments))]
    public void AFaultyDocumentIsRefusedWithTheSchemasMessage(string json)
    {
        using var document = JsonDocument.Parse(json);
        var violations = AvalaJsonSchema.Validate(document);
        Assert.NotEmpty(violations);
        var expected = violations[0] + (violations.Count > 1 ? $" (and {violations.Count - 1} more)" : "");
        var path = Path.Combine(_folder, "faulty.json");
        File.WriteAllText(path, json);

        var streamed = Assert.Throws<ImportException>(() => AvalaJsonImporter.OpenStreamed(path));
        var whole = Assert.Throws<ImportException>(() => AvalaJsonImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(json))));

        Assert.Equal(expected, streamed.Reason);
        Assert.Equal(expected, whole.Reason);
    }
}
