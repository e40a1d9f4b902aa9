using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Worker;

/// <summary>An export this worker holds the lease on.</summary>
public sealed record ClaimedExport(long Id, Guid Uid, string Format, int Attempt);

/// <summary>The export queue, kept in the exports table itself. A worker claims a <c>requested</c> export
/// (or one whose lease ran out) with a conditional update, so exactly one worker wins; every later write
/// by that worker is conditional on still holding the lease, so a worker that lost it changes nothing.</summary>
public sealed class ExportQueue(IDbContextFactory<AnnexDbContext> contexts, IOptions<ExportsOptions> options, TimeProvider time, ILogger<ExportQueue> logger)
{
    private readonly ExportsOptions _options = options.Value;

    /// <summary>Unique per process, readable in the database when an operator looks for who holds a lease.</summary>
    public string WorkerId { get; } = $"{Guid.NewGuid():N}@{Environment.MachineName}:{Environment.ProcessId}" is var id && id.Length > 128 ? id[..128] : id;

    public async Task<ClaimedExport?> TryClaimAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var now = Clock.UtcNow(time);
            var candidate = await db.Exports.AsNoTracking()
                .Where(e => e.Status == ExportStatus.Requested || (e.Status == ExportStatus.Exporting && e.LeaseExpiresAt < now))
                .OrderBy(e => e.CreatedAt).ThenBy(e => e.Id)
                .Select(e => new { e.Id, e.Uid, e.Format, e.Attempts, e.Status })
                .FirstOrDefaultAsync(cancellationToken);
            if (candidate is null)
            {
                return null;
            }

            if (candidate.Attempts >= _options.MaxAttempts)
            {
                await GiveUpAsync(db, candidate.Id, candidate.Attempts, now, cancellationToken);
                continue;
            }

            var expires = now + _options.LeaseDuration;
            var claimed = await db.Exports
                .Where(e => e.Id == candidate.Id && (e.Status == ExportStatus.Requested || (e.Status == ExportStatus.Exporting && e.LeaseExpiresAt < now)))
                .ExecuteUpdateAsync(
                    s => s.SetProperty(e => e.Status, ExportStatus.Exporting)
                        .SetProperty(e => e.LeaseOwner, WorkerId)
                        .SetProperty(e => e.LeaseExpiresAt, expires)
                        .SetProperty(e => e.Attempts, e => e.Attempts + 1)
                        .SetProperty(e => e.TotalTaskCount, (long?)null)
                        .SetProperty(e => e.ExportedTaskCount, (long?)null)
                        .SetProperty(e => e.UpdatedAt, now),
                    cancellationToken);
            if (claimed == 1)
            {
                if (candidate.Status == ExportStatus.Exporting)
                {
                    logger.LogWarning("Export {ExportUid}: took over after its previous worker's lease expired (attempt {Attempt})", candidate.Uid, candidate.Attempts + 1);
                }

                return new ClaimedExport(candidate.Id, candidate.Uid, candidate.Format, candidate.Attempts + 1);
            }
        }

        return null;
    }

    /// <summary>Sets the task total when writing starts; false when the lease is gone.</summary>
    public Task<bool> StartAsync(ClaimedExport job, long total, CancellationToken cancellationToken) =>
        UpdateHeldAsync(job, s => s.SetProperty(e => e.TotalTaskCount, total).SetProperty(e => e.ExportedTaskCount, 0L), cancellationToken);

    /// <summary>Renews the lease and publishes progress; false when the export was aborted or taken over.</summary>
    public Task<bool> HeartbeatAsync(ClaimedExport job, long exported, CancellationToken cancellationToken)
    {
        var expires = Clock.UtcNow(time) + _options.LeaseDuration;
        return UpdateHeldAsync(job, s => s.SetProperty(e => e.LeaseExpiresAt, expires).SetProperty(e => e.ExportedTaskCount, exported), cancellationToken);
    }

    public Task<bool> CompleteAsync(ClaimedExport job, string archiveKey, long archiveSize, long exported, CancellationToken cancellationToken) =>
        UpdateHeldAsync(
            job,
            s => s.SetProperty(e => e.Status, ExportStatus.Exported)
                .SetProperty(e => e.ArchiveKey, archiveKey)
                .SetProperty(e => e.ArchiveSize, archiveSize)
                .SetProperty(e => e.ExportedTaskCount, exported)
                .SetProperty(e => e.TotalTaskCount, exported)
                .SetProperty(e => e.LeaseOwner, (string?)null)
                .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null),
            cancellationToken);

    public Task<bool> FailAsync(ClaimedExport job, string error, CancellationToken cancellationToken) =>
        UpdateHeldAsync(
            job,
            s => s.SetProperty(e => e.Status, ExportStatus.Failed)
                .SetProperty(e => e.Error, error)
                .SetProperty(e => e.LeaseOwner, (string?)null)
                .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null),
            cancellationToken);

    /// <summary>Hands an export back to the queue on a graceful shutdown; that does not count as an attempt.</summary>
    public Task<bool> ReleaseAsync(ClaimedExport job, CancellationToken cancellationToken) =>
        UpdateHeldAsync(
            job,
            s => s.SetProperty(e => e.Status, ExportStatus.Requested)
                .SetProperty(e => e.Attempts, e => e.Attempts - 1)
                .SetProperty(e => e.TotalTaskCount, (long?)null)
                .SetProperty(e => e.ExportedTaskCount, (long?)null)
                .SetProperty(e => e.LeaseOwner, (string?)null)
                .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null),
            cancellationToken);

    private async Task<bool> UpdateHeldAsync(
        ClaimedExport job,
        Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<Export>> setters,
        CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = Clock.UtcNow(time);
        var changed = await db.Exports
            .Where(e => e.Id == job.Id && e.Status == ExportStatus.Exporting && e.LeaseOwner == WorkerId)
            .ExecuteUpdateAsync(
                s =>
                {
                    setters(s);
                    s.SetProperty(e => e.UpdatedAt, now);
                },
                cancellationToken);
        return changed == 1;
    }

    private async Task GiveUpAsync(AnnexDbContext db, long id, int attempts, DateTime now, CancellationToken cancellationToken)
    {
        var error = $"The export was interrupted {attempts} times (its worker stopped before finishing) and was given up. Create a new export to try again.";
        await db.Exports
            .Where(e => e.Id == id && e.Status == ExportStatus.Exporting && e.LeaseExpiresAt < now)
            .ExecuteUpdateAsync(
                s => s.SetProperty(e => e.Status, ExportStatus.Failed)
                    .SetProperty(e => e.Error, error)
                    .SetProperty(e => e.LeaseOwner, (string?)null)
                    .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null)
                    .SetProperty(e => e.UpdatedAt, now),
                cancellationToken);
        logger.LogWarning("Export {ExportId}: failed after {Attempts} interrupted attempts", id, attempts);
    }
}
