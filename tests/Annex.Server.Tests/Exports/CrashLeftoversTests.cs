using Amazon.S3.Model;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>What an export killed with SIGKILL leaves behind: spill files under the data folder, which the next
/// start removes, and on S3 a multipart upload, which the next start or sweep aborts.</summary>
public sealed class CrashLeftoversTests
{
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_COCO_export_killed_while_writing_spills_under_the_data_folder_and_the_next_start_removes_it(bool s3)
    {
        using var bucket = s3 ? await MotoServer.CreateBucketAsync() : null;
        var dataPath = AnnexFactory.NewDataPath();
        // The killed server's own temporary folder: what it leaves there nobody would ever clean.
        var systemTemp = Path.Combine(Path.GetTempPath(), "annex-tests", "system-tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(systemTemp);
        var settings = new Dictionary<string, string?>(TestDatabase.NewServerSettings()) { ["Exports:LeaseDuration"] = "00:00:02" };
        foreach (var (key, value) in bucket?.Settings() ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        try
        {
            string exportUid;
            using (var api = new AnnexFactory(dataPath, new Dictionary<string, string?>(settings) { ["Server:Role"] = "Api" }))
            {
                var tenant = await api.CreateTenantAsync();
                var dataset = await Seed.DatasetAsync(tenant.Http);
                var project = await Seed.ProjectAsync(tenant.Http);
                // Images at external URLs: the report spills their list too.
                var items = Enumerable.Range(0, 1000).Select(n => new { ref_id = $"frame_{n:D5}", width = 640, height = 480, media_url = $"https://images.example.com/{n}.jpg" }).ToArray();
                var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", new { items });
                await Seed.ResultsAsync(tenant.Http, project, [.. created["items"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>())], perItem: 2);
                var export = await tenant.Http.PostOkAsync("/api/v1/exports/", new { name = "Killed", format = "COCO", datasets = new[] { dataset }, projects = new[] { project }, slices = Array.Empty<string>() });
                exportUid = export["uid"]!.GetValue<string>();
            }

            var spillRoot = Path.Combine(dataPath, "tmp", "spill");
            using (var server = await ServerProcess.StartAsync(
                dataPath,
                new Dictionary<string, string?>(settings) { ["Server:Role"] = "Worker", ["Exports:Workers"] = "1", ["Exports:BatchSize"] = "5" },
                new Dictionary<string, string> { ["TMPDIR"] = systemTemp },
                TimeSpan.FromMinutes(2)))
            {
                string[] Spilled() => [.. Files(systemTemp), .. Files(spillRoot)];
                var deadline = DateTime.UtcNow.AddMinutes(2);
                while (!(Spilled().Any(f => f.StartsWith("annex-coco-", StringComparison.Ordinal)) && Spilled().Any(f => f.StartsWith("annex-report-", StringComparison.Ordinal))))
                {
                    Assert.True(DateTime.UtcNow < deadline, "The export never spilled its arrays:\n" + server.Log);
                    await Task.Delay(20);
                }

                await server.KillAsync();
            }

            // (The runtime keeps its diagnostic pipes there too.)
            Assert.DoesNotContain(Files(systemTemp), f => f.StartsWith("annex-", StringComparison.Ordinal));
            var left = Files(spillRoot);
            Assert.Contains(left, f => f.StartsWith("annex-zip-", StringComparison.Ordinal));
            Assert.Contains(left, f => f.StartsWith("annex-coco-", StringComparison.Ordinal));
            Assert.Contains(left, f => f.StartsWith("annex-report-", StringComparison.Ordinal));
            var killedFolder = Assert.Single(Directory.GetDirectories(spillRoot));
            if (bucket is not null)
            {
                Assert.Single(await bucket.OpenUploadsAsync());
            }

            // The next start: the dead process's spill folder goes at once; the export is taken over once its
            // lease runs out and finishes; on S3 the sweep after that aborts the dead writer's upload.
            using var restarted = new AnnexFactory(dataPath, new Dictionary<string, string?>(settings) { ["Storage:S3:SweepInterval"] = "00:00:00.500" });
            _ = restarted.Server;
            Assert.False(Directory.Exists(killedFolder));
            Assert.False(File.Exists(killedFolder + ".lock"));
            await using (var scope = restarted.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
                var uid = Guid.Parse(exportUid);
                var deadline = DateTime.UtcNow.AddMinutes(2);
                while (await db.Exports.AsNoTracking().Where(e => e.Uid == uid).Select(e => e.Status).SingleAsync() != ExportStatus.Exported)
                {
                    Assert.True(DateTime.UtcNow < deadline, "The export was not taken over and finished.");
                    await Task.Delay(100);
                }
            }

            // The new process's own spill files went when its export closed them.
            Assert.Empty(Files(spillRoot));
            if (bucket is not null)
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while ((await bucket.OpenUploadsAsync()).Count > 0)
                {
                    Assert.True(DateTime.UtcNow < deadline, "The killed writer's upload was still open 60 seconds after its export finished.");
                    await Task.Delay(100);
                }
            }
        }
        finally
        {
            AnnexFactory.TryDelete(systemTemp);
            AnnexFactory.TryDelete(dataPath);
            DropDatabase(settings);
        }
    }

    [SkippableFact]
    public async Task The_next_start_aborts_the_upload_of_a_killed_writer_whose_export_is_over()
    {
        using var bucket = await MotoServer.CreateBucketAsync();
        var dataPath = AnnexFactory.NewDataPath();
        var settings = new Dictionary<string, string?>(TestDatabase.NewServerSettings());
        foreach (var (key, value) in bucket.Settings())
        {
            settings[key] = value;
        }

        try
        {
            using (var api = new AnnexFactory(dataPath, new Dictionary<string, string?>(settings) { ["Server:Role"] = "Api" }))
            {
                var tenant = await api.CreateTenantAsync();
                var dataset = await Seed.DatasetAsync(tenant.Http);
                var uid = Guid.Parse((await Seed.ExportAsync(tenant.Http, "Taken over", datasets: [dataset]))["uid"]!.GetValue<string>());
                // A writer killed while the export was exporting; another process finished it meanwhile.
                await bucket.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket.Name, Key = $"exports/{uid:D}.zip" });
                await using var scope = api.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
                await db.Exports.Where(e => e.Uid == uid).ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, ExportStatus.Failed));
            }

            Assert.Single(await bucket.OpenUploadsAsync());
            // Sweeps an hour apart: only the pass at start-up can abort it within the test.
            using var restarted = new AnnexFactory(dataPath, new Dictionary<string, string?>(settings) { ["Storage:S3:SweepInterval"] = "01:00:00" });
            _ = restarted.Server;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await bucket.OpenUploadsAsync()).Count > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "The upload was still open 30 seconds after the start.");
                await Task.Delay(100);
            }
        }
        finally
        {
            AnnexFactory.TryDelete(dataPath);
            DropDatabase(settings);
        }
    }

    private static void DropDatabase(Dictionary<string, string?> settings)
    {
        if (settings.TryGetValue("Database:ConnectionString", out var connectionString) && connectionString is not null)
        {
            PostgresServer.DropDatabase(connectionString);
        }
    }

    private static string[] Files(string folder) => Directory.Exists(folder)
        ? [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(Path.GetFileName).OfType<string>().Where(name => !name.EndsWith(".lock", StringComparison.Ordinal))]
        : [];
}
