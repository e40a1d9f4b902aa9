using System.IO.Compression;
using System.Text;
using Annex.Formats.Import;
using Xunit;

namespace Annex.Formats.Tests.Import;

public class AvalaJsonImporterTests
{
    [Fact]
    public async Task ReadsTheDocumentTheWriterWrites()
    {
        var dataset = AvalaJsonImporter.Read(new MemoryStream(await SampleExport.WriteAsync()));

        Assert.Equal(["car", "person"], dataset.Labels.Select(l => l.Name));
        Assert.Equal("#FF0000", dataset.Labels[0].Color);
        Assert.Equal(["head", "hip"], dataset.Labels[1].Keypoints!);
        Assert.Equal([[0, 1]], dataset.Labels[1].Skeleton!);

        var item = Assert.Single(dataset.Items);
        Assert.Equal("frame_001", item.RefId);
        Assert.Equal((1920, 1080), (item.Width, item.Height));
        Assert.Equal("""{"camera":"front"}""", item.MetadataJson);
        Assert.Null(item.MediaPath);
        var annotation = Assert.Single(item.Annotations);
        Assert.Equal(
            new ImportedAnnotation("car", "bounding_box", """{"x":100,"y":200,"width":150,"height":80}""", "{}"),
            annotation);
    }

    [Fact]
    public async Task ReadsTheZipArchiveTheServerWrites()
    {
        using var archive = new MemoryStream();
        using (var zip = new ZipArchive(archive, ZipArchiveMode.Create, leaveOpen: true))
        {
            await using var entry = zip.CreateEntry("export.json").Open();
            await entry.WriteAsync(await SampleExport.WriteAsync());
        }

        archive.Position = 0;
        var dataset = AvalaJsonImporter.Read(new NonSeekableStream(archive));

        Assert.Equal("frame_001", Assert.Single(dataset.Items).RefId);
        Assert.Single(dataset.Items[0].Annotations);
    }

    [Fact]
    public void KeepsTheMediaUrlAndClassifications()
    {
        const string json = """
            {"scheme_version":"1.0","export_info":{"name":"x","created_at":"2025-01-01T00:00:00Z","format":"avala-json-external","filter_query_string":null},
             "datasets":[{"uid":"d","name":"d","items":[{"uid":"i1","ref_id":"a","metadata":{},"width":null,"height":null,"media_url":"https://example.test/a.jpg"}]}],
             "projects":[{"uid":"p","name":"p","labels":[{"name":"sunny","color":"#00FF00"}]}],
             "results":[{"uid":"r","dataset_item_uid":"i1","project_uid":"p","annotations":[{"label":"sunny","type":"classification","coordinates":null,"attributes":{"score":1}}]}]}
            """;
        var item = Assert.Single(AvalaJsonImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(json))).Items);

        Assert.Equal("https://example.test/a.jpg", item.MediaUrl);
        Assert.Null(item.Width);
        Assert.Equal(new ImportedAnnotation("sunny", "classification", null, """{"score":1}"""), Assert.Single(item.Annotations));
    }

    [Fact]
    public void AnAnnotationTheServerWouldRefuseSaysWhere()
    {
        const string json = """
            {"scheme_version":"1.0","export_info":{"name":"x","created_at":"2025-01-01T00:00:00Z","format":"avala-json-external","filter_query_string":null},
             "datasets":[{"uid":"d","name":"d","items":[{"uid":"i1","ref_id":"a","metadata":{},"width":10,"height":10,"media_url":null}]}],
             "projects":[{"uid":"p","name":"p","labels":[{"name":"car","color":"#00FF00"}]}],
             "results":[{"uid":"r","dataset_item_uid":"i1","project_uid":"p","annotations":[{"label":"car","type":"bounding_box","coordinates":{"x":1,"y":1,"width":0,"height":2},"attributes":{}}]}]}
            """;
        var error = Assert.Throws<ImportException>(() => AvalaJsonImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(json))));

        Assert.Equal("export.json: $.results[0].annotations[0].coordinates.width: Ensure this value is greater than 0.", error.Message);
    }

    [Fact]
    public void ASchemaViolationSaysWhere()
    {
        const string json = """{"scheme_version":"1.0","datasets":[],"projects":[],"results":[]}""";
        var error = Assert.Throws<ImportException>(() => AvalaJsonImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(json))));

        Assert.Equal("export.json", error.File);
        Assert.Equal("$.export_info: missing", error.Reason);
    }

    [Fact]
    public void InvalidJsonGivesTheLine()
    {
        var error = Assert.Throws<ImportException>(() => AvalaJsonImporter.Read(new MemoryStream("{\n\"a\": tru\n}"u8.ToArray())));
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void AZipWithoutADocumentIsRefused()
    {
        using var archive = new MemoryStream();
        using (var zip = new ZipArchive(archive, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntry("readme.txt");
        }

        archive.Position = 0;
        var error = Assert.Throws<ImportException>(() => AvalaJsonImporter.Read(archive));
        Assert.Equal("archive: the archive holds no JSON document (expected export.json)", error.Message);
    }

    private sealed class NonSeekableStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
