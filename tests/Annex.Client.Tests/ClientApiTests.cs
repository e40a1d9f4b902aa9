using System.Net;
using System.Text.Json;
using Xunit;

namespace Annex.Client.Tests;

public sealed class ClientApiTests(LiveServerFixture fixture) : IClassFixture<LiveServerFixture>
{
    private LiveServer Server => fixture.Server;

    [Fact]
    public async Task Deleting_a_dataset_project_or_slice_makes_it_not_found()
    {
        var (client, _) = await Server.CreateTenantAsync();
        using var _ = client;
        var (dataset, project, items) = await Seeding.DetectionAsync(client, 3);
        var slice = await client.CreateSliceAsync("hard cases", [items[0].Uid]);

        await client.DeleteSliceAsync(slice.Uid);
        await Assert.ThrowsAsync<AnnexNotFoundException>(() => client.GetSliceAsync(slice.Uid));
        await Assert.ThrowsAsync<AnnexNotFoundException>(() => client.DeleteSliceAsync(slice.Uid));
        await client.DeleteProjectAsync(project.Uid);
        await Assert.ThrowsAsync<AnnexNotFoundException>(() => client.GetProjectAsync(project.Uid));
        await Assert.ThrowsAsync<AnnexNotFoundException>(() => client.DeleteProjectAsync(project.Uid));
        Assert.Equal(3, (await client.GetDatasetAsync(dataset.Uid)).ItemCount);

        await client.DeleteDatasetAsync(dataset.Uid);

        await Assert.ThrowsAsync<AnnexNotFoundException>(() => client.GetDatasetAsync(dataset.Uid));
        await Assert.ThrowsAsync<AnnexNotFoundException>(() => client.DeleteDatasetAsync(dataset.Uid));
        Assert.DoesNotContain(dataset.Uid, await client.ListDatasetsAsync().Select(d => d.Uid).ToListAsync());
    }

    [Fact]
    public async Task Lists_follow_next_across_pages()
    {
        var (client, _) = await Server.CreateTenantAsync(options: new AnnexClientOptions { PageSize = 2 });
        using var _ = client;
        var names = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            names.Add((await client.CreateDatasetAsync($"Dataset {i}")).Name);
        }

        var listed = await client.ListDatasetsAsync().Select(d => d.Name).ToListAsync();
        Assert.Equal(names, listed);

        var (dataset, project, items) = await Seeding.DetectionAsync(client, 7);
        Assert.Equal(items.Select(i => i.Uid), await client.ListItemsAsync(dataset.Uid).Select(i => i.Uid).ToListAsync());
        var results = await client.ListResultsAsync(project.Uid).ToListAsync();
        Assert.Equal(7, results.Count);
        Assert.Equal(items.Select(i => i.Uid), results.Select(r => r.DatasetItemUid));
        var one = Assert.Single(await client.ListResultsAsync(project.Uid, items[3].Uid).ToListAsync());
        Assert.Equal("pedestrian", Assert.Single(one.Annotations).Label);

        var exports = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            exports.Add((await client.CreateExportAsync(Seeding.ExportOf(dataset))).Uid);
        }

        // Newest first by default; oldest first when asked.
        Assert.Equal(exports.AsEnumerable().Reverse(), await client.ListExportsAsync().Select(e => e.Uid).ToListAsync());
        Assert.Equal(exports, await client.ListExportsAsync("created_at").Select(e => e.Uid).ToListAsync());
    }

    [Fact]
    public async Task Projects_slices_and_formats_round_trip()
    {
        var (client, _) = await Server.CreateTenantAsync();
        using var _ = client;
        var (_, project, items) = await Seeding.DetectionAsync(client, 4);
        var fetched = await client.GetProjectAsync(project.Uid);
        Assert.Equal(["car", "pedestrian"], fetched.Labels.Select(l => l.Name));
        Assert.Equal(project.Uid, Assert.Single(await client.ListProjectsAsync().ToListAsync()).Uid);

        var slice = await client.CreateSliceAsync("hard cases", [items[0].Uid, items[2].Uid]);
        Assert.Equal(2, slice.ItemCount);
        Assert.Equal(slice, await client.GetSliceAsync(slice.Uid));
        Assert.Equal(slice.Uid, Assert.Single(await client.ListSlicesAsync().ToListAsync()).Uid);

        var upserted = await client.UpsertResultsAsync(project.Uid, [new NewAnnotationResult(items[0].Uid, [Seeding.Box("car", 1, 2, 3, 4), Seeding.Box("car", 5, 6, 7, 8)])]);
        Assert.Equal((0, 1), (upserted.Created, upserted.Updated));
        Assert.Equal(2, Assert.Single(upserted.Results).AnnotationCount);

        var formats = await client.ListFormatsAsync();
        Assert.Contains(formats, f => f.Name == "avala-json-external");
    }

    [Fact]
    public async Task Errors_are_typed_with_status_and_field_errors()
    {
        var (client, _) = await Server.CreateTenantAsync();
        using var _ = client;

        var blank = await Assert.ThrowsAsync<AnnexValidationException>(() => client.CreateDatasetAsync(""));
        Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
        Assert.Equal(["This field may not be blank."], blank.FieldErrors["name"]);

        var (dataset, project, items) = await Seeding.DetectionAsync(client, 1);
        var badBox = new Annotation("car", "bounding_box", JsonSerializer.SerializeToElement(new { x = 1, y = 2, width = -3, height = 4 }));
        var nested = await Assert.ThrowsAsync<AnnexValidationException>(() => client.UpsertResultsAsync(project.Uid, [new NewAnnotationResult(items[0].Uid, [Seeding.Box("car", 1, 1, 1, 1), badBox])]));
        Assert.Equal(["Ensure this value is greater than 0."], nested.FieldErrors["results.0.annotations.1.coordinates.width"]);

        var format = await Assert.ThrowsAsync<AnnexValidationException>(() => client.CreateExportAsync(Seeding.ExportOf(dataset, "no-such-format")));
        Assert.Contains("format", format.FieldErrors.Keys);

        var missing = await Assert.ThrowsAsync<AnnexNotFoundException>(() => client.GetExportAsync(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Not found.", missing.Detail);

        var (other, _) = await Server.CreateTenantAsync("Other");
        using (other)
        {
            var forbidden = await Assert.ThrowsAsync<AnnexPermissionException>(() => other.CreateExportAsync(Seeding.ExportOf(dataset)));
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        using var wrongKey = new AnnexClient(Server.Address, "not-a-key");
        var unauthorized = await Assert.ThrowsAsync<AnnexAuthenticationException>(() => wrongKey.ListDatasetsAsync().ToListAsync().AsTask());
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task A_preview_counts_the_export_without_creating_it()
    {
        var (client, _) = await Server.CreateTenantAsync();
        using var _ = client;
        var (dataset, project, _) = await Seeding.DetectionAsync(client, 6);
        var preview = await client.PreviewExportAsync(new CreateExportRequest("p", "COCO", [dataset.Uid], [project.Uid], [], "metadata.weather = \"rain\""));
        Assert.Equal((3, 3), (preview.TotalItemCount, preview.TotalTaskCount));
        Assert.Equal([("dataset", dataset.Uid, 3L, 3L), ("project", project.Uid, 3L, 3L)], preview.Sources.Select(s => (s.Type, s.Uid, s.ItemCount, s.TaskCount)));
        Assert.Equal("Highway", preview.Sources[0].Name);
        Assert.Empty(await client.ListExportsAsync().ToListAsync());

        var broken = await Assert.ThrowsAsync<AnnexValidationException>(() => client.PreviewExportAsync(Seeding.ExportOf(dataset) with { FilterQueryString = "label =" }));
        Assert.Contains("position", broken.FieldErrors["filter_query_string"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Abort_stops_a_queued_export_and_a_second_abort_is_refused()
    {
        // A server with no export worker keeps exports queued.
        using var apiOnly = new LiveServer(new Dictionary<string, string?> { ["Server:Role"] = "Api" });
        var (client, _) = await apiOnly.CreateTenantAsync();
        using var _ = client;
        var (dataset, _, _) = await Seeding.DetectionAsync(client, 2);
        var export = await client.CreateExportAsync(Seeding.ExportOf(dataset));
        Assert.Equal(ExportStatus.Requested, export.Status);

        var aborted = await client.AbortExportAsync(export.Uid);
        Assert.Equal(ExportStatus.Aborted, aborted.Status);
        Assert.Null(aborted.DownloadUrl);
        var waited = await client.WaitForExportAsync(export.Uid, TimeSpan.FromMilliseconds(50));
        Assert.Equal(ExportStatus.Aborted, waited.Status);

        var again = await Assert.ThrowsAsync<AnnexValidationException>(() => client.AbortExportAsync(export.Uid));
        Assert.Contains("already aborted", again.Detail, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.DownloadExportAsync(export.Uid, Path.Combine(apiOnly.Factory.DataPath, "never.zip")));
    }

    [Fact]
    public async Task Wait_reports_progress_until_exported()
    {
        var (client, _) = await Server.CreateTenantAsync();
        using var _ = client;
        var (dataset, _, _) = await Seeding.DetectionAsync(client, 50, boxesPerItem: 2);
        var export = await client.CreateExportAsync(Seeding.ExportOf(dataset));
        var progress = new Recorder<ExportProgress>();

        var done = await client.WaitForExportAsync(export.Uid, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(2), progress);

        Assert.Equal(ExportStatus.Exported, done.Status);
        Assert.NotNull(done.DownloadUrl);
        Assert.NotEmpty(progress.Reports);
        Assert.Equal(done, progress.Reports[^1].Export);
        Assert.Equal((50L, (long?)50), (progress.Reports[^1].ExportedTasks, progress.Reports[^1].TotalTasks));
        var counts = progress.Reports.Select(r => r.ExportedTasks).ToList();
        Assert.Equal(counts.Order(), counts);
        Assert.All(progress.Reports.SkipLast(1), r => Assert.False(ExportStatus.IsFinal(r.Status)));
    }

    [Fact]
    public async Task Wait_gives_up_after_its_timeout()
    {
        using var apiOnly = new LiveServer(new Dictionary<string, string?> { ["Server:Role"] = "Api" });
        var (client, _) = await apiOnly.CreateTenantAsync();
        using var _ = client;
        var (dataset, _, _) = await Seeding.DetectionAsync(client, 1);
        var export = await client.CreateExportAsync(Seeding.ExportOf(dataset));
        var progress = new Recorder<ExportProgress>();

        await Assert.ThrowsAsync<TimeoutException>(() => client.WaitForExportAsync(export.Uid, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(300), progress));
        Assert.All(progress.Reports, r => Assert.Equal(ExportStatus.Requested, r.Status));
    }
}
