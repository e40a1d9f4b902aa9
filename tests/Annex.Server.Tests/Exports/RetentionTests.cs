using System.Globalization;
using System.Net;
using Annex.Server.Features.Exports.Worker;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

public sealed class RetentionTests
{
    private static DateTime Parse(string text) => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    private static async Task<(TenantClient Tenant, string Uid, System.Text.Json.Nodes.JsonNode Done)> ExportedAsync(AnnexFactory factory)
    {
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 3);
        var created = await Seed.ExportAsync(tenant.Http, "kept", datasets: [dataset]);
        var uid = created["uid"]!.GetValue<string>();
        Assert.Null(created["expires_at"]);
        var done = await Seed.WaitForAsync(tenant.Http, uid, ["exported", "failed"]);
        Assert.Equal("exported", done["status"]!.GetValue<string>());
        return (tenant, uid, done);
    }

    [Fact]
    public async Task An_exported_archive_shows_when_it_expires_seven_days_after_it_was_written_by_default()
    {
        using var factory = new AnnexFactory();
        var before = DateTime.UtcNow;
        var (_, _, done) = await ExportedAsync(factory);
        var expiresAt = Parse(done["expires_at"]!.GetValue<string>());
        Assert.InRange(expiresAt, before.AddDays(7).AddSeconds(-1), DateTime.UtcNow.AddDays(7).AddSeconds(1));
        Assert.NotNull(await Archives.DownloadAsync(factory, done["download_url"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_expired_archive_answers_410_and_the_sweeper_deletes_it_but_keeps_the_export()
    {
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?> { ["Exports:ArchiveRetention"] = "00:00:01" });
        var (tenant, uid, done) = await ExportedAsync(factory);
        var expiresAt = Parse(done["expires_at"]!.GetValue<string>());
        var blobs = Path.Combine(factory.DataPath, "blobs");
        Assert.NotEmpty(Directory.EnumerateFiles(blobs, "*", SearchOption.AllDirectories));
        while (DateTime.UtcNow <= expiresAt.AddMilliseconds(100))
        {
            await Task.Delay(100);
        }

        var (_, current) = await tenant.Http.GetJsonAsync($"/api/v1/exports/{uid}/");
        using var anonymous = factory.CreateClientWithKey(null);
        var (status, body) = await anonymous.GetJsonAsync(current!["download_url"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Gone, status);
        var expected = $"This export's archive expired at {expiresAt:yyyy-MM-ddTHH:mm:ssZ} and was deleted; create a new export to download the data again.";
        Api.AssertJson(System.Text.Json.JsonSerializer.Serialize(new { detail = expected }), body);

        var sweeper = factory.Services.GetRequiredService<ExpiredArchiveSweeper>();
        await sweeper.SweepAsync(CancellationToken.None);
        Assert.Empty(Directory.EnumerateFiles(blobs, "*", SearchOption.AllDirectories));
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));

        var (afterStatus, after) = await tenant.Http.GetJsonAsync($"/api/v1/exports/{uid}/");
        Assert.Equal(HttpStatusCode.OK, afterStatus);
        Assert.Equal("exported", after!["status"]!.GetValue<string>());
        Assert.Equal(done["expires_at"]!.GetValue<string>(), after["expires_at"]!.GetValue<string>());
        var (goneStatus, _) = await anonymous.GetJsonAsync(after["download_url"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Gone, goneStatus);
    }

    [Fact]
    public async Task The_sweeper_deletes_temporary_files_left_by_a_stopped_writer_and_keeps_fresh_ones()
    {
        using var factory = new AnnexFactory();
        _ = factory.Server;
        var temp = Path.Combine(factory.DataPath, "tmp");
        var stale = Path.Combine(temp, "0123456789abcdef0123456789abcdef.partial");
        var fresh = Path.Combine(temp, "fedcba9876543210fedcba9876543210.partial");
        await File.WriteAllTextAsync(stale, "half an archive");
        await File.WriteAllTextAsync(fresh, "an archive being written");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));

        await factory.Services.GetRequiredService<ExpiredArchiveSweeper>().SweepAsync(CancellationToken.None);

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
    }

    [Fact]
    public async Task An_archive_published_before_expiries_existed_gets_one_from_the_backfill_and_is_then_swept()
    {
        using var factory = new AnnexFactory();
        var (_, uid, _) = await ExportedAsync(factory);
        var exportUid = Guid.Parse(uid);
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var migrations = db.Database.GetMigrations().ToList();
        var backfill = migrations.FindIndex(m => m.EndsWith("_BackfillArchiveExpiry", StringComparison.Ordinal));
        Assert.True(backfill > 0, "There is no BackfillArchiveExpiry migration.");

        // The database as it was before the backfill, with an archive published eight days ago and no expiry.
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(migrations[backfill - 1]);
        var published = DateTime.UtcNow.AddDays(-8);
        await db.Exports.Where(e => e.Uid == exportUid)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.ExpiresAt, (DateTime?)null).SetProperty(e => e.UpdatedAt, published));
        await migrator.MigrateAsync();

        var expiresAt = await db.Exports.Where(e => e.Uid == exportUid).Select(e => e.ExpiresAt).SingleAsync();
        Assert.NotNull(expiresAt);
        Assert.InRange(expiresAt.Value, published.AddDays(7).AddSeconds(-1), published.AddDays(7).AddSeconds(1));
        Assert.Equal(1, await factory.Services.GetRequiredService<ExpiredArchiveSweeper>().SweepAsync(CancellationToken.None));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(factory.DataPath, "blobs"), "*", SearchOption.AllDirectories));
        Assert.Null(await db.Exports.Where(e => e.Uid == exportUid).Select(e => e.ArchiveKey).SingleAsync());
    }
}
