using System.Net;
using System.Net.Http.Headers;
using Annex.Server.Tests.Infrastructure;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>DELETE /api/v1/datasets/{uid}/: the dataset goes with everything that hangs on it, and exports
/// that still need it fail with a reason instead of writing half an archive.</summary>
public sealed class DatasetDeletionTests
{
    [Fact]
    public async Task Deleting_a_dataset_removes_its_items_results_slice_entries_and_images_and_nothing_else()
    {
        using var factory = new AnnexFactory();
        var tenant = await factory.CreateTenantAsync();
        var doomed = await Seed.DatasetAsync(tenant.Http, "Doomed");
        var kept = await Seed.DatasetAsync(tenant.Http, "Kept");
        var doomedItems = await Seed.ItemsAsync(tenant.Http, doomed, 3);
        var keptItems = await Seed.ItemsAsync(tenant.Http, kept, 2);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, [.. doomedItems, .. keptItems], perItem: 2);
        var slice = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "mixed", items = new[] { doomedItems[0], keptItems[0] } }))["uid"]!.GetValue<string>();
        await UploadAsync(tenant.Http, doomed, doomedItems[1]);
        await UploadAsync(tenant.Http, kept, keptItems[1]);
        var finished = (await Seed.ExportAsync(tenant.Http, "before", datasets: [doomed]))["uid"]!.GetValue<string>();
        await Seed.WaitForAsync(tenant.Http, finished, ["exported"]);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(factory.DataPath, "blobs", "media"), "*", SearchOption.AllDirectories).Length);

        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/datasets/{doomed}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var (datasetStatus, datasetBody) = await tenant.Http.GetJsonAsync($"/api/v1/datasets/{doomed}/");
        Shape.IsNotFound(datasetStatus, datasetBody);
        var (itemsStatus, itemsBody) = await tenant.Http.GetJsonAsync($"/api/v1/datasets/{doomed}/items/");
        Shape.IsNotFound(itemsStatus, itemsBody);
        using (var again = await tenant.Http.DeleteAsync($"/api/v1/datasets/{doomed}/"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        var results = await tenant.Http.AllPagesAsync($"/api/v1/projects/{project}/results/");
        Assert.Equal(keptItems.Order(), results.Select(r => r!["dataset_item_uid"]!.GetValue<string>()).Order());
        Assert.Equal(1, (await tenant.Http.GetOkAsync($"/api/v1/slices/{slice}/"))["item_count"]!.GetValue<long>());
        Assert.Equal(2, (await tenant.Http.GetOkAsync($"/api/v1/datasets/{kept}/"))["item_count"]!.GetValue<long>());
        Assert.Single(Directory.GetFiles(Path.Combine(factory.DataPath, "blobs", "media"), "*", SearchOption.AllDirectories));
        using (var keptImage = await tenant.Http.GetAsync($"/api/v1/datasets/{kept}/items/{keptItems[1]}/media/"))
        {
            Assert.Equal(HttpStatusCode.OK, keptImage.StatusCode);
        }

        // A finished export keeps its archive; a new one cannot name the dataset any more.
        var old = await tenant.Http.GetOkAsync($"/api/v1/exports/{finished}/");
        Assert.Equal("exported", old["status"]!.GetValue<string>());
        using (var download = await tenant.Http.GetAsync(new Uri(old["download_url"]!.GetValue<string>()).PathAndQuery))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        }

        var (status, _) = await tenant.Http.PostJsonAsync("/api/v1/exports/", new { name = "after", format = "YOLO", datasets = new[] { doomed }, projects = Array.Empty<string>(), slices = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task A_waiting_export_of_a_deleted_dataset_fails_saying_so()
    {
        // API role only: the export waits in the queue.
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?> { ["Server:Role"] = "Api" });
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http, "Night drive");
        var other = await Seed.DatasetAsync(tenant.Http, "Other");
        await Seed.ItemsAsync(tenant.Http, dataset, 2);
        var named = (await Seed.ExportAsync(tenant.Http, "named", datasets: [dataset, other]))["uid"]!.GetValue<string>();
        var unrelated = (await Seed.ExportAsync(tenant.Http, "unrelated", datasets: [other]))["uid"]!.GetValue<string>();

        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/datasets/{dataset}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var failed = await tenant.Http.GetOkAsync($"/api/v1/exports/{named}/");
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Equal("Dataset \"Night drive\" was deleted while exporting. Create the export again without it.", failed["error"]!.GetValue<string>());
        Assert.Equal("requested", (await tenant.Http.GetOkAsync($"/api/v1/exports/{unrelated}/"))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_running_export_of_a_deleted_dataset_stops_and_leaves_no_archive()
    {
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?>
        {
            ["Exports:BatchSize"] = "2",
            ["Exports:HeartbeatInterval"] = "00:00:00.100",
        });
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http, "Long");
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 4000);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);

        var uid = (await Seed.ExportAsync(tenant.Http, "long", datasets: [dataset]))["uid"]!.GetValue<string>();
        var running = await Seed.WaitForAsync(tenant.Http, uid, ["exporting", "exported"], TimeSpan.FromMinutes(2));
        Assert.Equal("exporting", running["status"]!.GetValue<string>());
        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/datasets/{dataset}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var failed = await tenant.Http.GetOkAsync($"/api/v1/exports/{uid}/");
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Equal("Dataset \"Long\" was deleted while exporting. Create the export again without it.", failed["error"]!.GetValue<string>());
        Assert.Null(failed["download_url"]);

        // The writer notices at its next heartbeat and throws its temporary file away.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Directory.EnumerateFiles(Path.Combine(factory.DataPath, "tmp")).Any())
        {
            Assert.True(DateTime.UtcNow < deadline, "the temporary archive is still there 30 s after the export failed");
            await Task.Delay(100);
        }

        Assert.False(Directory.Exists(Path.Combine(factory.DataPath, "blobs", "exports"))
            && Directory.EnumerateFiles(Path.Combine(factory.DataPath, "blobs", "exports"), "*", SearchOption.AllDirectories).Any());
        Assert.Equal("failed", (await tenant.Http.GetOkAsync($"/api/v1/exports/{uid}/"))["status"]!.GetValue<string>());
    }

    private static async Task UploadAsync(HttpClient http, string dataset, string item)
    {
        var file = new ByteArrayContent(TestImages.Png(8, 6));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await http.PutAsync($"/api/v1/datasets/{dataset}/items/{item}/media/", new MultipartFormDataContent { { file, "file", "a.png" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
