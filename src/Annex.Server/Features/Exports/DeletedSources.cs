using Annex.Server.Features.Exports.Worker;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Exports;

/// <summary>What an export can name as its source.</summary>
public enum ExportSourceKind
{
    Dataset,
    Project,
    Slice,
    Version,
}

/// <summary>When a dataset, project or slice is deleted, the exports that name it and still wait or run
/// fail with a reason instead of writing an archive without it. Finished exports keep their archives.</summary>
public static class DeletedSources
{
    /// <summary>Deletes a source's rows (<paramref name="deleteRows"/>) and fails the exports that name it, in
    /// one transaction.</summary>
    public static async Task DeleteAsync(
        AnnexDbContext db, long organizationId, ExportSourceKind kind, Guid uid, string name, DateTime now,
        Func<CancellationToken, Task> deleteRows, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await FailExportsNamingAsync(db, organizationId, kind, uid, name, now, cancellationToken);
        await deleteRows(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>A worker still writing one of them notices at its next heartbeat and throws its archive away.</summary>
    private static async Task FailExportsNamingAsync(
        AnnexDbContext db, long organizationId, ExportSourceKind kind, Guid uid, string name, DateTime now, CancellationToken cancellationToken)
    {
        var active = await db.Exports.AsNoTracking()
            .Where(e => e.OrganizationId == organizationId && (e.Status == ExportStatus.Requested || e.Status == ExportStatus.Exporting))
            .Select(e => new { e.Id, e.Datasets, e.Projects, e.Slices, e.Versions, e.SinceVersion })
            .ToListAsync(cancellationToken);
        var error = $"{kind} \"{name}\" was deleted while exporting. Create the export again without it.";
        foreach (var export in active)
        {
            var named = kind switch
            {
                ExportSourceKind.Dataset => export.Datasets,
                ExportSourceKind.Project => export.Projects,
                ExportSourceKind.Version => export.Versions,
                _ => export.Slices,
            };
            if (UidList.Parse(named).Contains(uid) || (kind == ExportSourceKind.Version && export.SinceVersion == uid))
            {
                await ExportQueue.FailUnheldAsync(db, e => e.Status == ExportStatus.Requested || e.Status == ExportStatus.Exporting, export.Id, error, now, cancellationToken);
            }
        }
    }
}
