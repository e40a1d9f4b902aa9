using System.Net;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>One organization can neither see nor use another's datasets, items, projects or slices.</summary>
public sealed class TenantIsolationTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private sealed record Owned(string Dataset, List<string> Items, string Project, string Slice);

    [Fact]
    public async Task Another_organizations_objects_are_404_on_every_route()
    {
        var (a, owned) = await OwnerAsync();
        var b = await fixture.Factory.CreateTenantAsync("Other");

        string[] urls =
        [
            $"/api/v1/datasets/{owned.Dataset}/",
            $"/api/v1/datasets/{owned.Dataset}/items/",
            $"/api/v1/projects/{owned.Project}/",
            $"/api/v1/projects/{owned.Project}/results/",
            $"/api/v1/projects/{owned.Project}/results/?dataset_item={owned.Items[0]}",
            $"/api/v1/slices/{owned.Slice}/",
        ];
        foreach (var url in urls)
        {
            var (status, body) = await b.Http.GetJsonAsync(url);
            Shape.IsNotFound(status, body);

            // The same URL works for the owner, so the 404 is about who asks.
            Assert.Equal(HttpStatusCode.OK, (await a.GetJsonAsync(url)).Status);
        }
    }

    [Fact]
    public async Task Another_organizations_objects_are_missing_from_lists()
    {
        var (_, owned) = await OwnerAsync();
        var b = await fixture.Factory.CreateTenantAsync("Other");
        var own = await Seed.DatasetAsync(b.Http, "Mine");

        var datasets = await b.Http.AllPagesAsync("/api/v1/datasets/");
        Assert.Equal([own], datasets.Select(d => d["uid"]!.GetValue<string>()));
        Assert.Empty(await b.Http.AllPagesAsync("/api/v1/projects/"));
        Assert.Empty(await b.Http.AllPagesAsync("/api/v1/slices/"));
        Assert.DoesNotContain(owned.Dataset, datasets.Select(d => d["uid"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Writing_into_another_organizations_dataset_or_project_is_404_and_changes_nothing()
    {
        var (a, owned) = await OwnerAsync();
        var b = await fixture.Factory.CreateTenantAsync("Other");
        var resultsBefore = await a.GetOkAsync($"/api/v1/projects/{owned.Project}/results/");

        var (itemsStatus, itemsBody) = await b.Http.PostJsonAsync($"/api/v1/datasets/{owned.Dataset}/items/", new { items = new[] { new { ref_id = "intruder" } } });
        Shape.IsNotFound(itemsStatus, itemsBody);
        var (resultsStatus, resultsBody) = await b.Http.PostJsonAsync(
            $"/api/v1/projects/{owned.Project}/results/",
            new { results = new[] { new { dataset_item_uid = owned.Items[0], annotations = new[] { Seed.Box("car", 1, 1, 1, 1) } } } });
        Shape.IsNotFound(resultsStatus, resultsBody);

        var dataset = await a.GetOkAsync($"/api/v1/datasets/{owned.Dataset}/");
        Assert.Equal(2, dataset["item_count"]!.GetValue<long>());
        Assert.Equal(2, (await a.AllPagesAsync($"/api/v1/datasets/{owned.Dataset}/items/")).Count);
        Api.AssertJson(resultsBefore.ToJsonString(), await a.GetOkAsync($"/api/v1/projects/{owned.Project}/results/"));
    }

    [Fact]
    public async Task Results_cannot_name_another_organizations_item()
    {
        var (a, owned) = await OwnerAsync();
        var b = await fixture.Factory.CreateTenantAsync("Other");
        var project = await Seed.ProjectAsync(b.Http);
        var mine = await Seed.ItemsAsync(b.Http, await Seed.DatasetAsync(b.Http), 1);

        await b.Http.PostRejectedAsync(
            $"/api/v1/projects/{project}/results/",
            new { results = new[] { new { dataset_item_uid = mine[0], annotations = Array.Empty<object>() }, new { dataset_item_uid = owned.Items[1], annotations = Array.Empty<object>() } } },
            Api.Compact(new { results = new Dictionary<string, object> { ["1"] = new { dataset_item_uid = new[] { DoesNotExist(owned.Items[1]) } } } }));

        Assert.Empty(await b.Http.AllPagesAsync($"/api/v1/projects/{project}/results/"));
        Assert.Single(await a.AllPagesAsync($"/api/v1/projects/{owned.Project}/results/"));
    }

    [Fact]
    public async Task Slices_cannot_hold_another_organizations_items()
    {
        var (_, owned) = await OwnerAsync();
        var b = await fixture.Factory.CreateTenantAsync("Other");
        var mine = await Seed.ItemsAsync(b.Http, await Seed.DatasetAsync(b.Http), 1);

        await b.Http.PostRejectedAsync(
            "/api/v1/slices/",
            new { name = "Stolen", items = new[] { owned.Items[0], mine[0] } },
            Api.Compact(new { items = new Dictionary<string, object> { ["0"] = new[] { DoesNotExist(owned.Items[0]) } } }));

        Assert.Empty(await b.Http.AllPagesAsync("/api/v1/slices/"));
    }

    private static string DoesNotExist(string uid) => $"Invalid pk \"{uid}\" - object does not exist.";

    /// <summary>Organization A with a dataset of two items, a project with a result on the first, and a slice.</summary>
    private async Task<(HttpClient Client, Owned Owned)> OwnerAsync()
    {
        var a = await fixture.Factory.CreateTenantAsync("Owner");
        var dataset = await Seed.DatasetAsync(a.Http);
        var items = await Seed.ItemsAsync(a.Http, dataset, 2);
        var project = await Seed.ProjectAsync(a.Http);
        await Seed.ResultsAsync(a.Http, project, [items[0]], perItem: 1);
        var slice = await a.Http.PostOkAsync("/api/v1/slices/", new { name = "Mine", items });
        return (a.Http, new Owned(dataset, items, project, slice["uid"]!.GetValue<string>()));
    }
}
