using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Datasets;

/// <summary>Forgets manual uploads that no dataset took: a day after its link expired, an upload's file (if
/// one arrived) and its row are deleted, once an hour.</summary>
public sealed class ManualUploadSweeper(IServiceScopeFactory scopes, IBlobStore blobs, TimeProvider time, ILogger<ManualUploadSweeper> logger) : PeriodicWork(time, logger)
{
    /// <summary>How long after its link expired an upload still waits for its dataset.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    protected override TimeSpan Interval => TimeSpan.FromHours(1);

    protected override string Description => "Sweeping unused manual uploads";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>One pass; returns how many uploads it forgot.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var cutoff = Clock.UtcNow(Time) - Grace;
        var forgotten = 0;
        while (true)
        {
            var stale = await db.ManualUploads.AsNoTracking().Where(u => u.ExpiresAt <= cutoff).OrderBy(u => u.Id).Take(500)
                .Select(u => new { u.Id, u.BlobKey }).ToListAsync(cancellationToken);
            if (stale.Count == 0)
            {
                break;
            }

            // The file first: a row without its file is harmless, a file without its row would never be found.
            foreach (var upload in stale)
            {
                await blobs.DeleteAsync(upload.BlobKey, cancellationToken);
            }

            var ids = stale.Select(u => u.Id).ToList();
            forgotten += await db.ManualUploads.Where(u => ids.Contains(u.Id)).ExecuteDeleteAsync(cancellationToken);
        }

        if (forgotten > 0)
        {
            logger.LogInformation("Forgot {Count} manual uploads that no dataset took", forgotten);
        }

        return forgotten;
    }
}
