using System.Net;
using Amazon.S3.Model;
using Annex.Server.Features.Exports;
using Annex.Server.Features.Exports.Worker;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Annex.Server.Tests.Storage;

/// <summary>The server with its archives in an S3-compatible bucket (a private moto server on loopback).</summary>
public sealed class S3ExportTests
{
    [SkippableFact]
    public async Task An_export_is_published_to_the_bucket_and_downloads_through_a_presigned_url()
    {
        using var bucket = await MotoServer.CreateBucketAsync(prefix: "annex/");
        using var factory = new AnnexFactory(settings: bucket.Settings());
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 3000);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 2);

        var created = await Seed.ExportAsync(tenant.Http, "On S3", datasets: [dataset], projects: [project]);
        var uid = created["uid"]!.GetValue<string>();
        var done = await Seed.WaitForAsync(tenant.Http, uid, ["exported", "failed"], TimeSpan.FromMinutes(2));
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());

        // The key of the attempt that wrote it: exports/<uid>.<claim>.zip.
        Assert.StartsWith($"annex/exports/{uid}.", Assert.Single(await bucket.KeysAsync()), StringComparison.Ordinal);
        Assert.Empty(await bucket.OpenUploadsAsync());

        // The link goes to the store itself, signed, with an expiry; no API key and no Annex server needed.
        var url = new Uri(done["download_url"]!.GetValue<string>());
        Assert.StartsWith(bucket.Options.ServiceUrl!, url.ToString(), StringComparison.Ordinal);
        var expires = int.Parse(System.Web.HttpUtility.ParseQueryString(url.Query)["X-Amz-Expires"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, 3500, 3601);
        // Browsers save it under the export's name (the store sends the signed Content-Disposition back).
        Assert.Equal($"attachment; filename=\"On_S3-{uid}.zip\"", System.Web.HttpUtility.ParseQueryString(url.Query)["response-content-disposition"]);
        Assert.Contains("X-Amz-Signature=", url.Query, StringComparison.Ordinal);
        using var plain = new HttpClient();
        using var response = await plain.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = Archives.ReadSingleJson(await response.Content.ReadAsByteArrayAsync());
        Assert.Empty(Annex.Formats.AvalaJsonSchema.Validate(document));
        Assert.Equal(3000, document.RootElement.GetProperty("results").GetArrayLength());
        Assert.Equal(3000, Assert.Single(document.RootElement.GetProperty("datasets").EnumerateArray()).GetProperty("items").GetArrayLength());
    }

    [SkippableFact]
    public async Task An_aborted_export_leaves_nothing_in_the_bucket()
    {
        using var bucket = await MotoServer.CreateBucketAsync();
        // Batches of one row keep the export running long enough to abort it mid-write (with faster writers,
        // batches of 5 sometimes let it finish between two polls).
        var settings = new Dictionary<string, string?>(bucket.Settings()) { ["Exports:Workers"] = "1", ["Exports:BatchSize"] = "1" };
        using var factory = new AnnexFactory(settings: settings);
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 3000);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);

        var created = await Seed.ExportAsync(tenant.Http, "Aborted", datasets: [dataset], projects: [project]);
        var uid = created["uid"]!.GetValue<string>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var (_, export) = await tenant.Http.GetJsonAsync($"/api/v1/exports/{uid}/");
            var status = export!["status"]!.GetValue<string>();
            Assert.True(status is "requested" or "exporting", $"The export is {status} before it was aborted.");
            if (export["exported_task_count"]?.GetValue<long>() > 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "The export never showed progress.");
            await Task.Delay(5);
        }

        var (abortStatus, _) = await tenant.Http.PostJsonAsync($"/api/v1/exports/{uid}/abort/", null);
        Assert.Equal(HttpStatusCode.OK, abortStatus);

        // A second export queued behind it finishing shows the worker is past the aborted one.
        var next = await Seed.ExportAsync(tenant.Http, "After", datasets: [dataset], projects: [project]);
        var nextUid = next["uid"]!.GetValue<string>();
        await Seed.WaitForAsync(tenant.Http, nextUid, ["exported"], TimeSpan.FromMinutes(2));
        Assert.StartsWith($"exports/{nextUid}.", Assert.Single(await bucket.KeysAsync()), StringComparison.Ordinal);
        Assert.Empty(await bucket.OpenUploadsAsync());
    }

    [SkippableFact]
    public async Task The_sweeper_aborts_old_uploads_under_its_prefix_and_keeps_young_and_foreign_ones()
    {
        using var bucket = await MotoServer.CreateBucketAsync(prefix: "annex/");
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?>(bucket.Settings()) { ["Storage:S3:AbandonedUploadAge"] = "01:00:00" });
        var clock = new ShiftedTime();
        var sweeper = NewSweeper(factory, clock);
        await bucket.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket.Name, Key = "annex/uploads/crashed.bin" });
        await bucket.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket.Name, Key = "other/uploads/not-ours.bin" });

        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
        clock.Offset = TimeSpan.FromMinutes(59);
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
        Assert.Equal(2, (await bucket.OpenUploadsAsync()).Count);

        clock.Offset = TimeSpan.FromMinutes(61);
        Assert.Equal(1, await sweeper.SweepAsync(CancellationToken.None));
        Assert.Equal(["other/uploads/not-ours.bin"], (await bucket.OpenUploadsAsync()).Select(u => u.Key));
    }

    [SkippableFact]
    public async Task The_sweeper_aborts_at_once_an_upload_whose_export_is_not_running()
    {
        using var bucket = await MotoServer.CreateBucketAsync();
        // API only: the export stays requested until the test says otherwise.
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?>(bucket.Settings()) { ["Server:Role"] = "Api" });
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var uid = Guid.Parse((await Seed.ExportAsync(tenant.Http, "Queued", datasets: [dataset]))["uid"]!.GetValue<string>());
        var sweeper = NewSweeper(factory, new ShiftedTime());
        var key = $"exports/{uid:D}.zip";

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            await db.Exports.Where(e => e.Uid == uid).ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, ExportStatus.Exporting));
        }

        await bucket.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket.Name, Key = key });
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
        Assert.Single(await bucket.OpenUploadsAsync());

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            await db.Exports.Where(e => e.Uid == uid).ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, ExportStatus.Exported));
        }

        Assert.Equal(1, await sweeper.SweepAsync(CancellationToken.None));
        Assert.Empty(await bucket.OpenUploadsAsync());
    }

    private static AbandonedUploadSweeper NewSweeper(AnnexFactory factory, TimeProvider clock) => new(
        factory.Services.GetRequiredService<IPendingWriteStore>(),
        factory.Services.GetRequiredService<IDbContextFactory<AnnexDbContext>>(),
        factory.Services.GetRequiredService<IOptions<StorageOptions>>(),
        clock,
        NullLogger<AbandonedUploadSweeper>.Instance);

    /// <summary>The system clock moved forward by <see cref="Offset"/>.</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    [SkippableFact]
    public async Task The_sweeper_runs_by_itself_every_interval()
    {
        using var bucket = await MotoServer.CreateBucketAsync();
        var settings = new Dictionary<string, string?>(bucket.Settings())
        {
            ["Storage:S3:SweepInterval"] = "00:00:00.200",
            ["Storage:S3:AbandonedUploadAge"] = "00:00:00.500",
        };
        using var factory = new AnnexFactory(settings: settings);
        using var client = factory.CreateClient();
        await bucket.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket.Name, Key = "exports/crashed.zip" });
        Assert.Single(await bucket.OpenUploadsAsync());

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await bucket.OpenUploadsAsync()).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The abandoned upload was still open after 60 seconds.");
            await Task.Delay(100);
        }
    }

    [Theory]
    [InlineData("Storage:Provider", "Azure", "Storage:Provider must be Local or S3")]
    [InlineData("Storage:S3:Bucket", "", "Storage:S3:Bucket is required")]
    [InlineData("Storage:S3:ServiceUrl", "minio:9000", "Storage:S3:ServiceUrl must be an absolute http:// or https:// URL")]
    [InlineData("Storage:S3:PartSize", "1024", "Storage:S3:PartSize must be between")]
    [InlineData("Storage:S3:AccessKey", "only-the-key", "Storage:S3:AccessKey and Storage:S3:SecretKey must be set together")]
    public async Task Wrong_storage_settings_stop_the_start_with_a_message_naming_the_setting(string setting, string value, string message)
    {
        var dataPath = AnnexFactory.NewDataPath();
        var settings = new Dictionary<string, string?>
        {
            ["Storage:DataPath"] = dataPath,
            ["Storage:Provider"] = "S3",
            ["Storage:S3:Bucket"] = "archives",
            ["Storage:S3:ServiceUrl"] = "http://127.0.0.1:9",
            ["urls"] = "http://127.0.0.1:0",
            [setting] = value,
        };
        await using var app = Annex.Server.Hosting.AnnexApp.Build([.. settings.Select(s => $"--{s.Key}={s.Value}")]);
        try
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            AnnexFactory.TryDelete(dataPath);
        }
    }
}
