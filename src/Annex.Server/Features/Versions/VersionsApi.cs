using Annex.Server.Features.Datasets;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Versions;

/// <summary>A dataset version as clients read it. <c>projects</c> lists the projects whose results it exports
/// (empty: every project of the organization).</summary>
public sealed record VersionResponse(Guid Uid, string Name, Guid Dataset, IReadOnlyList<Guid> Projects, DateTime CreatedAt);

/// <summary>The body of a create: a name, and optionally the projects whose results the version exports.</summary>
public sealed record CreateVersionBody(string Name, IReadOnlyList<Guid>? Projects);

/// <summary>An item that differs between two versions: <c>added</c>, <c>changed</c> (the item or one of its
/// results) or <c>removed</c>.</summary>
public sealed record VersionDiffItem(Guid Uid, string Change);

/// <summary>What differs from version <c>from</c> to <c>to</c> (a version uid or <c>current</c>): counts of items,
/// then one cursor page of them in item order.</summary>
public sealed record VersionDiffResponse(
    Guid From, string To, long Added, long Changed, long Removed, string? Next, string? Previous, IReadOnlyList<VersionDiffItem> Results);

public static class VersionsApi
{
    public const string Current = "current";
    public const string Added = "added";
    public const string Changed = "changed";
    public const string Removed = "removed";

    public static RouteGroupBuilder MapVersionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets/{uid}/versions").WithTags("Versions");
        group.MapGet("", ListVersions).Produces<Page<VersionResponse>>().ProducesErrors(400, 404);
        group.MapPost("", CreateVersion).AcceptsBody<CreateVersionBody>()
            .Produces<VersionResponse>(StatusCodes.Status201Created).ProducesErrors(400, 404);
        group.MapGet("/{version}", GetVersion).Produces<VersionResponse>().ProducesErrors(404);
        group.MapDelete("/{version}", DeleteVersion).Produces(StatusCodes.Status204NoContent).ProducesErrors(404);
        group.MapGet("/{version}/diff/{other}", Diff).Produces<VersionDiffResponse>().ProducesErrors(400, 404);
        return api;
    }

    public static VersionResponse ToResponse(DatasetVersion v, Guid datasetUid) =>
        new(v.Uid, v.Name, datasetUid, UidList.Parse(v.Projects), v.CreatedAt);

    private static async Task<Dataset?> FindDatasetAsync(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var organizationId = http.Caller().OrganizationId;
        return Guid.TryParse(uid, out var parsed)
            ? await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Uid == parsed && d.OrganizationId == organizationId, ct)
            : null;
    }

    private static async Task<DatasetVersion?> FindVersionAsync(Dataset dataset, string version, AnnexDbContext db, CancellationToken ct) =>
        Guid.TryParse(version, out var parsed)
            ? await db.DatasetVersions.AsNoTracking().SingleOrDefaultAsync(v => v.Uid == parsed && v.DatasetId == dataset.Id, ct)
            : null;

    private static async Task<IResult> ListVersions(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (await FindDatasetAsync(uid, http, db, ct) is not { } dataset)
        {
            return ApiErrors.NotFound();
        }

        return await IdPaging.PageAsync<DatasetVersion, VersionResponse>(
            http.Request,
            db.DatasetVersions.AsNoTracking().Where(v => v.DatasetId == dataset.Id),
            (rows, _) => Task.FromResult<IReadOnlyList<VersionResponse>>([.. rows.Select(v => ToResponse(v, dataset.Uid))]),
            ct);
    }

    private static async Task<Results<Ok<VersionResponse>, NotFoundError>> GetVersion(string uid, string version, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (await FindDatasetAsync(uid, http, db, ct) is not { } dataset || await FindVersionAsync(dataset, version, db, ct) is not { } found)
        {
            return NotFoundError.Instance;
        }

        return TypedResults.Ok(ToResponse(found, dataset.Uid));
    }

    /// <summary>Creates a version: one row and one step of the change epoch, whatever the dataset's size.</summary>
    private static async Task<Results<Created<VersionResponse>, BadRequestError, NotFoundError>> CreateVersion(
        string uid, HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (await FindDatasetAsync(uid, http, db, ct) is not { } dataset)
        {
            return NotFoundError.Instance;
        }

        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var body = document!.RootElement;
        var errors = new ValidationErrors();
        var name = Fields.Text(body, "name", errors, maxLength: 255);
        var projects = (Fields.UuidList(body, "projects", errors, required: false) ?? []).Distinct().ToList();
        if (!errors.Any && projects.Count > 0)
        {
            var organizationId = dataset.OrganizationId;
            var known = await db.Projects.Where(p => projects.Contains(p.Uid) && p.OrganizationId == organizationId).Select(p => p.Uid).ToListAsync(ct);
            foreach (var missing in projects.Except(known))
            {
                errors.Add("projects", $"Invalid pk \"{missing}\" - object does not exist.");
            }
        }

        if (errors.Any)
        {
            return errors.ToBadRequest();
        }

        var version = new DatasetVersion
        {
            Uid = Guid.CreateVersion7(),
            OrganizationId = dataset.OrganizationId,
            DatasetId = dataset.Id,
            Name = name!,
            Projects = UidList.Serialize(projects),
            CreatedAt = Clock.UtcNow(time),
        };
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            version.Seq = await VersionSql.TakeEpochAsync(db, ct);
            db.DatasetVersions.Add(version);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }

        return TypedResults.Created((string?)null, ToResponse(version, dataset.Uid));
    }

    /// <summary>Deletes a version and the history only it needed. Exports naming it that still wait or run fail
    /// with a reason; finished archives stay.</summary>
    private static async Task<Results<NoContent, NotFoundError>> DeleteVersion(string uid, string version, HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (await FindDatasetAsync(uid, http, db, ct) is not { } dataset || await FindVersionAsync(dataset, version, db, ct) is not { } found)
        {
            return NotFoundError.Instance;
        }

        await DeletedSources.DeleteAsync(db, dataset.OrganizationId, ExportSourceKind.Version, found.Uid, found.Name, Clock.UtcNow(time), async token =>
        {
            await VersionSql.LockEpochAsync(db, token);
            await db.DatasetVersions.Where(v => v.Id == found.Id).ExecuteDeleteAsync(token);
            await VersionSql.PruneHistoryAsync(db, dataset.Id, token);
        }, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<VersionDiffResponse>, BadRequestError, NotFoundError>> Diff(
        string uid, string version, string other, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (await FindDatasetAsync(uid, http, db, ct) is not { } dataset || await FindVersionAsync(dataset, version, db, ct) is not { } from)
        {
            return NotFoundError.Instance;
        }

        long toSeq;
        if (string.Equals(other, Current, StringComparison.OrdinalIgnoreCase))
        {
            toSeq = long.MaxValue;
        }
        else if (await FindVersionAsync(dataset, other, db, ct) is { } to)
        {
            toSeq = to.Seq;
        }
        else
        {
            return NotFoundError.Instance;
        }

        var errors = new ValidationErrors();
        if (!Paging.TryReadLimit(http.Request, errors, out var limit))
        {
            return errors.ToBadRequest();
        }

        IdCursor? cursor = null;
        if (http.Request.Query.TryGetValue("cursor", out var cursorText))
        {
            cursor = Paging.Decode<IdCursor>(cursorText.ToString());
            if (cursor is null)
            {
                return BadRequestError.Detail(Paging.InvalidCursor);
            }
        }

        // A diff back in time is the forward diff read the other way round.
        var backwards = toSeq < from.Seq;
        var diff = new VersionDiff(dataset.Id, Math.Min(from.Seq, toSeq), Math.Max(from.Seq, toSeq));
        string Change(int state) => state switch
        {
            3 => Changed,
            2 => backwards ? Removed : Added,
            _ => backwards ? Added : Removed,
        };

        var counts = await diff.CountsAsync(db, ct);
        List<DiffRow> rows;
        bool hasBefore, hasAfter;
        if (cursor is { Reverse: true })
        {
            rows = await diff.PageAsync(db, cursor.Id, reverse: true, limit + 1, ct);
            hasBefore = rows.Count > limit;
            rows = [.. rows.Take(limit).Reverse()];
            hasAfter = true;
        }
        else
        {
            rows = await diff.PageAsync(db, cursor?.Id, reverse: false, limit + 1, ct);
            hasAfter = rows.Count > limit;
            rows = [.. rows.Take(limit)];
            hasBefore = cursor is not null && cursor.Id < long.MaxValue && await diff.AnyAsync(db, cursor.Id + 1, before: true, ct);
        }

        var next = hasAfter && rows.Count > 0 ? Paging.LinkTo(http.Request, Paging.Encode(new IdCursor(rows[^1].Id, false))) : null;
        var previous = hasBefore && rows.Count > 0 ? Paging.LinkTo(http.Request, Paging.Encode(new IdCursor(rows[0].Id, true))) : null;
        var added = counts.GetValueOrDefault(backwards ? 1 : 2);
        var removed = counts.GetValueOrDefault(backwards ? 2 : 1);
        return TypedResults.Ok(new VersionDiffResponse(
            from.Uid, toSeq == long.MaxValue ? Current : other.ToLowerInvariant(), added, counts.GetValueOrDefault(3), removed, next, previous,
            [.. rows.Select(r => new VersionDiffItem(r.Uid, Change(r.State)))]));
    }
}
