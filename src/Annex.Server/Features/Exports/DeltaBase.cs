using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Exports;

/// <summary>The base of a delta export, checked when the export is created: a version of the exported dataset (named
/// directly, or as the one version an earlier export named) no newer than what is exported.</summary>
public static class DeltaBase
{
    public static async Task<(Guid? Version, ValidationErrors? Errors)> ResolveAsync(AnnexDbContext db, long organizationId, CreateExportRequest request, CancellationToken ct)
    {
        if (request.SinceVersion is null && request.SinceExport is null)
        {
            return (null, null);
        }

        var errors = new ValidationErrors();
        var field = request.SinceVersion is null ? "since_export" : "since_version";
        Guid? baseUid = request.SinceVersion;
        if (request.SinceExport is { } exportUid)
        {
            var named = await db.Exports.AsNoTracking().Where(e => e.Uid == exportUid && e.OrganizationId == organizationId)
                .Select(e => new { e.Versions, e.Datasets, e.Slices }).SingleOrDefaultAsync(ct);
            if (named is null)
            {
                errors.Add(field, $"Invalid pk \"{exportUid}\" - object does not exist.");
                return (null, errors);
            }

            var versions = UidList.Parse(named.Versions);
            if (versions.Count != 1 || UidList.Parse(named.Datasets).Count > 0 || UidList.Parse(named.Slices).Count > 0)
            {
                // A live export is a snapshot nothing keeps: only a version can say what it held.
                errors.Add(field, "Only an export of exactly one version can be a base; export a version of the dataset and name that export or version.");
                return (null, errors);
            }

            baseUid = versions[0];
        }

        var version = await db.DatasetVersions.AsNoTracking().SingleOrDefaultAsync(v => v.Uid == baseUid && v.OrganizationId == organizationId, ct);
        if (version is null)
        {
            errors.Add(field, request.SinceExport is null ? $"Invalid pk \"{baseUid}\" - object does not exist." : "The version that export named has been deleted.");
            return (null, errors);
        }

        long datasetId;
        long seq = long.MaxValue;
        if (request.Versions.Count == 1)
        {
            var target = await db.DatasetVersions.AsNoTracking().SingleAsync(v => v.Uid == request.Versions[0], ct);
            datasetId = target.DatasetId;
            seq = target.Seq;
        }
        else
        {
            var uid = request.Datasets[0];
            datasetId = await db.Datasets.Where(d => d.Uid == uid).Select(d => d.Id).SingleAsync(ct);
        }

        if (datasetId != version.DatasetId)
        {
            errors.Add(field, "The base must be a version of the dataset this export covers.");
        }
        else if (version.Seq > seq)
        {
            errors.Add(field, "The base must be older than the version exported.");
        }

        return errors.Any ? (null, errors) : (version.Uid, null);
    }
}
