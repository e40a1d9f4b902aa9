using System.Globalization;
using Annex.Formats;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Scale;

/// <summary>
/// Several worker processes on one PostgreSQL database and one blob store, one of them killed with
/// SIGKILL in the middle of writing: every export still ends <c>exported</c>, complete, written to
/// completion by exactly one worker, and nothing partial is visible in storage.
/// </summary>
public sealed class WorkerCrashTests
{
    private const int Exports = 30;
    private const int Tasks = 3000;

    [Fact]
    public async Task Killing_a_worker_mid_export_loses_no_export_and_writes_none_twice()
    {
        PostgresServer.Require();
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["Database:ConnectionString"] = PostgresServer.CreateDatabase(),
            ["Exports:BatchSize"] = "25",
            ["Exports:Workers"] = "2",
            ["Exports:MaxRunningPerOrganization"] = "10",
            ["Exports:LeaseDuration"] = "00:00:03",
            ["Exports:HeartbeatInterval"] = "00:00:00.300",
            ["Exports:PollInterval"] = "00:00:00.200",
        };
        var storage = await CrashTestStorage.CreateAsync();
        foreach (var (key, value) in storage.Settings)
        {
            settings[key] = value;
        }

        // The API in this process (no worker), the workers in three others.
        using var api = new AnnexFactory(settings: new Dictionary<string, string?>(settings) { ["Server:Role"] = "Api" });
        var tenant = await api.CreateTenantAsync("Crash");
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, await Seed.ItemsAsync(tenant.Http, dataset, Tasks), perItem: 2);

        var workerSettings = settings.ToDictionary(s => s.Key, s => s.Value!);
        workerSettings["Storage:DataPath"] = api.DataPath;
        var workers = Enumerable.Range(0, 3).Select(_ => WorkerProcess.Start("worker", workerSettings)).ToList();
        try
        {
            var uids = new List<string>();
            for (var n = 0; n < Exports; n++)
            {
                uids.Add((await Seed.ExportAsync(tenant.Http, $"crash {n:D2}", datasets: [dataset]))["uid"]!.GetValue<string>());
            }

            var victim = await KillOneWhileWritingAsync(api, workers);

            foreach (var uid in uids)
            {
                await Seed.WaitForAsync(tenant.Http, uid, ["exported"], TimeSpan.FromMinutes(4));
            }

            await using var scope = api.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var exportUids = uids.Select(Guid.Parse).ToList();
            var exports = await db.Exports.AsNoTracking().Where(e => exportUids.Contains(e.Uid)).ToListAsync();
            Assert.Equal(Exports, exports.Count);
            Assert.All(exports, e => Assert.Equal(ExportStatus.Exported, e.Status));
            Assert.All(exports, e => Assert.Equal((long)Tasks, e.ExportedTaskCount));
            Assert.Contains(exports, e => e.Attempts == 2);

            // Each export was completed by exactly one worker, and never by the one that was killed.
            var completions = workers.SelectMany(w => w.Lines.Where(l => l.Contains(": exported ", StringComparison.Ordinal))).ToList();
            foreach (var uid in uids)
            {
                Assert.Single(completions, l => l.Contains(uid, StringComparison.OrdinalIgnoreCase));
            }

            Assert.DoesNotContain(victim.Lines, l => l.Contains(": exported ", StringComparison.Ordinal) && l.Contains(victim.KilledOn, StringComparison.OrdinalIgnoreCase));

            // Every archive is whole and holds every task.
            foreach (var uid in uids)
            {
                var (_, body) = await tenant.Http.GetJsonAsync($"/api/v1/exports/{uid}/");
                var archive = await CrashTestStorage.DownloadAsync(api, body!["download_url"]!.GetValue<string>());
                using var document = Archives.ReadSingleJson(archive);
                Assert.Empty(AvalaJsonSchema.Validate(document));
                Assert.Equal(Tasks, document.RootElement.GetProperty("results").GetArrayLength());
            }

            // Storage shows the 30 archives and nothing else: the killed writer's bytes never became an object.
            Assert.Equal(exports.Select(e => e.ArchiveKey!).Order(StringComparer.Ordinal), await CrashTestStorage.VisibleKeysAsync(api));
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }

            await storage.DisposeAsync();
        }
    }

    private sealed record Victim(IReadOnlyList<string> Lines, string KilledOn);

    /// <summary>Waits until some worker process holds a lease on an export it has started writing, and kills it.</summary>
    private static async Task<Victim> KillOneWhileWritingAsync(AnnexFactory api, List<WorkerProcess> workers)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            await using (var scope = api.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
                var writing = await db.Exports.AsNoTracking()
                    .Where(e => e.Status == ExportStatus.Exporting && e.ExportedTaskCount > 0 && e.ExportedTaskCount < Tasks)
                    .Select(e => new { e.Uid, e.LeaseOwner })
                    .ToListAsync();
                foreach (var export in writing)
                {
                    var owner = workers.FirstOrDefault(w => export.LeaseOwner?.EndsWith(":" + w.Id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) == true);
                    if (owner is not null)
                    {
                        owner.Kill();
                        return new Victim(owner.Lines, export.Uid.ToString());
                    }
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("No worker process was seen writing an export.");
    }
}
