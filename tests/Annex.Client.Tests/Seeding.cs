using System.Globalization;
using System.Text.Json;

namespace Annex.Client.Tests;

/// <summary>Data put in through the client itself.</summary>
public static class Seeding
{
    public static readonly ProjectLabel[] Labels = [new("car", "#FF0000"), new("pedestrian", "#00FF00")];

    /// <summary>A dataset of <paramref name="items"/> items and a project with <paramref name="boxesPerItem"/> boxes on each.</summary>
    public static async Task<(Dataset Dataset, Project Project, IReadOnlyList<DatasetItem> Items)> DetectionAsync(AnnexClient client, int items, int boxesPerItem = 1)
    {
        var dataset = await client.CreateDatasetAsync("Highway");
        var created = new List<DatasetItem>();
        foreach (var chunk in Enumerable.Range(1, items).Chunk(AnnexClient.MaxItemsPerRequest))
        {
            var batch = chunk.Select(n => new NewDatasetItem(
                $"frame_{n.ToString("D5", CultureInfo.InvariantCulture)}",
                1920,
                1080,
                JsonSerializer.SerializeToElement(new { index = n, weather = n % 2 == 0 ? "rain" : "sun" }))).ToList();
            created.AddRange((await client.CreateItemsAsync(dataset.Uid, batch)).Items);
        }

        var project = await client.CreateProjectAsync("Detection", Labels);
        foreach (var chunk in created.Chunk(AnnexClient.MaxResultsPerRequest))
        {
            var results = chunk.Select((item, i) => new NewAnnotationResult(
                item.Uid,
                [.. Enumerable.Range(0, boxesPerItem).Select(b => Box(i % 2 == 0 ? "car" : "pedestrian", 10 + b, 20 + b, 100, 50))])).ToList();
            await client.UpsertResultsAsync(project.Uid, results);
        }

        return (dataset, project, created);
    }

    public static Annotation Box(string label, double x, double y, double width, double height) =>
        new(label, "bounding_box", JsonSerializer.SerializeToElement(new { x, y, width, height }), JsonSerializer.SerializeToElement(new { occluded = false }));

    public static CreateExportRequest ExportOf(Dataset dataset, string format = "avala-json-external") =>
        new("Training set", format, [dataset.Uid], [], []);
}
