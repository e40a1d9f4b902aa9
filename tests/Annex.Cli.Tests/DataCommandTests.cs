using Xunit;

namespace Annex.Cli.Tests;

public sealed class DataCommandTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    [Theory]
    [InlineData("datasets")]
    [InlineData("projects")]
    [InlineData("slices")]
    public async Task A_deleted_object_is_then_not_found(string noun)
    {
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, fixture.NewFolder());
        var dataset = (await cli.RunAsync("datasets", "create", "Doomed", "--json")).Json().GetProperty("uid").GetString()!;
        var created = noun switch
        {
            "datasets" => dataset,
            "projects" => (await cli.RunAsync("projects", "create", "Doomed", "--label", "car", "--json")).Json().GetProperty("uid").GetString()!,
            _ => await SliceAsync(cli, dataset),
        };

        var deleted = await cli.RunAsync(noun, "delete", created, "--json");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(created, deleted.Json().GetProperty("uid").GetString());
        Assert.True(deleted.Json().GetProperty("deleted").GetBoolean());

        Assert.Equal(4, (await cli.RunAsync(noun, "delete", created)).ExitCode);
        Assert.DoesNotContain(created, (await cli.RunAsync(noun, "list")).Out, StringComparison.Ordinal);
    }

    private static async Task<string> SliceAsync(CliHarness cli, string dataset)
    {
        await AddItemsAsync(cli, dataset, 2);
        return (await cli.RunAsync("slices", "create", "Doomed", "--dataset", dataset, "--json")).Json().GetProperty("uid").GetString()!;
    }

    [Fact]
    public async Task Datasets_projects_and_slices_are_created_and_listed()
    {
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, fixture.NewFolder());

        var dataset = await cli.RunAsync("datasets", "create", "Highway Scenes", "--json");
        Assert.True(dataset.ExitCode == 0, dataset.ToString());
        var datasetUid = dataset.Json().GetProperty("uid").GetString()!;
        var project = await cli.RunAsync("projects", "create", "Detection", "--label", "car", "--label", "pedestrian:#00ff00", "--json");
        Assert.True(project.ExitCode == 0, project.ToString());
        var labels = project.Json().GetProperty("labels").EnumerateArray().Select(l => (l.GetProperty("name").GetString(), l.GetProperty("color").GetString())).ToList();
        Assert.Equal(("car", Import.LabelColors.For(0)), labels[0]);
        Assert.Equal(("pedestrian", "#00FF00"), labels[1]);
        Assert.Equal(2, (await cli.RunAsync("projects", "create", "Bad", "--label", "x:#12")).ExitCode);

        var datasets = await cli.RunAsync("datasets", "list");
        Assert.Equal(0, datasets.ExitCode);
        Assert.Contains("Highway Scenes", datasets.Out, StringComparison.Ordinal);
        Assert.Contains(datasetUid, datasets.Out, StringComparison.Ordinal);
        var projects = await cli.RunAsync("projects", "list");
        Assert.Contains("car, pedestrian", projects.Out, StringComparison.Ordinal);

        // A slice of a whole dataset: its items are listed through the client.
        var tenantItems = await AddItemsAsync(cli, datasetUid, 3);
        var slice = await cli.RunAsync("slices", "create", "all", "--dataset", datasetUid, "--json");
        Assert.True(slice.ExitCode == 0, slice.ToString());
        Assert.Equal(3, slice.Json().GetProperty("item_count").GetInt64());
        var picked = await cli.RunAsync("slices", "create", "one", "--item", tenantItems[1].ToString(), "--json");
        Assert.Equal(1, picked.Json().GetProperty("item_count").GetInt64());
        var slices = await cli.RunAsync("slices", "list", "--json");
        Assert.Equal(["all", "one"], slices.Json().EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(2, (await cli.RunAsync("slices", "create", "empty")).ExitCode);
    }

    private static async Task<IReadOnlyList<Guid>> AddItemsAsync(CliHarness cli, string datasetUid, int count)
    {
        using var client = new Client.AnnexClient(cli.Server.Address, cli.Key);
        var created = await client.CreateItemsAsync(Guid.Parse(datasetUid), [.. Enumerable.Range(1, count).Select(n => new Client.NewDatasetItem($"frame_{n}", 640, 480))]);
        return [.. created.Items.Select(i => i.Uid)];
    }
}
