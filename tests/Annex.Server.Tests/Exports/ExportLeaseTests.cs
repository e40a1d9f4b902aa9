using System.Collections.Concurrent;
using System.IO.Compression;
using Annex.Server.Features.Exports;
using Annex.Server.Features.Exports.Worker;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>The queue's lease and its fencing: a claim holds its export from the moment it is made, and only
/// the claim that holds the lease can write, even against another slot of the same process.</summary>
public sealed class ExportLeaseTests
{
    /// <summary>Counts how often each export started being prepared, and makes the preparation (snapshot, scope,
    /// filter) take <paramref name="delay"/>, as a large filtered export does.</summary>
    private sealed class SlowPreparation(IExportSourceOpener inner, ConcurrentDictionary<Guid, int> runs, TimeSpan delay) : IExportSourceOpener
    {
        public async Task<ExportSource> OpenAsync(Export export, CancellationToken cancellationToken)
        {
            runs.AddOrUpdate(export.Uid, 1, (_, n) => n + 1);
            var source = await inner.OpenAsync(export, cancellationToken);
            try
            {
                await Task.Delay(delay, cancellationToken);
                return source;
            }
            catch
            {
                await source.DisposeAsync();
                throw;
            }
        }
    }

    private static Action<IServiceCollection> Slow(ConcurrentDictionary<Guid, int> runs, TimeSpan delay) => services =>
    {
        services.RemoveAll<IExportSourceOpener>();
        services.AddSingleton<IExportSourceOpener>(sp => new SlowPreparation(ActivatorUtilities.CreateInstance<ExportSourceOpener>(sp), runs, delay));
    };

    private static async Task<(TenantClient Tenant, string Dataset)> TenantWithDataAsync(AnnexFactory factory, int items = 20)
    {
        var tenant = await factory.CreateTenantAsync("Lease");
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, await Seed.ItemsAsync(tenant.Http, dataset, items), perItem: 1);
        return (tenant, dataset);
    }

    private static async Task<Export> RowAsync(AnnexFactory factory, string uid)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var exportUid = Guid.Parse(uid);
        return await db.Exports.AsNoTracking().SingleAsync(e => e.Uid == exportUid);
    }

    private static string[] ArchivesOf(string dataPath, string uid)
    {
        var folder = Path.Combine(dataPath, "blobs", "exports");
        return Directory.Exists(folder) ? Directory.GetFiles(folder, $"{uid}*", SearchOption.AllDirectories) : [];
    }

    [Fact]
    public async Task A_slow_preparation_keeps_its_lease_so_two_hosts_with_two_slots_each_run_the_export_once()
    {
        var runs = new ConcurrentDictionary<Guid, int>();
        // Preparing takes three leases' time; every slot of both hosts polls for work meanwhile.
        var settings = new Dictionary<string, string?> { ["Exports:Workers"] = "2", ["Exports:LeaseDuration"] = "00:00:02" };
        using var first = new AnnexFactory(settings: settings, services: Slow(runs, TimeSpan.FromSeconds(6)));
        using var second = new AnnexFactory(first.DataPath, settings, Slow(runs, TimeSpan.FromSeconds(6)));
        var (tenant, dataset) = await TenantWithDataAsync(first);
        using var secondClient = second.CreateClientWithKey(tenant.Key.Key);
        _ = await secondClient.GetJsonAsync("/api/v1/exports/");

        var uid = (await Seed.ExportAsync(tenant.Http, "slow start", datasets: [dataset], filter: "annotation_count >= 1"))["uid"]!.GetValue<string>();
        var done = await Seed.WaitForAsync(tenant.Http, uid, ["exported", "failed"]);

        Assert.Equal("exported", done["status"]!.GetValue<string>());
        Assert.Equal(1, runs[Guid.Parse(uid)]);
        Assert.Equal(1, (await RowAsync(first, uid)).Attempts);
        Assert.Single(ArchivesOf(first.DataPath, uid));
        using var archive = new ZipArchive(new MemoryStream(await Archives.DownloadAsync(first, done["download_url"]!.GetValue<string>())));
        Assert.NotEmpty(archive.Entries);
    }

    [Fact]
    public async Task A_claim_taken_over_by_another_slot_of_the_same_process_can_no_longer_write()
    {
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?> { ["Server:Role"] = "Api" });
        var (tenant, dataset) = await TenantWithDataAsync(factory, items: 2);
        var uid = (await Seed.ExportAsync(tenant.Http, "fenced", datasets: [dataset]))["uid"]!.GetValue<string>();
        var queue = factory.Services.GetRequiredService<ExportQueue>();

        var stale = await queue.TryClaimAsync(CancellationToken.None);
        Assert.NotNull(stale);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            // The first claim stalled past its lease (a long pause, a database hiccup); the same process claims again.
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var expired = DateTime.UtcNow.AddSeconds(-1);
            await db.Exports.Where(e => e.Id == stale.Id).ExecuteUpdateAsync(s => s.SetProperty(e => e.LeaseExpiresAt, expired));
        }

        var current = await queue.TryClaimAsync(CancellationToken.None);
        Assert.NotNull(current);
        Assert.Equal(stale.Id, current.Id);
        Assert.Equal(2, current.Attempt);

        Assert.False(await queue.HeartbeatAsync(stale, 0, CancellationToken.None));
        Assert.False(await queue.StartAsync(stale, 2, CancellationToken.None));
        Assert.False(await queue.CompleteAsync(stale, stale.ArchiveKey, 10, 2, CancellationToken.None));
        Assert.False(await queue.FailAsync(stale, "stale", CancellationToken.None));
        Assert.NotEqual(stale.ArchiveKey, current.ArchiveKey);
        Assert.True(await queue.HeartbeatAsync(current, 0, CancellationToken.None));
        Assert.True(await queue.CompleteAsync(current, current.ArchiveKey, 10, 2, CancellationToken.None));
        var row = await RowAsync(factory, uid);
        Assert.Equal(ExportStatus.Exported, row.Status);
        Assert.Equal(current.ArchiveKey, row.ArchiveKey);
    }

    [Fact]
    public async Task A_waiting_export_whose_attempts_are_used_up_fails_and_does_not_block_the_queue()
    {
        var settings = new Dictionary<string, string?> { ["Exports:MaxAttempts"] = "2" };
        using var api = new AnnexFactory(settings: new Dictionary<string, string?>(settings) { ["Server:Role"] = "Api" });
        var (tenant, dataset) = await TenantWithDataAsync(api, items: 3);
        var stuck = (await Seed.ExportAsync(tenant.Http, "used up", datasets: [dataset]))["uid"]!.GetValue<string>();
        var next = (await Seed.ExportAsync(tenant.Http, "behind it", datasets: [dataset]))["uid"]!.GetValue<string>();
        await using (var scope = api.Services.CreateAsyncScope())
        {
            // E.g. handed back at a shutdown after its last allowed attempt, or MaxAttempts lowered since.
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var stuckUid = Guid.Parse(stuck);
            await db.Exports.Where(e => e.Uid == stuckUid).ExecuteUpdateAsync(s => s.SetProperty(e => e.Attempts, 2));
        }

        using var worker = new AnnexFactory(api.DataPath, settings);
        using var client = worker.CreateClientWithKey(tenant.Key.Key);
        var behind = await Seed.WaitForAsync(client, next, ["exported", "failed"], TimeSpan.FromSeconds(30));
        Assert.Equal("exported", behind["status"]!.GetValue<string>());
        var failed = await Seed.WaitForAsync(client, stuck, ["exported", "failed"], TimeSpan.FromSeconds(5));
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Contains("2 times", failed["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>PostgreSQL only: SQLite takes its write lock when the claim's transaction begins, in its own
    /// busy wait, which no provider can cancel.</summary>
    [Fact]
    public async Task Claiming_on_PostgreSQL_stops_when_cancelled_while_the_queue_table_is_locked()
    {
        if (!TestDatabase.IsPostgres)
        {
            return;
        }

        using var factory = new AnnexFactory(settings: new Dictionary<string, string?> { ["Server:Role"] = "Api" });
        var (tenant, dataset) = await TenantWithDataAsync(factory, items: 1);
        await Seed.ExportAsync(tenant.Http, "waits", datasets: [dataset]);
        var queue = factory.Services.GetRequiredService<ExportQueue>();

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        bool stoppedWhileLocked;
        Task<ClaimedExport?> claim;
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await db.Database.ExecuteSqlRawAsync("LOCK TABLE exports IN ACCESS EXCLUSIVE MODE");
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            claim = Task.Run(() => queue.TryClaimAsync(cancel.Token), CancellationToken.None);
            stoppedWhileLocked = await Task.WhenAny(claim, Task.Delay(TimeSpan.FromSeconds(20), CancellationToken.None)) == claim;
            await transaction.RollbackAsync();
        }

        Assert.True(stoppedWhileLocked, "the claim query went on waiting for the lock after it was cancelled");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => claim);
    }
}
