using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Annex.Server.Tests.Ingest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Versions;

/// <summary>/api/v1/datasets/{uid}/versions/: create, list, get, delete and diff; and the history the triggers keep
/// (only for rows a version can see).</summary>
public sealed class VersionsApiTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private async Task<long> DatasetIdAsync(string datasetUid)
    {
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        return await db.Datasets.Where(d => d.Uid == Guid.Parse(datasetUid)).Select(d => d.Id).SingleAsync();
    }

    private async Task<long> HistoryRowsAsync(string datasetUid, string table) => await HistoryRowsAsync(await DatasetIdAsync(datasetUid), table);

    private async Task<long> HistoryRowsAsync(long id, string table)
    {
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        return (await db.Database.SqlQueryRaw<long>(string.Concat("SELECT COUNT(*) AS \"Value\" FROM ", table, " WHERE \"DatasetId\" = {0}"), id).ToListAsync()).Single();
    }

    private static async Task<JsonNode> UpsertAsync(HttpClient http, string project, string item, string label)
    {
        var (status, body) = await http.PostJsonAsync($"/api/v1/projects/{project}/results/", new
        {
            results = new[] { new { dataset_item_uid = item, annotations = new[] { Seed.Box(label, 1, 2, 3, 4) } } },
        });
        Assert.True((int)status < 300, body?.ToJsonString());
        return body!;
    }

    [Fact]
    public async Task A_version_is_created_listed_read_and_deleted_and_other_organizations_never_see_it()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "v1", projects = new[] { project } });
        Shape.HasFields(created, "uid", "name", "dataset", "projects", "created_at");
        Assert.Equal("v1", created["name"]!.GetValue<string>());
        Assert.Equal(dataset, created["dataset"]!.GetValue<string>());
        Assert.Equal(project, Assert.Single(created["projects"]!.AsArray())!.GetValue<string>());
        var uid = created["uid"]!.GetValue<string>();
        var second = (await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "v2" }))["uid"]!.GetValue<string>();

        var listed = await tenant.Http.AllPagesAsync($"/api/v1/datasets/{dataset}/versions/?limit=1");
        Assert.Equal([uid, second], listed.Select(v => v["uid"]!.GetValue<string>()));
        Assert.Equal(uid, (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/versions/{uid}/"))["uid"]!.GetValue<string>());

        var (foreignStatus, foreignBody) = await other.Http.GetJsonAsync($"/api/v1/datasets/{dataset}/versions/{uid}/");
        Shape.IsNotFound(foreignStatus, foreignBody);
        var (foreignList, foreignListBody) = await other.Http.GetJsonAsync($"/api/v1/datasets/{dataset}/versions/");
        Shape.IsNotFound(foreignList, foreignListBody);
        var (foreignCreate, _) = await other.Http.PostJsonAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "mine" });
        Assert.Equal(HttpStatusCode.NotFound, foreignCreate);
        using (var foreignDelete = await other.Http.DeleteAsync($"/api/v1/datasets/{dataset}/versions/{uid}/"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreignDelete.StatusCode);
        }

        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/datasets/{dataset}/versions/{uid}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var (goneStatus, goneBody) = await tenant.Http.GetJsonAsync($"/api/v1/datasets/{dataset}/versions/{uid}/");
        Shape.IsNotFound(goneStatus, goneBody);
        var (badUid, badBody) = await tenant.Http.GetJsonAsync($"/api/v1/datasets/{dataset}/versions/not-a-uid/");
        Shape.IsNotFound(badUid, badBody);
    }

    [Fact]
    public async Task Bad_bodies_get_field_errors()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var other = await fixture.Factory.CreateTenantAsync("Elsewhere");
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var foreignProject = await Seed.ProjectAsync(other.Http);
        var url = $"/api/v1/datasets/{dataset}/versions/";
        await tenant.Http.PostRejectedAsync(url, new { }, """{"name": ["This field is required."]}""");
        await tenant.Http.PostRejectedAsync(url, new { name = "" }, """{"name": ["This field may not be blank."]}""");
        await tenant.Http.PostRejectedAsync(url, new { name = "v", projects = "x" }, """{"projects": ["Expected a list of items but got type \"str\"."]}""");
        await tenant.Http.PostRejectedAsync(url, new { name = "v", projects = new[] { foreignProject } }, $$"""{"projects": ["Invalid pk \"{{foreignProject}}\" - object does not exist."]}""");
        Assert.Empty(await tenant.Http.AllPagesAsync(url));
    }

    [Fact]
    public async Task History_is_kept_only_for_rows_a_version_can_see_and_goes_with_the_last_version_that_needs_it()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 4);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);

        // No version: edits keep nothing.
        await UpsertAsync(tenant.Http, project, items[0], "truck");
        Assert.Equal(0, await HistoryRowsAsync(dataset, "result_history"));

        var v1 = (await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "v1" }))["uid"]!.GetValue<string>();
        await UpsertAsync(tenant.Http, project, items[0], "car");
        await UpsertAsync(tenant.Http, project, items[0], "pedestrian");
        // Twice edited, kept once: the second edit's old state is newer than every version.
        Assert.Equal(1, await HistoryRowsAsync(dataset, "result_history"));
        Assert.Equal(0, await HistoryRowsAsync(dataset, "dataset_item_history"));

        var v2 = (await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "v2" }))["uid"]!.GetValue<string>();
        await UpsertAsync(tenant.Http, project, items[0], "car");
        Assert.Equal(2, await HistoryRowsAsync(dataset, "result_history"));

        using (await tenant.Http.DeleteAsync($"/api/v1/datasets/{dataset}/versions/{v1}/"))
        {
        }

        Assert.Equal(1, await HistoryRowsAsync(dataset, "result_history"));
        using (await tenant.Http.DeleteAsync($"/api/v1/datasets/{dataset}/versions/{v2}/"))
        {
        }

        Assert.Equal(0, await HistoryRowsAsync(dataset, "result_history"));
    }

    [Fact]
    public async Task A_diff_counts_and_lists_added_changed_and_removed_items_either_way_and_against_now()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 5);
        var doomed = await Seed.ProjectAsync(tenant.Http, "Doomed");
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);
        await Seed.ResultsAsync(tenant.Http, doomed, items[..1], perItem: 1);
        var a = (await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "a" }))["uid"]!.GetValue<string>();

        await UpsertAsync(tenant.Http, project, items[1], "truck");
        await UpsertAsync(tenant.Http, project, items[2], "truck");
        var added = await Seed.ItemsAsync(tenant.Http, dataset, 3, start: 100);
        // The project's results go: item 0 changed (it lost a result).
        using (await tenant.Http.DeleteAsync($"/api/v1/projects/{doomed}/"))
        {
        }

        var b = (await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "b" }))["uid"]!.GetValue<string>();
        await UpsertAsync(tenant.Http, project, items[3], "truck");

        var diff = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/versions/{a}/diff/{b}/");
        Assert.Equal(3, diff["added"]!.GetValue<long>());
        Assert.Equal(3, diff["changed"]!.GetValue<long>());
        Assert.Equal(0, diff["removed"]!.GetValue<long>());
        Assert.Equal(b, diff["to"]!.GetValue<string>());
        var rows = await tenant.Http.AllPagesAsync($"/api/v1/datasets/{dataset}/versions/{a}/diff/{b}/?limit=2");
        var expected = new[] { (items[0], "changed"), (items[1], "changed"), (items[2], "changed") }.Concat(added.Select(u => (u, "added")));
        Assert.Equal(expected, rows.Select(r => (r["uid"]!.GetValue<string>(), r["change"]!.GetValue<string>())));

        var back = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/versions/{b}/diff/{a}/");
        Assert.Equal(0, back["added"]!.GetValue<long>());
        Assert.Equal(3, back["removed"]!.GetValue<long>());
        Assert.Equal(added, back["results"]!.AsArray().Where(r => r!["change"]!.GetValue<string>() == "removed").Select(r => r!["uid"]!.GetValue<string>()));

        var now = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/versions/{a}/diff/current/");
        Assert.Equal("current", now["to"]!.GetValue<string>());
        Assert.Equal(4, now["changed"]!.GetValue<long>());
        var same = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/versions/{b}/diff/{b}/");
        Assert.Equal(0, same["added"]!.GetValue<long>() + same["changed"]!.GetValue<long>() + same["removed"]!.GetValue<long>());

        var (missing, missingBody) = await tenant.Http.GetJsonAsync($"/api/v1/datasets/{dataset}/versions/{a}/diff/{Guid.NewGuid()}/");
        Shape.IsNotFound(missing, missingBody);
        var (badCursor, _) = await tenant.Http.GetJsonAsync($"/api/v1/datasets/{dataset}/versions/{a}/diff/current/?cursor=zzz");
        Assert.Equal(HttpStatusCode.BadRequest, badCursor);
    }

    [Fact]
    public async Task Deleting_a_dataset_with_versions_deletes_them_and_their_history()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 2);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);
        await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "v" });
        await UpsertAsync(tenant.Http, project, items[0], "truck");
        var id = await DatasetIdAsync(dataset);
        Assert.Equal(1, await HistoryRowsAsync(id, "result_history"));
        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/datasets/{dataset}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(0, await HistoryRowsAsync(id, "result_history"));
    }
}
