using Annex.Formats;
using Annex.Server.Features.Datasets;
using Annex.Server.Features.Exports.Filtering;
using Annex.Server.Features.Exports.Formats;
using Annex.Server.Features.Thumbnails;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Gallery;

/// <summary>A box in pixels: top-left corner before rotation, size, rotation in radians (clockwise on the image, about
/// the centre), and its four corners after rotation, clockwise from the top-left.</summary>
public sealed record BoxGeometry(double X, double Y, double Width, double Height, double Rotation, IReadOnlyList<double[]> Corners);

/// <summary>A polygon's or polyline's vertices in pixels, as [x, y] pairs.</summary>
public sealed record PathGeometry(IReadOnlyList<double[]> Vertices);

/// <summary>One keypoint in pixels, with its taxonomy name and visibility when the annotation gives them.</summary>
public sealed record GalleryKeypoint(double X, double Y, string? Name, bool? Visible);

/// <summary>Keypoints and the skeleton's edges among them, as pairs of 0-based indexes into <c>points</c> (the label's
/// skeleton, with each taxonomy keypoint matched to the point that bears its name, or that stands in its place).</summary>
public sealed record KeypointsGeometry(IReadOnlyList<GalleryKeypoint> Points, IReadOnlyList<int[]> Edges);

/// <summary>One annotation as the gallery draws it: its task and project, the label with the project's colour for it
/// (null when the taxonomy has no such label), the type, the geometry in pixels (null for a classification; a cuboid's
/// stored coordinates as they are) and the attributes.</summary>
public sealed record GalleryAnnotation(Guid TaskUid, Guid ProjectUid, string Label, string? Color, string Type, object? Geometry, RawJson Attributes);

/// <summary>An item of the gallery. <c>media_source</c> says where its image is: <c>stored</c> (uploaded: <c>media_url</c>
/// serves it and <c>thumbnail_url</c> a small copy), <c>external</c> (<c>media_url</c> is the outside address, which the
/// server never fetches; no thumbnail) or <c>none</c>.</summary>
public sealed record GalleryItem(
    Guid Uid, string RefId, int? Width, int? Height, string? MediaUrl, string MediaSource, string? ThumbnailUrl, IReadOnlyList<GalleryAnnotation> Annotations);

public sealed record GalleryProject(Guid Uid, string Name);

/// <summary>One item with everything: metadata, times, the projects with a task on it and every annotation.</summary>
public sealed record GalleryItemDetail(
    Guid Uid, string RefId, RawJson Metadata, int? Width, int? Height, string? MediaUrl, string MediaSource, string? ThumbnailUrl,
    DateTime CreatedAt, DateTime UpdatedAt, IReadOnlyList<GalleryProject> Projects, IReadOnlyList<GalleryAnnotation> Annotations);

/// <summary>
/// <c>GET /api/v1/datasets/{uid}/gallery/</c>: the dataset's items in id order, keyset-paged (<c>limit</c>,
/// <c>cursor</c>), each with its annotations ready to draw; <c>filter</c> (the export filter language) keeps the items
/// with at least one task it keeps, and shows those tasks' annotations, as an export with that filter would hold them.
/// <c>GET /api/v1/datasets/{uid}/gallery/{item_uid}/</c>: one item with everything. Annotations are read with the
/// exports' own reader (<see cref="StoredAnnotations"/>).
/// </summary>
public static class GalleryApi
{
    public const int ThumbnailSize = ThumbnailsApi.DefaultSize;

    public static RouteGroupBuilder MapGalleryApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets/{uid}/gallery").WithTags("Datasets");
        group.MapGet("", ListGallery);
        group.MapGet("/{itemUid}", GetGalleryItem);
        return api;
    }

    private static async Task<Results<Ok<Page<GalleryItem>>, BadRequestError, NotFoundError>> ListGallery(
        string uid, HttpContext http, AnnexDbContext db, IOptions<ThumbnailOptions> thumbnails, ILoggerFactory loggers, CancellationToken ct)
    {
        FilterNode? filter = null;
        if (http.Request.Query.TryGetValue("filter", out var filterValues) && filterValues.ToString() is { } filterText && !string.IsNullOrWhiteSpace(filterText)
            && !FilterParser.TryParse(filterText, out filter, out var error))
        {
            var errors = new ValidationErrors();
            errors.Add("filter", error!.Message);
            return errors.ToBadRequest();
        }

        var dataset = await FindDatasetAsync(uid, http, db, ct);
        if (dataset is null)
        {
            return NotFoundError.Instance;
        }

        var postgres = db.Database.IsNpgsql();
        IQueryable<DatasetItem> items;
        Func<IReadOnlyCollection<long>, IQueryable<Features.AnnotationResults.Result>> results;
        if (filter is null)
        {
            items = db.DatasetItems.AsNoTracking().Where(i => i.DatasetId == dataset.Id);
            results = ids => db.Results.AsNoTracking().Where(r => ids.Contains(r.DatasetItemId));
        }
        else
        {
            // Only fixed SQL fragments are concatenated; every user value is a parameter. The EXISTS stops at the first
            // kept task, and the page stops at its limit, so a page reads items until it has found enough of them.
            var (itemCondition, itemParameters) = FilterSql.For(filter, postgres, firstParameter: 1, liveResults: true);
            items = db.DatasetItems.FromSqlRaw(
                string.Concat("SELECT i.* FROM dataset_items AS i WHERE i.\"DatasetId\" = {0} AND EXISTS (SELECT 1 FROM results AS r WHERE r.\"DatasetItemId\" = i.\"Id\" AND ", itemCondition, ")"),
                [dataset.Id, .. itemParameters]).AsNoTracking();
            var (resultCondition, resultParameters) = FilterSql.For(filter, postgres, liveResults: true);
            results = ids => db.Results.FromSqlRaw(string.Concat("SELECT r.* FROM results AS r INNER JOIN dataset_items AS i ON i.\"Id\" = r.\"DatasetItemId\" WHERE ", resultCondition), resultParameters)
                .AsNoTracking().Where(r => ids.Contains(r.DatasetItemId));
        }

        var logger = loggers.CreateLogger(typeof(GalleryApi));
        var page = await IdPaging.TypedPageAsync<DatasetItem, GalleryItem>(
            http.Request,
            items,
            async (rows, token) =>
            {
                var annotations = await AnnotationsAsync(db, results([.. rows.Select(r => r.Id)]), logger, token);
                return [.. rows.Select(item => new GalleryItem(
                    item.Uid, item.RefId, item.Width, item.Height, MediaUrl(http.Request, dataset.Uid, item), MediaSource(item),
                    ThumbnailUrl(http.Request, dataset, item, thumbnails.Value), [.. annotations.Items[item.Id]]))];
            },
            ct);
        return page.OrNotFound();
    }

    private static async Task<Results<Ok<GalleryItemDetail>, NotFoundError>> GetGalleryItem(
        string uid, string itemUid, HttpContext http, AnnexDbContext db, IOptions<ThumbnailOptions> thumbnails, ILoggerFactory loggers, CancellationToken ct)
    {
        var dataset = await FindDatasetAsync(uid, http, db, ct);
        if (dataset is null || !Guid.TryParse(itemUid, out var parsedItemUid))
        {
            return NotFoundError.Instance;
        }

        var item = await db.DatasetItems.AsNoTracking().SingleOrDefaultAsync(i => i.Uid == parsedItemUid && i.DatasetId == dataset.Id, ct);
        if (item is null)
        {
            return NotFoundError.Instance;
        }

        var annotations = await AnnotationsAsync(db, db.Results.AsNoTracking().Where(r => r.DatasetItemId == item.Id), loggers.CreateLogger(typeof(GalleryApi)), ct);
        return TypedResults.Ok(new GalleryItemDetail(
            item.Uid, item.RefId, new RawJson(item.Metadata), item.Width, item.Height, MediaUrl(http.Request, dataset.Uid, item), MediaSource(item),
            ThumbnailUrl(http.Request, dataset, item, thumbnails.Value), item.CreatedAt, item.UpdatedAt,
            [.. annotations.Projects.Values.OrderBy(p => p.Id).Select(p => new GalleryProject(p.Uid, p.Name))], [.. annotations.Items[item.Id]]));
    }

    private sealed record ProjectTaxonomy(long Id, Guid Uid, string Name, Dictionary<string, LabelRecord> Labels);

    private sealed record PageAnnotations(ILookup<long, GalleryAnnotation> Items, Dictionary<long, ProjectTaxonomy> Projects);

    /// <summary>The annotations of these results, by item, in result order then stored order, with their taxonomies.</summary>
    private static async Task<PageAnnotations> AnnotationsAsync(AnnexDbContext db, IQueryable<Features.AnnotationResults.Result> results, ILogger logger, CancellationToken ct)
    {
        var rows = await results.OrderBy(r => r.Id).Select(r => new { r.Id, r.Uid, r.DatasetItemId, r.ProjectId, r.Annotations }).ToListAsync(ct);
        var projectIds = rows.Select(r => r.ProjectId).Distinct().ToList();
        var projects = (await db.Projects.AsNoTracking().Where(p => projectIds.Contains(p.Id)).Select(p => new { p.Id, p.Uid, p.Name, p.Labels }).ToListAsync(ct))
            .ToDictionary(p => p.Id, p => new ProjectTaxonomy(p.Id, p.Uid, p.Name, Taxonomy(p.Labels)));
        var annotations = new List<(long Item, GalleryAnnotation Annotation)>();
        foreach (var row in rows)
        {
            var project = projects[row.ProjectId];
            List<StoredAnnotation> stored;
            try
            {
                stored = StoredAnnotations.Read(row.Annotations);
            }
            catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException)
            {
                // Stored annotations were validated on the way in; one that cannot be read is left out, not a 500.
                logger.LogWarning(e, "The annotations of result {ResultUid} could not be read", row.Uid);
                continue;
            }

            foreach (var annotation in stored)
            {
                var label = project.Labels.GetValueOrDefault(annotation.Label);
                annotations.Add((row.DatasetItemId, new GalleryAnnotation(
                    row.Uid, project.Uid, annotation.Label, label?.Color, annotation.Type, Geometry(annotation, label), new RawJson(annotation.AttributesJson))));
            }
        }

        return new PageAnnotations(annotations.ToLookup(a => a.Item, a => a.Annotation), projects);
    }

    private static Dictionary<string, LabelRecord> Taxonomy(string labelsJson)
    {
        var labels = new Dictionary<string, LabelRecord>(StringComparer.Ordinal);
        foreach (var label in AvalaJsonExportFormat.ReadLabels(labelsJson))
        {
            labels.TryAdd(label.Name, label);
        }

        return labels;
    }

    private static object? Geometry(StoredAnnotation annotation, LabelRecord? label) => annotation.Shape switch
    {
        BoxShape box => new BoxGeometry(box.X, box.Y, box.Width, box.Height, box.RotationRadians, [.. Annex.Formats.Geometry.Corners(box).Select(p => new[] { p.X, p.Y })]),
        PolygonShape polygon => new PathGeometry([.. polygon.Vertices.Select(p => new[] { p.X, p.Y })]),
        PolylineShape polyline => new PathGeometry([.. polyline.Vertices.Select(p => new[] { p.X, p.Y })]),
        KeypointsShape keypoints => new KeypointsGeometry([.. keypoints.Points.Select(p => new GalleryKeypoint(p.X, p.Y, p.Name, p.Visible))], Edges(keypoints, label)),
        ClassificationShape => null,
        _ => annotation.CoordinatesJson is { } raw ? new RawJson(raw) : null,
    };

    /// <summary>The label's skeleton (pairs of 1-based taxonomy keypoint numbers) as pairs of indexes into the
    /// annotation's points: a taxonomy keypoint is the point with its name, or, for unnamed points, the point at its
    /// position. Edges with an end the annotation lacks are left out.</summary>
    private static List<int[]> Edges(KeypointsShape keypoints, LabelRecord? label)
    {
        var edges = new List<int[]>();
        if (label?.Skeleton is not { Count: > 0 } skeleton)
        {
            return edges;
        }

        var names = label.Keypoints;
        int PointOf(int slot)
        {
            if (names is not null && slot < names.Count)
            {
                for (var i = 0; i < keypoints.Points.Count; i++)
                {
                    if (string.Equals(keypoints.Points[i].Name, names[slot], StringComparison.Ordinal))
                    {
                        return i;
                    }
                }
            }

            return slot < keypoints.Points.Count && keypoints.Points[slot].Name is null ? slot : -1;
        }

        foreach (var edge in skeleton)
        {
            if (edge is [var a, var b] && a >= 1 && b >= 1 && PointOf(a - 1) is var from and >= 0 && PointOf(b - 1) is var to and >= 0)
            {
                edges.Add([from, to]);
            }
        }

        return edges;
    }

    private static string MediaSource(DatasetItem item) => item.MediaKey is not null ? "stored" : item.MediaUrl is not null ? "external" : "none";

    private static string? MediaUrl(HttpRequest request, Guid datasetUid, DatasetItem item) => item.MediaKey is not null
        ? $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}/api/v1/datasets/{datasetUid}/items/{item.Uid}/media/"
        : item.MediaUrl;

    private static string? ThumbnailUrl(HttpRequest request, Dataset dataset, DatasetItem item, ThumbnailOptions options) => item.MediaKey is null
        ? null
        : ThumbnailsApi.Url(request, dataset.Uid, new ThumbnailsApi.Source(dataset.OrganizationId, item.Uid, item.MediaKey, item.MediaLength, item.UpdatedAt), ThumbnailSize, options);

    private static async Task<Dataset?> FindDatasetAsync(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (!Guid.TryParse(uid, out var parsed))
        {
            return null;
        }

        var organizationId = http.Caller().OrganizationId;
        return await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Uid == parsed && d.OrganizationId == organizationId, ct);
    }
}
