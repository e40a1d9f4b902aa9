using System.Collections.Concurrent;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Worker;

/// <summary>
/// Every <see cref="S3StorageOptions.SweepInterval"/>, aborts the unpublished archive writes (S3
/// multipart uploads) that no running export will ever complete: those of processes that died while
/// writing. Their parts are invisible but still stored (and billed) until then. A write is abandoned
/// when its export is no longer <c>exporting</c> (it finished, failed or was aborted, and its writer
/// would have completed or aborted its own upload), or when it is older than
/// <see cref="S3StorageOptions.AbandonedUploadAge"/>. Any number of replicas may sweep at once;
/// aborting twice is harmless.
/// </summary>
public sealed class AbandonedUploadSweeper(
    IPendingWriteStore store,
    IDbContextFactory<AnnexDbContext> contexts,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<AbandonedUploadSweeper> logger) : PeriodicWork(time, logger)
{
    private readonly S3StorageOptions _options = options.Value.S3;

    // When this process first saw each write. Age counts from the later of that and the store's own start
    // Time, so a store whose clock (or reported start Time) is off never gets a young write aborted.
    private readonly ConcurrentDictionary<string, DateTime> _firstSeen = new(StringComparer.Ordinal);

    protected override TimeSpan Interval => _options.SweepInterval;

    protected override string Description => "Sweeping abandoned archive uploads";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>One sweep; returns how many writes it aborted.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = Clock.UtcNow(Time);
        var cutoff = now - _options.AbandonedUploadAge;
        var pending = await store.ListPendingWritesAsync(cancellationToken).ToListAsync(cancellationToken);
        foreach (var gone in _firstSeen.Keys.Except(pending.Select(p => p.Id)))
        {
            _firstSeen.TryRemove(gone, out _);
        }

        var exportUids = pending.Select(p => ExportArchive.TryParseKey(p.Key, out var uid) ? uid : (Guid?)null).OfType<Guid>().Distinct().ToList();
        HashSet<Guid> running;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            running = [.. await db.Exports.AsNoTracking()
                .Where(e => exportUids.Contains(e.Uid) && e.Status == ExportStatus.Exporting)
                .Select(e => e.Uid)
                .ToListAsync(cancellationToken)];
        }

        var aborted = 0;
        foreach (var write in pending)
        {
            var firstSeen = _firstSeen.GetOrAdd(write.Id, now);
            var old = write.StartedUtc < cutoff && firstSeen < cutoff;
            var exportDone = ExportArchive.TryParseKey(write.Key, out var exportUid) && !running.Contains(exportUid);
            if (!old && !exportDone)
            {
                continue;
            }

            await store.AbortPendingWriteAsync(write, cancellationToken);
            _firstSeen.TryRemove(write.Id, out _);
            aborted++;
            logger.LogInformation("Aborted the abandoned upload of {Key} ({Reason})", write.Key, exportDone ? "its export is no longer running" : "too old");
        }

        return aborted;
    }
}
