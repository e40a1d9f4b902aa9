using System.Linq.Expressions;
using Annex.Server.Features.Webhooks;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Worker;

/// <summary>An export this worker holds the lease on. <see cref="ClaimToken"/> is new for every claim.</summary>
public sealed record ClaimedExport(long Id, Guid Uid, string Format, int Attempt, Guid ClaimToken)
{
    /// <summary>Where this attempt publishes its archive; no other attempt uses it.</summary>
    public string ArchiveKey => ExportArchive.Key(Uid, ClaimToken);
}

/// <summary>
/// The export queue, kept in the exports table itself. A worker claims the next <c>requested</c> export
/// (or one whose lease ran out) inside a short transaction: on PostgreSQL the candidate row is locked
/// with <c>FOR UPDATE SKIP LOCKED</c>, so concurrent workers on any number of replicas each take a
/// different export without waiting for each other; on SQLite the transaction takes the database's
/// single write lock. Every claim gets a token of its own (<see cref="Export.ClaimToken"/>), and every later
/// write of that run is conditional on the row still carrying it, so a run that lost its lease changes
/// nothing, even when another slot of the same process took the export over.
/// </summary>
/// <para>Fair scheduling: an organization runs at most <see cref="ExportsOptions.MaxRunningPerOrganization"/>
/// exports at once, and among waiting exports those of organizations with the fewest running go first,
/// oldest first within that, so one organization's 200 exports do not hold back another's single one.</para>
public sealed class ExportQueue(IDbContextFactory<AnnexDbContext> contexts, IOptions<ExportsOptions> options, TimeProvider time, ILogger<ExportQueue> logger)
{
    private readonly ExportsOptions _options = options.Value;

    // pg_advisory_xact_lock(key1, key2) namespace for "claiming for organization key2".
    private const int OrganizationClaimLock = 0x414E5851;

    /// <summary>Unique per process, readable in the database when an operator looks for who holds a lease.</summary>
    public string WorkerId { get; } = $"{Guid.NewGuid():N}@{Environment.MachineName}:{Environment.ProcessId}" is var id && id.Length > 128 ? id[..128] : id;

    public async Task<ClaimedExport?> TryClaimAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var postgres = db.Database.IsNpgsql();
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var now = Clock.UtcNow(time);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var candidate = await NextCandidateAsync(db, postgres, now, cancellationToken);
            if (candidate is null)
            {
                return null;
            }

            if (candidate.Attempts >= _options.MaxAttempts)
            {
                // Waiting or with an expired lease: either way it leaves the claim order for good.
                await GiveUpAsync(db, candidate.Id, candidate.Attempts, now, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                continue;
            }

            if (candidate.Status == ExportStatus.Requested && !await UnderOrganizationCapAsync(db, postgres, candidate, now, cancellationToken))
            {
                // Another worker filled the organization's last slot since the candidate was chosen.
                await transaction.RollbackAsync(cancellationToken);
                continue;
            }

            var expires = now + _options.LeaseDuration;
            var token = Guid.NewGuid();
            var claimed = await db.Exports
                .Where(e => e.Id == candidate.Id && (e.Status == ExportStatus.Requested || (e.Status == ExportStatus.Exporting && e.LeaseExpiresAt < now)))
                .ExecuteUpdateAsync(
                    s => s.SetProperty(e => e.Status, ExportStatus.Exporting)
                        .SetProperty(e => e.LeaseOwner, WorkerId)
                        .SetProperty(e => e.ClaimToken, token)
                        .SetProperty(e => e.LeaseExpiresAt, expires)
                        .SetProperty(e => e.Attempts, e => e.Attempts + 1)
                        .SetProperty(e => e.TotalTaskCount, (long?)null)
                        .SetProperty(e => e.ExportedTaskCount, (long?)null)
                        .SetProperty(e => e.UpdatedAt, now),
                    cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            if (claimed == 1)
            {
                if (candidate.Status == ExportStatus.Exporting)
                {
                    logger.LogWarning("Export {ExportUid}: took over after its previous worker's lease expired (attempt {Attempt})", candidate.Uid, candidate.Attempts + 1);
                }

                return new ClaimedExport(candidate.Id, candidate.Uid, candidate.Format, candidate.Attempts + 1, token);
            }
        }

        return null;
    }

    /// <summary>The export to run next: an expired lease to take over, or a waiting export of an
    /// organization below its cap, fewest running first. On PostgreSQL the row comes back locked, and rows
    /// other workers are claiming right now are skipped rather than waited for.</summary>
    private async Task<Export?> NextCandidateAsync(AnnexDbContext db, bool postgres, DateTime now, CancellationToken cancellationToken)
    {
        var cap = _options.MaxRunningPerOrganization;
        if (postgres)
        {
            var candidates = db.Exports.FromSqlRaw(
                """
                SELECT e.* FROM exports AS e
                WHERE (e."Status" = 'requested' AND (
                        SELECT COUNT(*) FROM exports AS x
                        WHERE x."OrganizationId" = e."OrganizationId" AND x."Status" = 'exporting' AND x."LeaseExpiresAt" >= {0}) < {1})
                   OR (e."Status" = 'exporting' AND e."LeaseExpiresAt" < {0})
                ORDER BY (
                        SELECT COUNT(*) FROM exports AS x
                        WHERE x."OrganizationId" = e."OrganizationId" AND x."Status" = 'exporting' AND x."LeaseExpiresAt" >= {0}),
                    e."CreatedAt", e."Id"
                LIMIT 1
                FOR UPDATE OF e SKIP LOCKED
                """,
                now,
                cap).AsNoTracking().AsAsyncEnumerable();
            // Enumerated as it is: composing (FirstOrDefaultAsync) would wrap the locking query in a subquery.
            await foreach (var row in candidates.WithCancellation(cancellationToken))
            {
                return row;
            }

            return null;
        }

        var running = db.Exports.Where(x => x.Status == ExportStatus.Exporting && x.LeaseExpiresAt >= now);
        return await db.Exports.AsNoTracking()
            .Where(e => (e.Status == ExportStatus.Requested && running.Count(x => x.OrganizationId == e.OrganizationId) < cap)
                || (e.Status == ExportStatus.Exporting && e.LeaseExpiresAt < now))
            .OrderBy(e => running.Count(x => x.OrganizationId == e.OrganizationId))
            .ThenBy(e => e.CreatedAt).ThenBy(e => e.Id)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Counts the organization's running exports again, serialized with other claims for the same
    /// organization (an advisory lock on PostgreSQL; SQLite's write lock already serializes), so concurrent
    /// workers cannot together push it past its cap.</summary>
    private async Task<bool> UnderOrganizationCapAsync(AnnexDbContext db, bool postgres, Export candidate, DateTime now, CancellationToken cancellationToken)
    {
        if (postgres)
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0}, {1})", [OrganizationClaimLock, (int)(candidate.OrganizationId % int.MaxValue)], cancellationToken);
        }

        var running = await db.Exports.CountAsync(
            e => e.OrganizationId == candidate.OrganizationId && e.Id != candidate.Id && e.Status == ExportStatus.Exporting && e.LeaseExpiresAt >= now,
            cancellationToken);
        return running < _options.MaxRunningPerOrganization;
    }

    /// <summary>Sets the task total when writing starts; false when the lease is gone.</summary>
    public Task<bool> StartAsync(ClaimedExport job, long total, CancellationToken cancellationToken) =>
        UpdateHeldAsync(job, s => s.SetProperty(e => e.TotalTaskCount, total).SetProperty(e => e.ExportedTaskCount, 0L), cancellationToken);

    /// <summary>Renews the lease and publishes progress (none yet before writing starts: <paramref name="exported"/>
    /// is null); false when the export was aborted or taken over.</summary>
    public Task<bool> HeartbeatAsync(ClaimedExport job, long? exported, CancellationToken cancellationToken)
    {
        var expires = Clock.UtcNow(time) + _options.LeaseDuration;
        return exported is { } tasks
            ? UpdateHeldAsync(job, s => s.SetProperty(e => e.LeaseExpiresAt, expires).SetProperty(e => e.ExportedTaskCount, tasks), cancellationToken)
            : UpdateHeldAsync(job, s => s.SetProperty(e => e.LeaseExpiresAt, expires), cancellationToken);
    }

    public Task<bool> CompleteAsync(ClaimedExport job, string archiveKey, long archiveSize, long exported, CancellationToken cancellationToken)
    {
        var expiresAt = Clock.UtcNow(time) + _options.ArchiveRetention;
        return UpdateHeldAsync(
            job,
            s => s.SetProperty(e => e.Status, ExportStatus.Exported)
                .SetProperty(e => e.ArchiveKey, archiveKey)
                .SetProperty(e => e.ExpiresAt, expiresAt)
                .SetProperty(e => e.ArchiveSize, archiveSize)
                .SetProperty(e => e.ExportedTaskCount, exported)
                .SetProperty(e => e.TotalTaskCount, exported)
                .SetProperty(e => e.LeaseOwner, (string?)null)
                .SetProperty(e => e.ClaimToken, (Guid?)null)
                .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null),
            cancellationToken,
            WebhookEvents.ExportCompleted);
    }

    public Task<bool> FailAsync(ClaimedExport job, string error, CancellationToken cancellationToken) =>
        UpdateHeldAsync(
            job,
            s => s.SetProperty(e => e.Status, ExportStatus.Failed)
                .SetProperty(e => e.Error, error)
                .SetProperty(e => e.LeaseOwner, (string?)null)
                .SetProperty(e => e.ClaimToken, (Guid?)null)
                .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null),
            cancellationToken,
            WebhookEvents.ExportFailed);

    /// <summary>Hands an export back to the queue on a graceful shutdown; that does not count as an attempt.</summary>
    public Task<bool> ReleaseAsync(ClaimedExport job, CancellationToken cancellationToken) =>
        UpdateHeldAsync(
            job,
            s => s.SetProperty(e => e.Status, ExportStatus.Requested)
                .SetProperty(e => e.Attempts, e => e.Attempts - 1)
                .SetProperty(e => e.TotalTaskCount, (long?)null)
                .SetProperty(e => e.ExportedTaskCount, (long?)null)
                .SetProperty(e => e.LeaseOwner, (string?)null)
                .SetProperty(e => e.ClaimToken, (Guid?)null)
                .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null),
            cancellationToken);

    private async Task<bool> UpdateHeldAsync(
        ClaimedExport job,
        Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<Export>> setters,
        CancellationToken cancellationToken,
        string? webhookEvent = null)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = Clock.UtcNow(time);
        // The outcome and its webhook deliveries commit together, or neither does.
        await using var transaction = webhookEvent is null ? null : await db.Database.BeginTransactionAsync(cancellationToken);
        var changed = await db.Exports
            .Where(e => e.Id == job.Id && e.Status == ExportStatus.Exporting && e.ClaimToken == job.ClaimToken)
            .ExecuteUpdateAsync(
                s =>
                {
                    setters(s);
                    s.SetProperty(e => e.UpdatedAt, now);
                },
                cancellationToken);
        if (transaction is not null && changed == 1)
        {
            await WebhookOutbox.EnqueueExportEventAsync(db, job.Id, webhookEvent!, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        return changed == 1;
    }

    private async Task GiveUpAsync(AnnexDbContext db, long id, int attempts, DateTime now, CancellationToken cancellationToken)
    {
        var error = $"The export was interrupted {attempts} times (its worker stopped before finishing) and was given up. Create a new export to try again.";
        // Inside the claim's transaction: committed with the failure.
        await FailUnheldAsync(
            db,
            e => e.Status == ExportStatus.Requested || (e.Status == ExportStatus.Exporting && e.LeaseExpiresAt < now),
            id,
            error,
            now,
            cancellationToken);
        logger.LogWarning("Export {ExportId}: failed after {Attempts} interrupted attempts", id, attempts);
    }

    /// <summary>Fails an export that no worker's lease protects here (it waits, its lease ran out, or its
    /// source went away) when <paramref name="stillFailable"/> still holds, and records its export.failed
    /// webhook deliveries; runs in the caller's transaction, so both commit together. A worker still
    /// writing it notices at its next heartbeat and throws its archive away.</summary>
    public static async Task<bool> FailUnheldAsync(
        AnnexDbContext db, Expression<Func<Export, bool>> stillFailable, long id, string error, DateTime now, CancellationToken cancellationToken)
    {
        var changed = await db.Exports
            .Where(e => e.Id == id)
            .Where(stillFailable)
            .ExecuteUpdateAsync(
                s => s.SetProperty(e => e.Status, ExportStatus.Failed)
                    .SetProperty(e => e.Error, error)
                    .SetProperty(e => e.LeaseOwner, (string?)null)
                    .SetProperty(e => e.ClaimToken, (Guid?)null)
                    .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null)
                    .SetProperty(e => e.UpdatedAt, now),
                cancellationToken);
        if (changed == 1)
        {
            await WebhookOutbox.EnqueueExportEventAsync(db, id, WebhookEvents.ExportFailed, now, cancellationToken);
        }

        return changed == 1;
    }
}
