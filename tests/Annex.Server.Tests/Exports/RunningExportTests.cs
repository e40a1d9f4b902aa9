using System.Text.Json.Nodes;
using Annex.Formats;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>A data folder with 10,000 one-box results, written once and shared. Servers started on it
/// read in batches of 5 rows, so an export runs long enough to be aborted or interrupted.</summary>
public sealed class SlowExportData : IAsyncLifetime
{
    public const int Tasks = 10_000;

    public string DataPath { get; } = AnnexFactory.NewDataPath();

    public string DatasetUid { get; private set; } = "";

    public string ProjectUid { get; private set; } = "";

    public string ApiKey { get; private set; } = "";

    public static Dictionary<string, string?> SlowSettings(string role = "All") => new()
    {
        ["Exports:BatchSize"] = "5",
        ["Exports:LeaseDuration"] = "00:00:02",
        ["Exports:HeartbeatInterval"] = "00:00:00.200",
        ["Server:Role"] = role,
    };

    public async Task InitializeAsync()
    {
        using var factory = new AnnexFactory(DataPath, SlowExportData.SlowSettings("Api"));
        var tenant = await factory.CreateTenantAsync("Slow");
        ApiKey = tenant.Key.Key;
        DatasetUid = await Seed.DatasetAsync(tenant.Http);
        ProjectUid = await Seed.ProjectAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, DatasetUid, Tasks);
        await Seed.ResultsAsync(tenant.Http, ProjectUid, items, perItem: 1);
    }

    public Task DisposeAsync()
    {
        AnnexFactory.TryDelete(DataPath);
        return Task.CompletedTask;
    }
}

[CollectionDefinition(nameof(SlowExportCollection))]
public sealed class SlowExportCollection : ICollectionFixture<SlowExportData>;

[Collection(nameof(SlowExportCollection))]
public sealed class RunningExportTests(SlowExportData data)
{
    private static async Task<JsonNode> WaitForProgressAsync(HttpClient client, string uid)
    {
        // Generous: with 5-row batches the items alone take a while on a busy machine before tasks count.
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            var (_, export) = await client.GetJsonAsync($"/api/v1/exports/{uid}/");
            if (export!["status"]!.GetValue<string>() == "exporting" && export["exported_task_count"]?.GetValue<long>() > 0)
            {
                return export;
            }

            Assert.NotEqual("exported", export["status"]!.GetValue<string>());
            await Task.Delay(20);
        }

        throw new TimeoutException($"the export never showed progress: {(await client.GetJsonAsync($"/api/v1/exports/{uid}/")).Body?.ToJsonString()}");
    }

    private static string[] ArchiveFiles(string dataPath) =>
        [.. new[] { "blobs", "tmp" }.Select(d => Path.Combine(dataPath, d)).Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d, "*", SearchOption.AllDirectories))];

    [Fact]
    public async Task An_export_reports_progress_and_an_abort_stops_it_without_leaving_an_archive()
    {
        using var factory = new AnnexFactory(data.DataPath, SlowExportData.SlowSettings());
        using var client = factory.CreateClientWithKey(data.ApiKey);
        var before = ArchiveFiles(data.DataPath);
        var uid = (await Seed.ExportAsync(client, "to abort", datasets: [data.DatasetUid]))["uid"]!.GetValue<string>();

        var running = await WaitForProgressAsync(client, uid);
        Assert.Equal(SlowExportData.Tasks, running["total_task_count"]!.GetValue<long>());
        Assert.InRange(running["exported_task_count"]!.GetValue<long>(), 1, SlowExportData.Tasks - 1);

        var (status, aborted) = await client.PostJsonAsync($"/api/v1/exports/{uid}/abort/", null);
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Equal("aborted", aborted!["status"]!.GetValue<string>());

        // The worker notices within a heartbeat and removes its partial file.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (ArchiveFiles(data.DataPath).Except(before).Any() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Empty(ArchiveFiles(data.DataPath).Except(before));
        await Task.Delay(500);
        var (_, after) = await client.GetJsonAsync($"/api/v1/exports/{uid}/");
        Assert.Equal("aborted", after!["status"]!.GetValue<string>());
        Assert.Null(after["download_url"]);
    }

    [Fact]
    public async Task Writes_during_an_export_do_not_make_its_document_inconsistent()
    {
        using var factory = new AnnexFactory(data.DataPath, SlowExportData.SlowSettings());
        using var client = factory.CreateClientWithKey(data.ApiKey);
        // By project: items come from every dataset with a result in it, so the late items below are in scope.
        // The filter keeps every task; it makes the export hold a temporary table open meanwhile.
        var uid = (await Seed.ExportAsync(client, "while writing", projects: [data.ProjectUid], filter: "annotation_count >= 1"))["uid"]!.GetValue<string>();
        await WaitForProgressAsync(client, uid);

        // New items with results land while the export is already writing its results; a dataset of
        // their own keeps the other tests' dataset at its size.
        var lateDataset = await Seed.DatasetAsync(client, "late");
        var added = await Seed.ItemsAsync(client, lateDataset, 50);
        await Seed.ResultsAsync(client, data.ProjectUid, added, perItem: 1);

        var done = await Seed.WaitForAsync(client, uid, ["exported", "failed"]);
        Assert.Equal("exported", done["status"]!.GetValue<string>());
        using var document = Archives.ReadSingleJson(await Archives.DownloadAsync(factory, done["download_url"]!.GetValue<string>()));
        Assert.Empty(AvalaJsonSchema.Validate(document));
        Assert.Equal(done["total_task_count"]!.GetValue<long>(), document.RootElement.GetProperty("results").GetArrayLength());
        Assert.Equal(done["total_task_count"]!.GetValue<long>(), done["exported_task_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_export_interrupted_by_a_restart_completes_on_the_next_server()
    {
        string uid;
        using (var first = new AnnexFactory(data.DataPath, SlowExportData.SlowSettings()))
        {
            using var client = first.CreateClientWithKey(data.ApiKey);
            uid = (await Seed.ExportAsync(client, "survives restart", datasets: [data.DatasetUid]))["uid"]!.GetValue<string>();
            await WaitForProgressAsync(client, uid);
        }

        using var second = new AnnexFactory(data.DataPath, new Dictionary<string, string?> { ["Exports:BatchSize"] = "500" });
        using var again = second.CreateClientWithKey(data.ApiKey);
        var done = await Seed.WaitForAsync(again, uid, ["exported", "failed"]);
        Assert.Equal("exported", done["status"]!.GetValue<string>());
        Assert.Equal(SlowExportData.Tasks, done["exported_task_count"]!.GetValue<long>());
        using var document = Archives.ReadSingleJson(await Archives.DownloadAsync(second, done["download_url"]!.GetValue<string>()));
        Assert.Empty(AvalaJsonSchema.Validate(document));
        Assert.Equal(SlowExportData.Tasks, document.RootElement.GetProperty("results").GetArrayLength());
    }

    [Fact]
    public async Task A_version_export_interrupted_by_a_restart_completes_with_the_version_despite_edits_in_between()
    {
        // A box no seeded result has (they start at x = 10).
        const double EditedX = 777;
        string uid;
        using (var first = new AnnexFactory(data.DataPath, SlowExportData.SlowSettings()))
        {
            using var client = first.CreateClientWithKey(data.ApiKey);
            var version = (await client.PostOkAsync($"/api/v1/datasets/{data.DatasetUid}/versions/", new { name = "before the restart" }))["uid"]!.GetValue<string>();
            uid = (await client.PostOkAsync("/api/v1/exports/", new { name = "version survives restart", format = "avala-json-external", versions = new[] { version } }))["uid"]!.GetValue<string>();
            await WaitForProgressAsync(client, uid);

            // Re-labelled while the first server exports and before the second one starts over: the version's rows
            // are then read through the history, part by part.
            List<Guid> edited;
            await using (var scope = first.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
                var datasetUid = Guid.Parse(data.DatasetUid);
                edited = await db.DatasetItems.Where(i => i.Dataset.Uid == datasetUid).OrderBy(i => i.Id).Select(i => i.Uid).ToListAsync();
            }

            var results = edited.Where((_, n) => n % 7 == 0).Select(item => new { dataset_item_uid = item, annotations = new[] { Seed.Box("truck", EditedX, 888, 5, 6) } }).ToArray();
            var (status, body) = await client.PostJsonAsync($"/api/v1/projects/{data.ProjectUid}/results/", new { results });
            Assert.True((int)status < 300, body?.ToJsonString());
        }

        // Batches of a few hundred rows still merge the version's live and history parts across batches.
        using var second = new AnnexFactory(data.DataPath, new Dictionary<string, string?> { ["Exports:BatchSize"] = "300" });
        using var again = second.CreateClientWithKey(data.ApiKey);
        var done = await Seed.WaitForAsync(again, uid, ["exported", "failed"], TimeSpan.FromMinutes(3));
        Assert.Equal("exported", done["status"]!.GetValue<string>());
        Assert.Equal(SlowExportData.Tasks, done["exported_task_count"]!.GetValue<long>());
        using var document = Archives.ReadSingleJson(await Archives.DownloadAsync(second, done["download_url"]!.GetValue<string>()));
        Assert.Empty(AvalaJsonSchema.Validate(document));
        Assert.Equal(SlowExportData.Tasks, document.RootElement.GetProperty("results").GetArrayLength());
        Assert.Equal(SlowExportData.Tasks, document.RootElement.GetProperty("datasets")[0].GetProperty("items").GetArrayLength());
        var xs = document.RootElement.GetProperty("results").EnumerateArray()
            .SelectMany(r => r.GetProperty("annotations").EnumerateArray()).Select(a => a.GetProperty("coordinates").GetProperty("x").GetDouble()).ToList();
        Assert.Equal(SlowExportData.Tasks, xs.Count);
        Assert.DoesNotContain(EditedX, xs);
    }

    [Fact]
    public async Task An_export_whose_worker_died_is_taken_over_when_its_lease_expires()
    {
        using var factory = new AnnexFactory(data.DataPath, new Dictionary<string, string?> { ["Exports:BatchSize"] = "500", ["Exports:LeaseDuration"] = "00:00:02" });
        using var client = factory.CreateClientWithKey(data.ApiKey);
        var uid = (await Seed.ExportAsync(client, "orphaned", datasets: [data.DatasetUid]))["uid"]!.GetValue<string>();

        // Make the row look like a worker claimed it, wrote part of it and crashed: status exporting,
        // a lease held by a process that no longer exists, expiring shortly.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var exportUid = Guid.Parse(uid);
            var expires = DateTime.UtcNow.AddSeconds(1);
            await db.Exports.Where(e => e.Uid == exportUid).ExecuteUpdateAsync(s => s
                .SetProperty(e => e.Status, ExportStatus.Exporting)
                .SetProperty(e => e.LeaseOwner, "crashed-worker")
                .SetProperty(e => e.LeaseExpiresAt, expires)
                .SetProperty(e => e.Attempts, 1)
                .SetProperty(e => e.TotalTaskCount, SlowExportData.Tasks)
                .SetProperty(e => e.ExportedTaskCount, 1234));
        }

        var done = await Seed.WaitForAsync(client, uid, ["exported", "failed"]);
        Assert.Equal("exported", done["status"]!.GetValue<string>());
        Assert.Equal(SlowExportData.Tasks, done["exported_task_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_export_interrupted_too_often_fails_with_a_reason()
    {
        using var factory = new AnnexFactory(data.DataPath, new Dictionary<string, string?> { ["Exports:MaxAttempts"] = "2", ["Server:Role"] = "Api" });
        using var client = factory.CreateClientWithKey(data.ApiKey);
        var uid = (await Seed.ExportAsync(client, "doomed", datasets: [data.DatasetUid]))["uid"]!.GetValue<string>();
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var exportUid = Guid.Parse(uid);
            var expired = DateTime.UtcNow.AddSeconds(-1);
            await db.Exports.Where(e => e.Uid == exportUid).ExecuteUpdateAsync(s => s
                .SetProperty(e => e.Status, ExportStatus.Exporting)
                .SetProperty(e => e.LeaseOwner, "crashed-worker")
                .SetProperty(e => e.LeaseExpiresAt, expired)
                .SetProperty(e => e.Attempts, 2));
        }

        using var worker = new AnnexFactory(data.DataPath, new Dictionary<string, string?> { ["Exports:MaxAttempts"] = "2" });
        using var workerClient = worker.CreateClientWithKey(data.ApiKey);
        var done = await Seed.WaitForAsync(workerClient, uid, ["exported", "failed"]);
        Assert.Equal("failed", done["status"]!.GetValue<string>());
        Assert.Contains("interrupted 2 times", done["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
