using System.Text.Json;
using Xunit;

namespace Annex.Formats.Tests;

public class AvalaJsonWriterTests
{
    [Fact]
    public async Task WritesTheSampleStructure()
    {
        using var document = JsonDocument.Parse(await SampleExport.WriteAsync());
        var root = document.RootElement;

        Assert.Equal(
            ["scheme_version", "export_info", "datasets", "projects", "results"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("1.0", root.GetProperty("scheme_version").GetString());

        var info = root.GetProperty("export_info");
        Assert.Equal("Vehicles export", info.GetProperty("name").GetString());
        Assert.Equal("2025-01-21T10:00:00Z", info.GetProperty("created_at").GetString());
        Assert.Equal("avala-json-external", info.GetProperty("format").GetString());
        Assert.Equal(JsonValueKind.Null, info.GetProperty("filter_query_string").ValueKind);

        var dataset = Assert.Single(root.GetProperty("datasets").EnumerateArray());
        Assert.Equal("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", dataset.GetProperty("uid").GetString());
        Assert.Equal("Street scenes", dataset.GetProperty("name").GetString());
        var item = Assert.Single(dataset.GetProperty("items").EnumerateArray());
        Assert.Equal(
            ["uid", "ref_id", "metadata", "width", "height", "media_url"],
            item.EnumerateObject().Select(p => p.Name));
        Assert.Equal("11111111-2222-3333-4444-555555555555", item.GetProperty("uid").GetString());
        Assert.Equal("frame_001", item.GetProperty("ref_id").GetString());
        Assert.Equal("front", item.GetProperty("metadata").GetProperty("camera").GetString());
        Assert.Equal(1920, item.GetProperty("width").GetInt32());
        Assert.Equal(1080, item.GetProperty("height").GetInt32());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("media_url").ValueKind);

        var project = Assert.Single(root.GetProperty("projects").EnumerateArray());
        Assert.Equal("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", project.GetProperty("uid").GetString());
        Assert.Equal("Vehicle detection", project.GetProperty("name").GetString());
        var labels = project.GetProperty("labels").EnumerateArray().ToArray();
        Assert.Equal(2, labels.Length);
        Assert.Equal("""{"name":"car","color":"#FF0000"}""", labels[0].GetRawText());
        Assert.Equal(
            """{"name":"person","color":"#00ff00","attributes":[{"name":"pose","type":"select"}],"keypoints":["head","hip"],"skeleton":[[0,1]]}""",
            labels[1].GetRawText());

        var result = Assert.Single(root.GetProperty("results").EnumerateArray());
        Assert.Equal("99999999-8888-7777-6666-555555555555", result.GetProperty("uid").GetString());
        Assert.Equal("11111111-2222-3333-4444-555555555555", result.GetProperty("dataset_item_uid").GetString());
        Assert.Equal("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", result.GetProperty("project_uid").GetString());
        Assert.Equal(SampleExport.Annotations, result.GetProperty("annotations").GetRawText());

        Assert.Empty(AvalaJsonSchema.Validate(document));
    }

    [Fact]
    public async Task WritesFilterQueryStringAndNullItemFields()
    {
        using var output = new MemoryStream();
        var info = new ExportInfo("x", new DateTime(2025, 1, 21, 10, 0, 0, 500, DateTimeKind.Utc), "avala-json-external", "status=done");
        await using (var writer = new AvalaJsonWriter(output, info))
        {
            writer.BeginDatasets();
            writer.BeginDataset(new DatasetHeader(Guid.Empty, "d"));
            writer.WriteItem(new ItemRecord(Guid.Empty, "a", "{}", null, null, "https://example.test/a.jpg"));
            writer.EndDataset();
            writer.EndDatasets();
            writer.WriteProjects([]);
            writer.BeginResults();
            writer.EndResults();
            await writer.CompleteAsync(CancellationToken.None);
        }

        using var document = JsonDocument.Parse(output.ToArray());
        var root = document.RootElement;
        Assert.Equal("2025-01-21T10:00:00.5Z", root.GetProperty("export_info").GetProperty("created_at").GetString());
        Assert.Equal("status=done", root.GetProperty("export_info").GetProperty("filter_query_string").GetString());
        var item = root.GetProperty("datasets")[0].GetProperty("items")[0];
        Assert.Equal(
            """{"uid":"00000000-0000-0000-0000-000000000000","ref_id":"a","metadata":{},"width":null,"height":null,"media_url":"https://example.test/a.jpg"}""",
            item.GetRawText());
        Assert.Equal(0, root.GetProperty("results").GetArrayLength());
    }

    [Fact]
    public async Task OutputIsDeterministic()
    {
        var first = await SampleExport.WriteAsync();
        var second = await SampleExport.WriteAsync();
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task WritesNothingUntilFirstCall()
    {
        using var output = new MemoryStream();
        await using (new AvalaJsonWriter(output, SampleExport.Info))
        {
        }

        Assert.Equal(0, output.Length);
    }

    [Fact]
    public void RejectsNonUtcCreationTime() =>
        Assert.Throws<ArgumentException>(() => new AvalaJsonWriter(
            Stream.Null, SampleExport.Info with { CreatedAtUtc = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Local) }));

    public static TheoryData<string> OutOfOrderCalls() =>
    [
        "WriteItem before BeginDataset",
        "BeginDataset before BeginDatasets",
        "EndDatasets inside a dataset",
        "WriteProjects before EndDatasets",
        "BeginResults before WriteProjects",
        "WriteResult before BeginResults",
        "BeginDatasets twice",
        "EndResults twice",
    ];

    [Theory]
    [MemberData(nameof(OutOfOrderCalls))]
    public async Task EnforcesCallOrder(string scenario)
    {
        await using var writer = new AvalaJsonWriter(new MemoryStream(), SampleExport.Info);
        var item = new ItemRecord(Guid.Empty, "a", "{}", null, null, null);
        var dataset = new DatasetHeader(Guid.Empty, "d");
        var result = new ResultRecord(Guid.Empty, Guid.Empty, Guid.Empty, "[]");
        Action bad = scenario switch
        {
            "WriteItem before BeginDataset" => () =>
            {
                writer.BeginDatasets();
                writer.WriteItem(item);
            },
            "BeginDataset before BeginDatasets" => () => writer.BeginDataset(dataset),
            "EndDatasets inside a dataset" => () =>
            {
                writer.BeginDatasets();
                writer.BeginDataset(dataset);
                writer.EndDatasets();
            },
            "WriteProjects before EndDatasets" => () =>
            {
                writer.BeginDatasets();
                writer.WriteProjects([]);
            },
            "BeginResults before WriteProjects" => () =>
            {
                writer.BeginDatasets();
                writer.EndDatasets();
                writer.BeginResults();
            },
            "WriteResult before BeginResults" => () =>
            {
                writer.BeginDatasets();
                writer.EndDatasets();
                writer.WriteProjects([]);
                writer.WriteResult(result);
            },
            "BeginDatasets twice" => () =>
            {
                writer.BeginDatasets();
                writer.BeginDatasets();
            },
            "EndResults twice" => () =>
            {
                writer.BeginDatasets();
                writer.EndDatasets();
                writer.WriteProjects([]);
                writer.BeginResults();
                writer.EndResults();
                writer.EndResults();
            },
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        Assert.Throws<InvalidOperationException>(bad);
    }

    [Fact]
    public async Task CompleteThrowsWhenTheDocumentIsUnfinished()
    {
        await using var writer = new AvalaJsonWriter(new MemoryStream(), SampleExport.Info);
        writer.BeginDatasets();
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task CallsAfterDisposeThrow()
    {
        var writer = new AvalaJsonWriter(new MemoryStream(), SampleExport.Info);
        await writer.DisposeAsync();
        await writer.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(writer.BeginDatasets);
    }

    [Fact]
    public async Task RejectsSkeletonEdgesThatAreNotPairsBeforeWritingAnything()
    {
        using var output = new MemoryStream();
        await using (var writer = new AvalaJsonWriter(output, SampleExport.Info))
        {
            writer.BeginDatasets();
            writer.EndDatasets();
            var project = new ProjectRecord(Guid.Empty, "p", [new LabelRecord("a", "#000000", null, ["k"], [[0, 1, 2]])]);
            Assert.Throws<ArgumentException>(() => writer.WriteProjects([SampleExport.Project, project]));

            writer.WriteProjects([SampleExport.Project]);
            writer.BeginResults();
            writer.EndResults();
            await writer.CompleteAsync(CancellationToken.None);
        }

        using var document = JsonDocument.Parse(output.ToArray());
        Assert.Equal(1, document.RootElement.GetProperty("projects").GetArrayLength());
    }

    [Fact]
    public async Task StreamsManyItemsInBoundedChunks()
    {
        const int itemCount = 200_000;
        var output = new RecordingStream();
        await using (var writer = new AvalaJsonWriter(output, SampleExport.Info))
        {
            writer.BeginDatasets();
            writer.BeginDataset(new DatasetHeader(SampleExport.DatasetUid, "big"));
            for (var i = 0; i < itemCount; i++)
            {
                writer.WriteItem(new ItemRecord(
                    new Guid(i, 0, 0, new byte[8]), $"frame_{i:D6}", """{"index":1}""", 640, 480, null));
                await writer.FlushIfNeededAsync(CancellationToken.None);
            }

            writer.EndDataset();
            writer.EndDatasets();
            writer.WriteProjects([SampleExport.Project]);
            writer.BeginResults();
            writer.EndResults();
            await writer.CompleteAsync(CancellationToken.None);
        }

        // Each flush hands the stream at most the threshold plus one item, so the writer's buffer stays small.
        Assert.True(output.Writes > 100, $"only {output.Writes} writes");
        Assert.True(output.LargestWrite < 80 * 1024, $"largest write was {output.LargestWrite} bytes");

        output.Position = 0;
        using var document = await JsonDocument.ParseAsync(output);
        var items = document.RootElement.GetProperty("datasets")[0].GetProperty("items");
        Assert.Equal(itemCount, items.GetArrayLength());
        Assert.Equal("frame_199999", items[itemCount - 1].GetProperty("ref_id").GetString());
    }

    private sealed class RecordingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public int LargestWrite { get; private set; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Record(count);
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Record(buffer.Length);
            base.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Record(count);
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Record(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }

        private void Record(int count)
        {
            Writes++;
            LargestWrite = Math.Max(LargestWrite, count);
        }
    }
}
