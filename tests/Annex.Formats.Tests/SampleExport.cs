namespace Annex.Formats.Tests;

/// <summary>The seed's sample document, shared by writer and schema tests.</summary>
internal static class SampleExport
{
    public static readonly Guid DatasetUid = Guid.Parse("6F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9");
    public static readonly Guid ItemUid = Guid.Parse("11111111-2222-3333-4444-555555555555");
    public static readonly Guid ProjectUid = Guid.Parse("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE");
    public static readonly Guid ResultUid = Guid.Parse("99999999-8888-7777-6666-555555555555");

    public static readonly ExportInfo Info = new(
        "Vehicles export", new DateTime(2025, 1, 21, 10, 0, 0, DateTimeKind.Utc), "avala-json-external", null);

    public const string Annotations =
        """[{"label":"car","type":"bounding_box","coordinates":{"x":100,"y":200,"width":150,"height":80},"attributes":{}}]""";

    public static readonly ProjectRecord Project = new(
        ProjectUid,
        "Vehicle detection",
        [
            new LabelRecord("car", "#FF0000", null, null, null),
            new LabelRecord("person", "#00ff00", """[{"name":"pose","type":"select"}]""", ["head", "hip"], [[0, 1]]),
        ]);

    public static async Task<byte[]> WriteAsync()
    {
        using var output = new MemoryStream();
        await using (var writer = new AvalaJsonWriter(output, Info))
        {
            await WriteAsync(writer);
        }

        return output.ToArray();
    }

    public static async Task WriteAsync(AvalaJsonWriter writer)
    {
        writer.BeginDatasets();
        writer.BeginDataset(new DatasetHeader(DatasetUid, "Street scenes"));
        writer.WriteItem(new ItemRecord(ItemUid, "frame_001", """{"camera":"front"}""", 1920, 1080, null));
        writer.EndDataset();
        writer.EndDatasets();
        writer.WriteProjects([Project]);
        writer.BeginResults();
        writer.WriteResult(new ResultRecord(ResultUid, ItemUid, ProjectUid, Annotations));
        writer.EndResults();
        await writer.CompleteAsync(CancellationToken.None);
    }
}
