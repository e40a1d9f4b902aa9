using Annex.Server.Hosting;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Worker;

/// <summary>
/// Every <see cref="ExportsOptions.RetentionSweepInterval"/>, deletes the archives whose retention ran
/// out (the export stays, with its <c>expires_at</c>, and a download answers 410), the spill files of processes
/// that are gone (<see cref="SpillFolder"/>) and, on local disk, temporary archive files that a crashed process
/// left behind. Runs where the export worker runs; any
/// number of replicas may sweep at once, deleting twice is harmless.
/// </summary>
public sealed class ExpiredArchiveSweeper(
    IDbContextFactory<AnnexDbContext> contexts,
    IBlobStore blobs,
    IServiceProvider services,
    IOptions<ExportsOptions> options,
    IOptions<ServerOptions> server,
    TimeProvider time,
    ILogger<ExpiredArchiveSweeper> logger) : PeriodicWork(time, logger)
{
    private readonly ExportsOptions _options = options.Value;

    protected override TimeSpan Interval => _options.RetentionSweepInterval;

    protected override string Description => "Deleting expired archives";

    protected override bool Enabled => server.Value.RunsWorker;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>One sweep; returns how many archives it deleted.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = Clock.UtcNow(Time);
        var deleted = 0;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        while (true)
        {
            var expired = await db.Exports.AsNoTracking()
                .Where(e => e.ArchiveKey != null && e.ExpiresAt <= now)
                .OrderBy(e => e.Id)
                .Select(e => new { e.Id, e.ArchiveKey })
                .Take(100)
                .ToListAsync(cancellationToken);
            if (expired.Count == 0)
            {
                break;
            }

            foreach (var export in expired)
            {
                // The blob goes first: a crash in between leaves a row that the next sweep deletes again.
                await blobs.DeleteAsync(export.ArchiveKey!, cancellationToken);
                await db.Exports.Where(e => e.Id == export.Id && e.ArchiveKey == export.ArchiveKey)
                    .ExecuteUpdateAsync(s => s.SetProperty(e => e.ArchiveKey, (string?)null), cancellationToken);
                deleted++;
            }
        }

        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} expired export archives", deleted);
        }

        var spilled = services.GetRequiredService<SpillFolder>().DeleteOrphans();
        if (spilled > 0)
        {
            logger.LogInformation("Deleted {Count} temporary export files left by stopped processes", spilled);
        }

        if (services.GetService<LocalBlobStore>() is { } local)
        {
            var orphans = local.DeleteStalePendingFiles(now - _options.OrphanedTempFileAge);
            if (orphans > 0)
            {
                logger.LogInformation("Deleted {Count} temporary archive files left by stopped writers", orphans);
            }
        }

        return deleted;
    }
}
