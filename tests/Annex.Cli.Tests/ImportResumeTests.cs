using System.Globalization;
using System.Text;
using Annex.Client;
using Xunit;

namespace Annex.Cli.Tests;

/// <summary>An import that stopped half-way is finished by running the same command again: nothing twice, nothing lost.</summary>
public sealed class ImportResumeTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private static string Coco(int images, bool brokenAtTheEnd)
    {
        var json = new StringBuilder("""{"categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}], "images": [""");
        json.AppendJoin(", ", Enumerable.Range(1, images).Select(i => string.Create(CultureInfo.InvariantCulture, $$"""{"id": {{i}}, "file_name": "img/{{i:D4}}.jpg", "width": 640, "height": 480}""")));
        json.Append("], \"annotations\": [");
        var annotations = Enumerable.Range(1, images).SelectMany(i => Enumerable.Range(0, 2).Select(b => string.Create(CultureInfo.InvariantCulture,
            $$"""{"id": {{i * 10 + b}}, "image_id": {{i}}, "category_id": {{1 + b}}, "bbox": [{{b}}, 2, 30, 40], "iscrowd": 0}"""))).ToList();
        if (brokenAtTheEnd)
        {
            // The file was cut short of its last image's second object, which names an image that is not there.
            annotations[^1] = """{"id": 99999, "image_id": 123456, "category_id": 1, "bbox": [1, 2, 3, 4]}""";
        }

        json.AppendJoin(", ", annotations).Append("]}");
        return json.ToString();
    }

    [Fact]
    public async Task Running_a_failed_import_again_finishes_it_without_duplicates()
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        const int Images = 50;
        await File.WriteAllTextAsync(Path.Combine(folder, "instances_train.json"), Coco(Images, brokenAtTheEnd: true));

        // Batches of 7 items, two in flight: the batches before the broken annotation are stored, then the import fails.
        var failed = await cli.RunAsync("datasets", "import", "instances_train.json", "--name", "Resumable", "--batch-size", "7", "--parallel", "2");
        Assert.True(failed.ExitCode == ExitCodes.Failed, failed.ToString());
        Assert.Contains("no image has id 123456", failed.Error, StringComparison.Ordinal);

        using var client = new AnnexClient(cli.Server.Address, cli.Key);
        var dataset = Assert.Single(await client.ListDatasetsAsync().ToListAsync());
        var project = Assert.Single(await client.ListProjectsAsync().ToListAsync());
        var storedBefore = await client.ListItemsAsync(dataset.Uid).ToListAsync();
        Assert.InRange(storedBefore.Count, 7, Images - 1);

        // The same command on the repaired file continues in the same dataset and project.
        await File.WriteAllTextAsync(Path.Combine(folder, "instances_train.json"), Coco(Images, brokenAtTheEnd: false));
        var resumed = await cli.RunAsync("datasets", "import", "instances_train.json", "--name", "Resumable", "--batch-size", "7", "--parallel", "2", "--json");
        Assert.True(resumed.ExitCode == ExitCodes.Done, resumed.ToString());
        var summary = resumed.Json();
        Assert.Equal(dataset.Uid.ToString(), summary.GetProperty("dataset_uid").GetString());
        Assert.Equal(project.Uid.ToString(), summary.GetProperty("project_uid").GetString());
        Assert.Equal(Images, summary.GetProperty("items").GetInt32());
        Assert.Equal(storedBefore.Count, summary.GetProperty("items_skipped").GetInt32());

        var items = await client.ListItemsAsync(dataset.Uid).ToListAsync();
        Assert.Equal(Images, items.Count);
        Assert.Equal(Images, items.Select(i => i.RefId).Distinct().Count());
        Assert.Equal(Images, (await client.GetDatasetAsync(dataset.Uid)).ItemCount);

        // Items stored by the first run keep their uids; every item has one result with both boxes.
        Assert.All(storedBefore, before => Assert.Contains(items, i => i.Uid == before.Uid && i.RefId == before.RefId));
        var results = await client.ListResultsAsync(project.Uid).ToListAsync();
        Assert.Equal(Images, results.Count);
        Assert.All(results, r => Assert.Equal(2, r.AnnotationCount));
        Assert.Single(await client.ListDatasetsAsync().ToListAsync());
        Assert.Single(await client.ListProjectsAsync().ToListAsync());

        // A third run finds everything in place.
        var third = await cli.RunAsync("datasets", "import", "instances_train.json", "--name", "Resumable", "--json");
        Assert.True(third.ExitCode == ExitCodes.Done, third.ToString());
        Assert.Equal(Images, third.Json().GetProperty("items_skipped").GetInt32());
        Assert.Equal(Images, third.Json().GetProperty("results_skipped").GetInt32());
        Assert.Equal(Images, (await client.ListItemsAsync(dataset.Uid).ToListAsync()).Count);
    }
}
