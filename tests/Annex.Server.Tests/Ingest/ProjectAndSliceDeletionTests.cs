using System.Net;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>DELETE /api/v1/projects/{uid}/ and /api/v1/slices/{uid}/: what hangs on them goes, the items
/// stay, and exports that still need them fail with a reason.</summary>
public sealed class ProjectAndSliceDeletionTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Deleting_a_project_removes_its_results_and_keeps_the_items_and_other_projects()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 3);
        var doomed = await Seed.ProjectAsync(tenant.Http, "Doomed");
        var kept = await Seed.ProjectAsync(tenant.Http, "Kept");
        await Seed.ResultsAsync(tenant.Http, doomed, items, perItem: 2);
        await Seed.ResultsAsync(tenant.Http, kept, items[..2], perItem: 1);
        var slice = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "all", items }))["uid"]!.GetValue<string>();

        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/projects/{doomed}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var (status, body) = await tenant.Http.GetJsonAsync($"/api/v1/projects/{doomed}/");
        Shape.IsNotFound(status, body);
        var (resultsStatus, resultsBody) = await tenant.Http.GetJsonAsync($"/api/v1/projects/{doomed}/results/");
        Shape.IsNotFound(resultsStatus, resultsBody);
        using (var again = await tenant.Http.DeleteAsync($"/api/v1/projects/{doomed}/"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        Assert.Equal([kept], (await tenant.Http.AllPagesAsync("/api/v1/projects/")).Select(p => p!["uid"]!.GetValue<string>()));
        Assert.Equal(2, (await tenant.Http.AllPagesAsync($"/api/v1/projects/{kept}/results/")).Count);
        Assert.Equal(3, (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/"))["item_count"]!.GetValue<long>());
        Assert.Equal(3, (await tenant.Http.GetOkAsync($"/api/v1/slices/{slice}/"))["item_count"]!.GetValue<long>());

        var (exportStatus, _) = await tenant.Http.PostJsonAsync("/api/v1/exports/", new { name = "after", format = "YOLO", datasets = Array.Empty<string>(), projects = new[] { doomed }, slices = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.NotFound, exportStatus);

        // Every result an export of the dataset now finds belongs to the project that is left.
        var export = (await Seed.ExportAsync(tenant.Http, "dataset", datasets: [dataset]))["uid"]!.GetValue<string>();
        var done = await Seed.WaitForAsync(tenant.Http, export, ["exported", "failed"]);
        Assert.Equal("exported", done["status"]!.GetValue<string>());
        using var document = Archives.ReadSingleJson(await Archives.DownloadAsync(fixture.Factory, done["download_url"]!.GetValue<string>()));
        Assert.Equal(2, document.RootElement.GetProperty("results").GetArrayLength());
    }

    [Fact]
    public async Task Deleting_a_slice_keeps_its_items_in_their_datasets()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 4);
        var doomed = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "doomed", items = items[..3] }))["uid"]!.GetValue<string>();
        var kept = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "kept", items = items[1..] }))["uid"]!.GetValue<string>();

        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/slices/{doomed}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var (status, body) = await tenant.Http.GetJsonAsync($"/api/v1/slices/{doomed}/");
        Shape.IsNotFound(status, body);
        using (var again = await tenant.Http.DeleteAsync($"/api/v1/slices/{doomed}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        Assert.Equal([kept], (await tenant.Http.AllPagesAsync("/api/v1/slices/")).Select(s => s!["uid"]!.GetValue<string>()));
        Assert.Equal(3, (await tenant.Http.GetOkAsync($"/api/v1/slices/{kept}/"))["item_count"]!.GetValue<long>());
        Assert.Equal(4, (await tenant.Http.AllPagesAsync($"/api/v1/datasets/{dataset}/items/")).Count);
    }

    [Fact]
    public async Task Waiting_exports_of_a_deleted_project_or_slice_fail_saying_so_and_others_wait_on()
    {
        // API role only: the exports wait in the queue.
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?> { ["Server:Role"] = "Api" });
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 2);
        var project = await Seed.ProjectAsync(tenant.Http, "Lane markings");
        var otherProject = await Seed.ProjectAsync(tenant.Http, "Signs");
        var slice = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "Hard cases", items }))["uid"]!.GetValue<string>();
        var otherSlice = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "Easy cases", items }))["uid"]!.GetValue<string>();
        var byProject = (await Seed.ExportAsync(tenant.Http, "by project", projects: [project, otherProject]))["uid"]!.GetValue<string>();
        var bySlice = (await Seed.ExportAsync(tenant.Http, "by slice", slices: [otherSlice, slice]))["uid"]!.GetValue<string>();
        var unrelated = (await Seed.ExportAsync(tenant.Http, "unrelated", datasets: [dataset], projects: [otherProject], slices: [otherSlice]))["uid"]!.GetValue<string>();

        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/projects/{project}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/slices/{slice}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var failedByProject = await tenant.Http.GetOkAsync($"/api/v1/exports/{byProject}/");
        Assert.Equal("failed", failedByProject["status"]!.GetValue<string>());
        Assert.Equal("Project \"Lane markings\" was deleted while exporting. Create the export again without it.", failedByProject["error"]!.GetValue<string>());
        var failedBySlice = await tenant.Http.GetOkAsync($"/api/v1/exports/{bySlice}/");
        Assert.Equal("failed", failedBySlice["status"]!.GetValue<string>());
        Assert.Equal("Slice \"Hard cases\" was deleted while exporting. Create the export again without it.", failedBySlice["error"]!.GetValue<string>());
        Assert.Equal("requested", (await tenant.Http.GetOkAsync($"/api/v1/exports/{unrelated}/"))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_key_with_only_read_scopes_cannot_delete_and_another_organization_gets_404()
    {
        var admin = await fixture.Factory.CreateTenantAsync();
        var project = await Seed.ProjectAsync(admin.Http);
        var dataset = await Seed.DatasetAsync(admin.Http);
        var items = await Seed.ItemsAsync(admin.Http, dataset, 1);
        var slice = (await admin.Http.PostOkAsync("/api/v1/slices/", new { name = "s", items }))["uid"]!.GetValue<string>();
        var key = await admin.Http.PostOkAsync("/api/v1/api-keys/", new { name = "reader", scopes = new[] { "projects.read", "slices.read" } });
        using var reader = fixture.Factory.CreateClientWithKey(key["key"]!.GetValue<string>());
        var other = await fixture.Factory.CreateTenantAsync("Other");

        foreach (var url in new[] { $"/api/v1/projects/{project}/", $"/api/v1/slices/{slice}/" })
        {
            using (var refused = await reader.DeleteAsync(url))
            {
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            }

            using (var hidden = await other.Http.DeleteAsync(url))
            {
                Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            }

            Assert.Equal(HttpStatusCode.OK, (await admin.Http.GetJsonAsync(url)).Status);
        }
    }
}
