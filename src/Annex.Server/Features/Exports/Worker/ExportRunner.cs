using Annex.Server.Features.Exports.Formats;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Worker;

/// <summary>Runs one claimed export: opens its snapshot, scope and filter, counts its tasks, streams the
/// archive into a pending blob, then publishes the archive and marks it exported. From the claim to the
/// last byte a heartbeat renews the lease (and, once writing started, publishes progress), so however long
/// the filter takes, no other worker takes the export over. An abort or a lost lease stops it at the next
/// heartbeat and leaves no archive behind.</summary>
public sealed class ExportRunner(
    IDbContextFactory<AnnexDbContext> contexts,
    IExportSourceOpener sources,
    ExportQueue queue,
    ExportFormatRegistry formats,
    IBlobStore blobs,
    IOptions<ExportsOptions> options,
    ILogger<ExportRunner> logger)
{
    public async Task RunAsync(ClaimedExport claimed, CancellationToken stopping)
    {
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var progress = new ExportProgress();
        var leaseLost = false;
        using var heartbeatStop = new CancellationTokenSource();
        var started = false;
        string? publishing = null;
        var heartbeat = HeartbeatAsync(claimed, () => Volatile.Read(ref started) ? progress.Tasks : null, running, () => leaseLost = true, heartbeatStop.Token);
        try
        {
            var export = await LoadAsync(claimed, running.Token);
            var job = ExportJob.From(export);
            var format = formats.Get(job.Format);
            await using var source = await sources.OpenAsync(export, running.Token);
            var total = await source.CountTasksAsync(running.Token);
            if (!await queue.StartAsync(claimed, total, running.Token))
            {
                logger.LogInformation("Export {ExportUid}: aborted or taken over before it started", claimed.Uid);
                return;
            }

            Volatile.Write(ref started, true);
            var key = claimed.ArchiveKey;
            long size;
            await using (var pending = await blobs.BeginWriteAsync(key, running.Token))
            {
                await format.WriteAsync(job, source, pending.Content, progress, running.Token);
                running.Token.ThrowIfCancellationRequested();
                publishing = key;
                size = await pending.PublishAsync(running.Token);
            }

            await heartbeatStop.CancelAsync();
            await heartbeat;
            if (await queue.CompleteAsync(claimed, key, size, progress.Tasks, CancellationToken.None))
            {
                publishing = null;
                logger.LogInformation("Export {ExportUid}: exported {Tasks} tasks, {Bytes} bytes", claimed.Uid, progress.Tasks, size);
            }
            else
            {
                // Aborted (or taken over) between the last heartbeat and now: what this attempt published is
                // withdrawn below.
                logger.LogInformation("Export {ExportUid}: finished writing but was aborted; archive removed", claimed.Uid);
            }
        }
        catch (Exception ex) when (running.IsCancellationRequested && ex is OperationCanceledException or System.Data.Common.DbException)
        {
            // A cancelled database command may surface as the provider's own exception (SQLite's "interrupted").
            if (stopping.IsCancellationRequested && !leaseLost)
            {
                await queue.ReleaseAsync(claimed, CancellationToken.None);
                logger.LogInformation("Export {ExportUid}: handed back to the queue at shutdown", claimed.Uid);
            }
            else
            {
                logger.LogInformation("Export {ExportUid}: stopped (aborted or lease lost); nothing was published", claimed.Uid);
            }
        }
        catch (Exception ex)
        {
            var message = Describe(ex);
            logger.LogError(ex, "Export {ExportUid}: failed: {Error}", claimed.Uid, message);
            await queue.FailAsync(claimed, message, CancellationToken.None);
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
            if (publishing is not null)
            {
                // Published (or maybe published: the store can finish an upload whose answer was cancelled or
                // lost) but not recorded as this export's archive. The key is this attempt's own, so removing it
                // never touches another attempt's archive.
                await WithdrawAsync(claimed, publishing);
            }
        }
    }

    private async Task WithdrawAsync(ClaimedExport claimed, string key)
    {
        try
        {
            // A completion whose answer was lost may still have recorded the key: then it stays.
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            if (!await db.Exports.AnyAsync(e => e.Id == claimed.Id && e.ArchiveKey == key, CancellationToken.None))
            {
                await blobs.DeleteAsync(key, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Export {ExportUid}: could not remove the archive of a stopped attempt ({Key})", claimed.Uid, key);
        }
    }

    private async Task<Export> LoadAsync(ClaimedExport claimed, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Exports.AsNoTracking().SingleAsync(e => e.Id == claimed.Id, cancellationToken);
    }

    private async Task HeartbeatAsync(ClaimedExport claimed, Func<long?> exported, CancellationTokenSource running, Action onLeaseLost, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                if (!await queue.HeartbeatAsync(claimed, exported(), stop))
                {
                    onLeaseLost();
                    await running.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // A heartbeat that cannot reach the database must not leave the export running without a lease.
            logger.LogWarning(ex, "Export {ExportUid}: heartbeat failed; stopping", claimed.Uid);
            onLeaseLost();
            await running.CancelAsync();
        }
    }

    /// <summary>A reason a user can act on; never a stack trace.</summary>
    internal static string Describe(Exception ex) => ex switch
    {
        ExportFailedException => ex.Message,
        IOException io when io.HResult == 28 || (io.HResult & 0xFFFF) == 112 || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
            => "Storage is full: the archive could not be written. Free space on the server and create the export again.",
        IOException io => $"Storage error while writing the archive: {io.Message}",
        DbUpdateException or System.Data.Common.DbException => "The database could not be read while exporting. Create the export again; if it keeps failing, tell the server operator.",
        _ => $"The export failed unexpectedly ({ex.GetType().Name}). Create the export again; if it keeps failing, tell the server operator.",
    };
}
