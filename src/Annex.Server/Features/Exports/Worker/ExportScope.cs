using Annex.Server.Features.Datasets;
using Annex.Server.Features.Exports.Formats;
using Annex.Server.Features.AnnotationResults;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Exports;

/// <summary>
/// What an export covers. Items: those of the named datasets plus those of the named slices; when
/// neither is named, every item that has a result in the named projects. Results (tasks): the results
/// of the named projects on those items; when no project is named, of every project of the
/// organization. A list left empty never narrows.
/// </summary>
public sealed record ExportScope(long OrganizationId, IReadOnlyList<long> DatasetIds, IReadOnlyList<long> SliceIds, IReadOnlyList<long> ProjectIds, bool AllProjects)
{
    public static async Task<ExportScope> ResolveAsync(AnnexDbContext db, Export export, CancellationToken cancellationToken)
    {
        var datasetUids = UidList.Parse(export.Datasets);
        var sliceUids = UidList.Parse(export.Slices);
        var projectUids = UidList.Parse(export.Projects);
        var datasets = await db.Datasets.Where(d => datasetUids.Contains(d.Uid) && d.OrganizationId == export.OrganizationId).OrderBy(d => d.Id).Select(d => d.Id).ToListAsync(cancellationToken);
        var slices = await db.Slices.Where(s => sliceUids.Contains(s.Uid) && s.OrganizationId == export.OrganizationId).Select(s => s.Id).ToListAsync(cancellationToken);
        var projects = await db.Projects.Where(p => projectUids.Contains(p.Uid) && p.OrganizationId == export.OrganizationId).OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(cancellationToken);
        if (datasets.Count != datasetUids.Count || slices.Count != sliceUids.Count || projects.Count != projectUids.Count)
        {
            throw new ExportFailedException("A dataset, project or slice named by this export no longer exists.");
        }

        var allProjects = projects.Count == 0;
        if (allProjects)
        {
            projects = await db.Projects.Where(p => p.OrganizationId == export.OrganizationId).OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(cancellationToken);
        }

        return new ExportScope(export.OrganizationId, datasets, slices, projects, allProjects);
    }

    private bool ItemsNamed => DatasetIds.Count > 0 || SliceIds.Count > 0;

    /// <summary>The items in scope.</summary>
    public IQueryable<DatasetItem> Items(AnnexDbContext db)
    {
        var datasetIds = DatasetIds;
        var sliceIds = SliceIds;
        var projectIds = ProjectIds;
        var items = db.DatasetItems.AsNoTracking();
        if (!ItemsNamed)
        {
            return items.Where(i => db.Results.Any(r => r.DatasetItemId == i.Id && projectIds.Contains(r.ProjectId)));
        }

        if (sliceIds.Count == 0)
        {
            return items.Where(i => datasetIds.Contains(i.DatasetId));
        }

        return items.Where(i => datasetIds.Contains(i.DatasetId) || db.SliceItems.Any(si => si.DatasetItemId == i.Id && sliceIds.Contains(si.SliceId)));
    }

    /// <summary>The datasets that hold items in scope, oldest first.</summary>
    public IQueryable<Dataset> Datasets(AnnexDbContext db)
    {
        var organizationId = OrganizationId;
        var datasetIds = DatasetIds;
        var items = Items(db);
        return db.Datasets.AsNoTracking()
            .Where(d => d.OrganizationId == organizationId && (datasetIds.Contains(d.Id) || items.Any(i => i.DatasetId == d.Id)))
            .OrderBy(d => d.Id);
    }

    /// <summary>The results (tasks) in scope.</summary>
    public IQueryable<Result> Results(AnnexDbContext db)
    {
        var projectIds = ProjectIds;
        var items = Items(db);
        var results = db.Results.AsNoTracking().Where(r => projectIds.Contains(r.ProjectId));
        return ItemsNamed ? results.Where(r => items.Any(i => i.Id == r.DatasetItemId)) : results;
    }

    /// <summary>The projects listed in the export: those named, or, when none is named, those with a result in scope.</summary>
    public async Task<List<Features.Projects.Project>> ProjectsAsync(AnnexDbContext db, CancellationToken cancellationToken)
    {
        var projectIds = ProjectIds;
        var projects = db.Projects.AsNoTracking().Where(p => projectIds.Contains(p.Id));
        if (AllProjects)
        {
            var results = Results(db);
            projects = projects.Where(p => results.Any(r => r.ProjectId == p.Id));
        }

        return await projects.OrderBy(p => p.Id).ToListAsync(cancellationToken);
    }
}
