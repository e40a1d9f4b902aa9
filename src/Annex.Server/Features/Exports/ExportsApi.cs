using Annex.Server.Features.Exports.Formats;
using Annex.Server.Features.Exports.Worker;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Exports;

public sealed record ExportFormatResponse(string Name, string Description, IReadOnlyList<string> AnnotationTypes);

/// <summary>An entry of the older format list, which gives names only.</summary>
public sealed record ExportFormatName(string Name);

/// <summary>A new export: a name, a format from <c>/api/v1/exports/formats/</c>, and what to export. The lists
/// <c>datasets</c>, <c>projects</c> and <c>slices</c> may each be replaced by a single uid under <c>dataset</c>,
/// <c>project</c> or <c>slice</c>; at least one source must be named.</summary>
/// <remarks>Documentation only: the handler reads the body by hand (see <see cref="CreateExportRequest"/>), so
/// every wrong field gets DRF's message.</remarks>
public sealed record CreateExportBody
{
    public string? Name { get; init; }

    public string? Format { get; init; }

    public IReadOnlyList<Guid>? Datasets { get; init; }

    public IReadOnlyList<Guid>? Projects { get; init; }

    public IReadOnlyList<Guid>? Slices { get; init; }

    public Guid? Dataset { get; init; }

    public Guid? Project { get; init; }

    public Guid? Slice { get; init; }

    /// <summary>Dataset versions to export, each as it was when it was made (not with datasets or slices).</summary>
    public IReadOnlyList<Guid>? Versions { get; init; }

    /// <summary>A delta: only the tasks added or changed since this version, and what was removed.</summary>
    public Guid? SinceVersion { get; init; }

    /// <summary>A delta since an earlier export of one version.</summary>
    public Guid? SinceExport { get; init; }

    /// <summary>Only items matching this filter are exported (see docs/filter-language.md).</summary>
    public string? FilterQueryString { get; init; }
}

public static class ExportsApi
{
    // The two reads clients poll most, compiled once: no expression tree to build and look up per request.
    private static readonly Func<AnnexDbContext, Guid, long, CancellationToken, Task<Export?>> ExportByUid =
        EF.CompileAsyncQuery((AnnexDbContext db, Guid uid, long organizationId, CancellationToken ct) =>
            db.Exports.AsNoTracking().SingleOrDefault(e => e.Uid == uid && e.OrganizationId == organizationId));

    /// <summary>The list's first page in its default order (newest first), as <see cref="ExportOrdering.Sort"/> orders it.</summary>
    private static readonly Func<AnnexDbContext, long, int, IAsyncEnumerable<Export>> NewestExports =
        EF.CompileAsyncQuery((AnnexDbContext db, long organizationId, int take) =>
            db.Exports.AsNoTracking().Where(e => e.OrganizationId == organizationId)
                .OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Uid).Take(take));

    public static RouteGroupBuilder MapExportsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/exports").WithTags("Exports");
        group.MapGet("", ListExports);
        group.MapPost("", CreateExport).AcceptsBody<CreateExportBody>();
        group.MapGet("/formats", ListFormats);
        group.MapGet("/{uid}", GetExport);
        group.MapPost("/{uid}/abort", AbortExport);
        api.MapGet("/formats", ListFormatNames).WithTags("Exports");
        return api;
    }

    /// <summary>The signed download link carries its own authorization, so it sits outside the API-key group.</summary>
    public static IEndpointRouteBuilder MapExportDownload(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/exports/{uid}/download", DownloadExport).WithTags("Exports").AllowAnonymous()
            .Produces<Stream>(StatusCodes.Status200OK, "application/zip");
        return app;
    }

    private static Ok<IReadOnlyList<ExportFormatResponse>> ListFormats(ExportFormatRegistry formats) => TypedResults.Ok<IReadOnlyList<ExportFormatResponse>>([.. Describe(formats)]);

    /// <summary><c>GET /api/v1/formats/</c>, kept for clients written against it: the same formats, names only, sorted.</summary>
    private static Ok<IReadOnlyList<ExportFormatName>> ListFormatNames(ExportFormatRegistry formats) =>
        TypedResults.Ok<IReadOnlyList<ExportFormatName>>([.. Describe(formats).Select(f => new ExportFormatName(f.Name)).OrderBy(f => f.Name, StringComparer.Ordinal)]);

    private static IEnumerable<ExportFormatResponse> Describe(ExportFormatRegistry formats) =>
        formats.All.Select(f => new ExportFormatResponse(f.Name, f.Description, f.AnnotationTypes));

    private static async Task<Results<Ok<Page<ExportResponse>>, BadRequestError>> ListExports(HttpContext http, AnnexDbContext db, DownloadLinks links, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var ordering = ExportOrdering.Parse(http.Request.Query["ordering"].ToString(), errors);
        Paging.TryReadLimit(http.Request, errors, out var limit);
        if (errors.Any)
        {
            return errors.ToBadRequest();
        }

        ExportCursor? cursor = null;
        if (http.Request.Query.TryGetValue("cursor", out var cursorText))
        {
            cursor = Paging.Decode<ExportCursor>(cursorText.ToString());
            if (cursor is null || cursor.Ordering != ordering!.Text || (ordering.Field != ExportOrdering.CreatedAt && cursor.Value is null))
            {
                return BadRequestError.Detail(Paging.InvalidCursor);
            }
        }

        var caller = http.Caller();
        var scoped = db.Exports.AsNoTracking().Where(e => e.OrganizationId == caller.OrganizationId);
        List<Export> rows;
        bool hasBefore, hasAfter;
        if (cursor is { Reverse: true })
        {
            rows = await ordering!.Sort(ordering.Beyond(scoped, cursor, forward: false), forward: false).Take(limit + 1).ToListAsync(ct);
            hasBefore = rows.Count > limit;
            rows = [.. rows.Take(limit).Reverse()];
            hasAfter = true;
        }
        else
        {
            if (cursor is null && ordering!.Field == ExportOrdering.CreatedAt && ordering.Descending)
            {
                rows = new List<Export>(limit + 1);
                await foreach (var row in NewestExports(db, caller.OrganizationId, limit + 1).WithCancellation(ct))
                {
                    rows.Add(row);
                }
            }
            else
            {
                var query = cursor is null ? scoped : ordering!.Beyond(scoped, cursor, forward: true);
                rows = await ordering!.Sort(query, forward: true).Take(limit + 1).ToListAsync(ct);
            }

            hasAfter = rows.Count > limit;
            rows = [.. rows.Take(limit)];
            hasBefore = cursor is not null && rows.Count > 0
                && await ordering.Beyond(scoped, ordering.CursorAt(rows[0], reverse: true), forward: false).AnyAsync(ct);
        }

        var next = hasAfter && rows.Count > 0 ? Paging.LinkTo(http.Request, Paging.Encode(ordering.CursorAt(rows[^1], reverse: false))) : null;
        var previous = hasBefore && rows.Count > 0 ? Paging.LinkTo(http.Request, Paging.Encode(ordering.CursorAt(rows[0], reverse: true))) : null;
        var organization = new OrganizationRef(caller.OrganizationUid, caller.OrganizationName, caller.OrganizationSlug);
        var results = rows.Select(e => ExportResponse.From(e, organization, x => links.Create(http.Request, x))).ToList();
        return TypedResults.Ok(new Page<ExportResponse>(next, previous, results));
    }

    private static async Task<Results<Created<ExportResponse>, BadRequestError, ForbiddenError, NotFoundError>> CreateExport(HttpContext http, AnnexDbContext db, ExportFormatRegistry formats, ExportSignal signal, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (request, refusal) = await CreateExportRequest.ReadCheckedAsync(http.Request, db, formats, caller.OrganizationId, ct);
        if (refusal is not null)
        {
            return CreateExportRequest.Refuse<Created<ExportResponse>>(refusal);
        }

        var (baseVersion, baseErrors) = await DeltaBase.ResolveAsync(db, caller.OrganizationId, request!, ct);
        if (baseErrors is not null)
        {
            return baseErrors.ToBadRequest();
        }

        var now = Clock.UtcNow(time);
        var export = new Export
        {
            Uid = Guid.CreateVersion7(),
            OrganizationId = caller.OrganizationId,
            Name = request!.Name ?? await NameAfterSourcesAsync(db, request, now, ct),
            Format = request.Format,
            Status = ExportStatus.Requested,
            Datasets = UidList.Serialize(request.Datasets),
            Projects = UidList.Serialize(request.Projects),
            Slices = UidList.Serialize(request.Slices),
            Versions = UidList.Serialize(request.Versions),
            SinceVersion = baseVersion,
            SinceExport = request.SinceExport,
            FilterQueryString = request.FilterQueryString,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Exports.Add(export);
        await db.SaveChangesAsync(ct);
        signal.Notify();
        var response = ExportResponse.From(export, new OrganizationRef(caller.OrganizationUid, caller.OrganizationName, caller.OrganizationSlug), _ => string.Empty);
        // A null location: the answer carries no Location header, as it never did.
        return TypedResults.Created((string?)null, response);
    }

    /// <summary>The name of an export whose body gave none: what it exports and when, e.g.
    /// "Highway Scenes 2025-01-21 10:00 UTC". Sources were checked to exist just before.</summary>
    private static async Task<string> NameAfterSourcesAsync(AnnexDbContext db, CreateExportRequest request, DateTime now, CancellationToken ct)
    {
        var names = new List<string>();
        foreach (var uid in request.Datasets)
        {
            names.Add(await db.Datasets.Where(d => d.Uid == uid).Select(d => d.Name).SingleAsync(ct));
        }

        foreach (var uid in request.Slices)
        {
            names.Add(await db.Slices.Where(s => s.Uid == uid).Select(s => s.Name).SingleAsync(ct));
        }

        foreach (var uid in request.Versions)
        {
            names.Add(await db.DatasetVersions.Where(v => v.Uid == uid).Select(v => v.Name).SingleAsync(ct));
        }

        foreach (var uid in request.Projects)
        {
            names.Add(await db.Projects.Where(p => p.Uid == uid).Select(p => p.Name).SingleAsync(ct));
        }

        var stamp = now.ToString(" yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
        var sources = string.Join(", ", names);
        return (sources.Length + stamp.Length > 255 ? sources[..(255 - stamp.Length)] : sources) + stamp;
    }

    private static async Task<Results<Ok<ExportResponse>, NotFoundError>> GetExport(string uid, HttpContext http, AnnexDbContext db, DownloadLinks links, CancellationToken ct)
    {
        var export = await FindAsync(uid, http, db, ct);
        return export is null ? NotFoundError.Instance : TypedResults.Ok(Respond(export, http, links));
    }

    private static async Task<Results<Ok<ExportResponse>, BadRequestError, NotFoundError>> AbortExport(string uid, HttpContext http, AnnexDbContext db, DownloadLinks links, TimeProvider time, CancellationToken ct)
    {
        var export = await FindAsync(uid, http, db, ct);
        if (export is null)
        {
            return NotFoundError.Instance;
        }

        var now = Clock.UtcNow(time);
        var changed = await db.Exports
            .Where(e => e.Id == export.Id && (e.Status == ExportStatus.Requested || e.Status == ExportStatus.Exporting))
            .ExecuteUpdateAsync(
                s => s.SetProperty(e => e.Status, ExportStatus.Aborted)
                    .SetProperty(e => e.UpdatedAt, now)
                    .SetProperty(e => e.LeaseOwner, (string?)null)
                    .SetProperty(e => e.LeaseExpiresAt, (DateTime?)null),
                ct);
        var current = await db.Exports.AsNoTracking().SingleAsync(e => e.Id == export.Id, ct);
        if (changed == 0)
        {
            return BadRequestError.Detail($"This export is already {current.Status}; only a requested or exporting export can be aborted.");
        }

        return TypedResults.Ok(Respond(current, http, links));
    }

    private static async Task<Results<FileStreamHttpResult, ForbiddenError, GoneError, NotFoundError>> DownloadExport(string uid, HttpContext http, AnnexDbContext db, DownloadLinks links, IBlobStore blobs, TimeProvider time, CancellationToken ct)
    {
        if (!Guid.TryParse(uid, out var exportUid))
        {
            return NotFoundError.Instance;
        }

        switch (links.Check(exportUid, http.Request.Query["expires"].ToString(), http.Request.Query["signature"].ToString()))
        {
            case DownloadLinkCheck.BadSignature:
                return new ForbiddenError("Invalid download signature: the link was altered or is incomplete.");
            case DownloadLinkCheck.Expired:
                return new ForbiddenError("Download link has expired; fetch the export again for a fresh download_url.");
        }

        var export = await db.Exports.AsNoTracking().SingleOrDefaultAsync(e => e.Uid == exportUid, ct);
        if (export is { Status: ExportStatus.Exported, ExpiresAt: { } expiresAt } && (expiresAt <= Clock.UtcNow(time) || export.ArchiveKey is null))
        {
            return new GoneError(
                $"This export's archive expired at {expiresAt:yyyy-MM-ddTHH:mm:ssZ} and was deleted; create a new export to download the data again.");
        }

        if (export is not { Status: ExportStatus.Exported, ArchiveKey: not null })
        {
            return NotFoundError.Instance;
        }

        var blob = await blobs.OpenReadAsync(export.ArchiveKey, ct);
        if (blob is null)
        {
            return NotFoundError.Instance;
        }

        return TypedResults.Stream(
            blob.Content,
            "application/zip",
            fileDownloadName: ExportArchive.DownloadName(export),
            lastModified: blob.LastModifiedUtc,
            enableRangeProcessing: true);
    }

    private static ExportResponse Respond(Export export, HttpContext http, DownloadLinks links)
    {
        var caller = http.Caller();
        return ExportResponse.From(export, new OrganizationRef(caller.OrganizationUid, caller.OrganizationName, caller.OrganizationSlug), e => links.Create(http.Request, e));
    }

    private static async Task<Export?> FindAsync(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (!Guid.TryParse(uid, out var parsed))
        {
            return null;
        }

        return await ExportByUid(db, parsed, http.Caller().OrganizationId, ct);
    }
}
