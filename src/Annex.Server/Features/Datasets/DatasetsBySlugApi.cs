using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Datasets;

/// <summary>An item as Avala's <c>DatasetItem</c> type reads it: <c>key</c> is the ref_id, <c>dataset</c> the
/// dataset's uid, <c>url</c> the image (the URL the item was created with, or this server's media endpoint
/// for an uploaded image, which takes the same API key).</summary>
public sealed record DatasetItemResponse(
    Guid Uid,
    string Key,
    Guid Dataset,
    string DatasetSlug,
    string DatasetOwnerName,
    string? Url,
    RawJson Metadata,
    int? Width,
    int? Height,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>
/// Avala's owner/slug routes: <c>GET /datasets/{owner}/{slug}/</c>, <c>.../items/</c> and
/// <c>.../items/{item_uid}/</c>, where the owner is the organization's slug. Only the caller's own
/// organization is an owner; any other is a 404 like a slug that does not exist.
/// </summary>
public static class DatasetsBySlugApi
{
    public static RouteGroupBuilder MapDatasetsByOwnerAndSlug(this RouteGroupBuilder datasets)
    {
        datasets.MapGet("/{owner}/{slug}", GetDataset)
            .Produces<DatasetResponse>()
            .ProducesErrors(StatusCodes.Status404NotFound);
        datasets.MapGet("/{owner}/{slug}/items", ListItems)
            .Produces<Page<DatasetItemResponse>>()
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        datasets.MapGet("/{owner}/{slug}/items/{itemUid}", GetItem)
            .Produces<DatasetItemResponse>()
            .ProducesErrors(StatusCodes.Status404NotFound);
        return datasets;
    }

    private static async Task<IResult> GetDataset(string owner, string slug, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var dataset = await FindAsync(owner, slug, http.Caller(), db, ct);
        return dataset is null ? ApiErrors.NotFound() : Results.Json(DatasetsApi.ToResponse(dataset), ApiJson.Options);
    }

    private static async Task<IResult> ListItems(string owner, string slug, HttpContext http, AnnexDbContext db, UrlSigner urls, CancellationToken ct)
    {
        var caller = http.Caller();
        var dataset = await FindAsync(owner, slug, caller, db, ct);
        if (dataset is null)
        {
            return ApiErrors.NotFound();
        }

        var baseUrl = urls.BaseUrl(http.Request);
        return await IdPaging.PageAsync<DatasetItem, DatasetItemResponse>(
            http.Request,
            db.DatasetItems.AsNoTracking().Where(i => i.DatasetId == dataset.Id),
            (rows, _) => Task.FromResult<IReadOnlyList<DatasetItemResponse>>([.. rows.Select(i => ToResponse(i, dataset, caller, baseUrl))]),
            ct);
    }

    private static async Task<IResult> GetItem(string owner, string slug, string itemUid, HttpContext http, AnnexDbContext db, UrlSigner urls, CancellationToken ct)
    {
        var caller = http.Caller();
        var dataset = await FindAsync(owner, slug, caller, db, ct);
        if (dataset is null || !Guid.TryParse(itemUid, out var parsed))
        {
            return ApiErrors.NotFound();
        }

        var item = await db.DatasetItems.AsNoTracking().SingleOrDefaultAsync(i => i.Uid == parsed && i.DatasetId == dataset.Id, ct);
        return item is null ? ApiErrors.NotFound() : Results.Json(ToResponse(item, dataset, caller, urls.BaseUrl(http.Request)), ApiJson.Options);
    }

    private static DatasetItemResponse ToResponse(DatasetItem item, Dataset dataset, Caller caller, string baseUrl) => new(
        item.Uid,
        item.RefId,
        dataset.Uid,
        dataset.Slug,
        caller.OrganizationSlug,
        item.MediaKey is not null ? $"{baseUrl}/api/v1/datasets/{dataset.Uid}/items/{item.Uid}/media/" : item.MediaUrl,
        new RawJson(item.Metadata),
        item.Width,
        item.Height,
        item.CreatedAt,
        item.UpdatedAt);

    private static async Task<Dataset?> FindAsync(string owner, string slug, Caller caller, AnnexDbContext db, CancellationToken ct) =>
        string.Equals(owner, caller.OrganizationSlug, StringComparison.Ordinal)
            ? await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.OrganizationId == caller.OrganizationId && d.Slug == slug, ct)
            : null;
}
