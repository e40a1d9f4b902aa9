using System.Text.Json;
using Annex.Server.Features.Datasets;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Slices;

/// <summary>A slice as Annex and Avala clients read it. <c>owner_name</c> is the organization's slug, which
/// Avala's routes (<c>/slices/&lt;owner&gt;/&lt;slug&gt;/</c>) name it by. A slice holds its items from the
/// moment it is created, so its <c>status</c> is <c>ready</c>.</summary>
public sealed record SliceResponse(
    Guid Uid, string Name, string Slug, string OwnerName, SliceOrganization Organization, string Visibility, string Status, long ItemCount, DateTime CreatedAt);

public sealed record SliceOrganization(Guid Uid, string Name, string Slug);

/// <summary>An item of a slice as Avala clients read it: <c>key</c> is the item's <c>ref_id</c>, <c>url</c> its
/// <c>media_url</c> or, for an image uploaded to Annex, the address that serves it (with the API key).</summary>
public sealed record SliceItemResponse(
    Guid Uid, string Key, Guid Dataset, string DatasetOwnerName, string DatasetSlug, string? Url, RawJson Metadata, int? Width, int? Height,
    DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>The body of a create: the items by uid, or <c>sub_slices</c> as Avala's SDKs send them
/// (<c>{"type": "dataset", "dataset_uid": "..."}</c>: every item of a dataset), or both; then optionally a
/// random sample of <c>random_selection_count</c> of them.</summary>
public sealed record CreateSliceRequest(
    string Name, IReadOnlyList<Guid>? Items, IReadOnlyList<SubSlice>? SubSlices, string? Visibility, string? Organization, int? RandomSelectionCount);

public sealed record SubSlice(string Type, Guid DatasetUid);

public static class SlicesApi
{
    public const int MaxItemsPerSlice = 100_000;
    public const string Ready = "ready";
    public const string DatasetSubSlice = "dataset";

    // "/slices/<owner>/list/" is the list route, so no slice may be called "list".
    private const string ReservedSlug = "list";

    public static RouteGroupBuilder MapSlicesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/slices").WithTags("Slices");
        group.MapGet("", ListSlices).Produces<Page<SliceResponse>>().ProducesErrors(400);
        group.MapPost("", CreateSlice).AcceptsBody<CreateSliceRequest>()
            .Produces<SliceResponse>(StatusCodes.Status201Created).ProducesErrors(400, 409);
        group.MapGet("/{uid}", GetSlice).Produces<SliceResponse>().ProducesErrors(404);
        group.MapDelete("/{uid}", DeleteSlice).Produces(StatusCodes.Status204NoContent).ProducesErrors(404);

        // Avala's routes: the owner is the organization's slug, the slice is named by its slug.
        group.MapGet("/{owner}/list", ListOwnerSlices).Produces<Page<SliceResponse>>().ProducesErrors(400, 404);
        group.MapGet("/{owner}/{slug}", GetOwnerSlice).Produces<SliceResponse>().ProducesErrors(404);
        group.MapGet("/{owner}/{slug}/items/list", ListSliceItems).Produces<Page<SliceItemResponse>>().ProducesErrors(400, 404);
        group.MapGet("/{owner}/{slug}/items/{itemUid}", GetSliceItem).Produces<SliceItemResponse>().ProducesErrors(404);
        return api;
    }

    private static async Task<SliceOrganization> OrganizationAsync(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        var slug = await db.Organizations.Where(o => o.Id == caller.OrganizationId).Select(o => o.Slug).SingleAsync(ct);
        return new SliceOrganization(caller.OrganizationUid, caller.OrganizationName, slug);
    }

    private static async Task<IReadOnlyList<SliceResponse>> ToResponsesAsync(HttpContext http, AnnexDbContext db, List<Slice> slices, CancellationToken ct)
    {
        var organization = await OrganizationAsync(http, db, ct);
        var ids = slices.Select(s => s.Id).ToList();
        var counts = await db.SliceItems.Where(si => ids.Contains(si.SliceId)).GroupBy(si => si.SliceId)
            .Select(g => new { SliceId = g.Key, Count = g.LongCount() }).ToDictionaryAsync(x => x.SliceId, x => x.Count, ct);
        return [.. slices.Select(s => ToResponse(s, organization, counts.GetValueOrDefault(s.Id)))];
    }

    private static SliceResponse ToResponse(Slice s, SliceOrganization organization, long itemCount) =>
        new(s.Uid, s.Name, s.Slug, organization.Slug, organization, s.Visibility, Ready, itemCount, s.CreatedAt);

    private static Task<IResult> ListSlices(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        return IdPaging.PageAsync<Slice, SliceResponse>(
            http.Request,
            db.Slices.AsNoTracking().Where(s => s.OrganizationId == caller.OrganizationId),
            (rows, token) => ToResponsesAsync(http, db, rows, token),
            ct);
    }

    private static async Task<Slice?> FindAsync(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var organizationId = http.Caller().OrganizationId;
        return Guid.TryParse(uid, out var parsed)
            ? await db.Slices.AsNoTracking().SingleOrDefaultAsync(s => s.Uid == parsed && s.OrganizationId == organizationId, ct)
            : null;
    }

    /// <summary>Whether <paramref name="owner"/> is the caller's organization; any other owner is not found,
    /// whether or not it exists.</summary>
    private static async Task<bool> IsCallerAsync(string owner, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var organizationId = http.Caller().OrganizationId;
        return await db.Organizations.AnyAsync(o => o.Id == organizationId && o.Slug == owner, ct);
    }

    private static async Task<Slice?> FindBySlugAsync(string owner, string slug, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (!await IsCallerAsync(owner, http, db, ct))
        {
            return null;
        }

        var organizationId = http.Caller().OrganizationId;
        return await db.Slices.AsNoTracking().SingleOrDefaultAsync(s => s.OrganizationId == organizationId && s.Slug == slug, ct);
    }

    private static async Task<IResult> GetSlice(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var slice = await FindAsync(uid, http, db, ct);
        return slice is null ? ApiErrors.NotFound() : Results.Json((await ToResponsesAsync(http, db, [slice], ct))[0], ApiJson.Options);
    }

    private static async Task<IResult> ListOwnerSlices(string owner, HttpContext http, AnnexDbContext db, CancellationToken ct) =>
        await IsCallerAsync(owner, http, db, ct) ? await ListSlices(http, db, ct) : ApiErrors.NotFound();

    private static async Task<IResult> GetOwnerSlice(string owner, string slug, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var slice = await FindBySlugAsync(owner, slug, http, db, ct);
        return slice is null ? ApiErrors.NotFound() : Results.Json((await ToResponsesAsync(http, db, [slice], ct))[0], ApiJson.Options);
    }

    private static IQueryable<DatasetItem> ItemsOf(AnnexDbContext db, Slice slice) =>
        db.DatasetItems.AsNoTracking().Include(i => i.Dataset)
            .Where(i => db.SliceItems.Any(si => si.SliceId == slice.Id && si.DatasetItemId == i.Id));

    private static SliceItemResponse ToItemResponse(DatasetItem item, string ownerSlug, HttpRequest request) => new(
        item.Uid, item.RefId, item.Dataset.Uid, ownerSlug, item.Dataset.Slug, MediaAddress(item, request), new RawJson(item.Metadata),
        item.Width, item.Height, item.CreatedAt, item.UpdatedAt);

    /// <summary>The item's own media URL, or where this server serves its uploaded image.</summary>
    private static string? MediaAddress(DatasetItem item, HttpRequest request) =>
        item.MediaUrl ?? (item.MediaKey is null ? null : $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}/api/v1/datasets/{item.Dataset.Uid}/items/{item.Uid}/media/");

    /// <summary>The slice's items, in the order they were added to their datasets.</summary>
    private static async Task<IResult> ListSliceItems(string owner, string slug, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (await FindBySlugAsync(owner, slug, http, db, ct) is not { } slice)
        {
            return ApiErrors.NotFound();
        }

        return await IdPaging.PageAsync<DatasetItem, SliceItemResponse>(
            http.Request,
            ItemsOf(db, slice),
            (rows, _) => Task.FromResult<IReadOnlyList<SliceItemResponse>>([.. rows.Select(i => ToItemResponse(i, owner, http.Request))]),
            ct);
    }

    private static async Task<IResult> GetSliceItem(string owner, string slug, string itemUid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (!Guid.TryParse(itemUid, out var uid) || await FindBySlugAsync(owner, slug, http, db, ct) is not { } slice)
        {
            return ApiErrors.NotFound();
        }

        var item = await ItemsOf(db, slice).SingleOrDefaultAsync(i => i.Uid == uid, ct);
        return item is null ? ApiErrors.NotFound() : Results.Json(ToItemResponse(item, owner, http.Request), ApiJson.Options);
    }

    /// <summary>Deletes a slice; its items stay in their datasets. Exports that name the slice and still wait
    /// or run fail with a reason.</summary>
    private static async Task<IResult> DeleteSlice(string uid, HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        var slice = await FindAsync(uid, http, db, ct);
        if (slice is null)
        {
            return ApiErrors.NotFound();
        }

        await DeletedSources.DeleteAsync(db, slice.OrganizationId, ExportSourceKind.Slice, slice.Uid, slice.Name, Clock.UtcNow(time), async token =>
        {
            await db.SliceItems.Where(si => si.SliceId == slice.Id).ExecuteDeleteAsync(token);
            await db.Slices.Where(s => s.Id == slice.Id).ExecuteDeleteAsync(token);
        }, ct);
        return Results.NoContent();
    }

    private static async Task<IResult> CreateSlice(HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var body = document!.RootElement;
        var errors = new ValidationErrors();
        var name = Fields.Text(body, "name", errors, maxLength: 255);
        var hasSubSlices = body.TryGetProperty("sub_slices", out var subSlicesValue);
        var itemUids = Fields.UuidList(body, "items", errors, required: !hasSubSlices);
        if (itemUids is { Count: > MaxItemsPerSlice })
        {
            errors.Add("items", $"Ensure this field has no more than {MaxItemsPerSlice} elements.");
        }

        var datasetUids = hasSubSlices ? ReadSubSlices(subSlicesValue, errors) : [];
        var visibility = Fields.Text(body, "visibility", errors, required: false);
        if (visibility is not null and not DatasetKinds.Private and not DatasetKinds.Public)
        {
            errors.Add("visibility", $"\"{visibility}\" is not a valid choice; the choices are {DatasetKinds.Private}, {DatasetKinds.Public}.");
        }

        var sampleSize = Fields.OptionalPositiveInt(body, "random_selection_count", [], errors);
        if (sampleSize > MaxItemsPerSlice)
        {
            errors.Add("random_selection_count", $"Ensure this value is less than or equal to {MaxItemsPerSlice}.");
        }

        var organization = await OrganizationAsync(http, db, ct);
        var named = Fields.Text(body, "organization", errors, required: false, allowNull: true);
        if (named is not null && !NamesOrganization(named, organization))
        {
            // Only the key's own organization can own what the key creates.
            errors.Add("organization", Guid.TryParse(named, out var _) ? $"Invalid pk \"{named}\" - object does not exist." : $"Object with slug={named} does not exist.");
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var organizationId = http.Caller().OrganizationId;
        var itemIds = await ResolveItemsAsync(db, organizationId, itemUids ?? [], errors, ct);
        var datasetIds = await ResolveDatasetsAsync(db, organizationId, datasetUids, errors, ct);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var chosen = await ChooseItemsAsync(db, itemIds, datasetIds, sampleSize, errors, ct);
        if (chosen is null)
        {
            return errors.ToResult();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var baseSlug = Slugs.FromName(name!, "slice");
        var slug = await Slugs.FirstFreeAsync(db.Slices.Where(s => s.OrganizationId == organizationId).Select(s => s.Slug), baseSlug == ReservedSlug ? baseSlug + "-slice" : baseSlug, ct);
        var slice = new Slice { Uid = Guid.CreateVersion7(), OrganizationId = organizationId, Name = name!, Slug = slug, Visibility = visibility ?? DatasetKinds.Private, CreatedAt = Clock.UtcNow(time) };
        db.Slices.Add(slice);
        await db.SaveChangesAsync(ct);
        db.SliceItems.AddRange(chosen.Select(id => new SliceItem { SliceId = slice.Id, DatasetItemId = id }));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Results.Json(ToResponse(slice, organization, chosen.Count), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static bool NamesOrganization(string named, SliceOrganization organization) =>
        (Guid.TryParse(named, out var uid) && uid == organization.Uid) || string.Equals(named, organization.Slug, StringComparison.Ordinal);

    /// <summary>The dataset uids of <c>sub_slices</c>. Annex builds one kind: <c>{"type": "dataset",
    /// "dataset_uid": ...}</c>, every item of the dataset; any other kind or option is refused rather than
    /// ignored, as ignoring it would make a different slice than the one asked for.</summary>
    private static List<(Guid Uid, int Index)> ReadSubSlices(JsonElement value, ValidationErrors errors)
    {
        var datasets = new List<(Guid, int)>();
        if (Fields.ListValue(value, ["sub_slices"], errors) is not { } elements)
        {
            return datasets;
        }

        for (var index = 0; index < elements.Count; index++)
        {
            string[] path = ["sub_slices", Fields.Index(index)];
            var element = elements[index];
            if (element.ValueKind != JsonValueKind.Object)
            {
                errors.Add([.. path, "non_field_errors"], $"Invalid data. Expected a dictionary, but got {JsonBody.PythonTypeName(element)}.");
                continue;
            }

            var type = element.TryGetProperty("type", out var typeValue)
                ? Fields.StringValue(typeValue, [.. path, "type"], errors)
                : Missing([.. path, "type"], errors);
            if (type is not null and not DatasetSubSlice)
            {
                errors.Add([.. path, "type"], $"\"{type}\" is not a valid choice; Annex builds sub-slices of type \"{DatasetSubSlice}\" ({{\"type\": \"{DatasetSubSlice}\", \"dataset_uid\": \"<uid>\"}}: every item of the dataset).");
            }

            var dataset = Fields.RequiredUuid(element, "dataset_uid", path, errors);
            foreach (var property in element.EnumerateObject().Where(p => p.Name is not "type" and not "dataset_uid"))
            {
                errors.Add([.. path, property.Name], "Annex does not support this sub-slice option; a dataset sub-slice takes every item of the dataset.");
            }

            if (dataset is { } uid && type == DatasetSubSlice)
            {
                datasets.Add((uid, index));
            }
        }

        return datasets;
    }

    private static string? Missing(string[] path, ValidationErrors errors)
    {
        errors.Add(path, Fields.Required);
        return null;
    }

    /// <summary>The row ids of the named items, each wrong uid reported at its position.</summary>
    private static async Task<HashSet<long>> ResolveItemsAsync(AnnexDbContext db, long organizationId, List<Guid> itemUids, ValidationErrors errors, CancellationToken ct)
    {
        var itemIds = new Dictionary<Guid, long>();
        foreach (var chunk in itemUids.Distinct().Chunk(500))
        {
            foreach (var item in await db.DatasetItems.Where(i => chunk.Contains(i.Uid) && i.Dataset.OrganizationId == organizationId).Select(i => new { i.Uid, i.Id }).ToListAsync(ct))
            {
                itemIds[item.Uid] = item.Id;
            }
        }

        for (var index = 0; index < itemUids.Count; index++)
        {
            if (!itemIds.ContainsKey(itemUids[index]))
            {
                errors.Add(["items", Fields.Index(index)], $"Invalid pk \"{itemUids[index]}\" - object does not exist.");
            }
        }

        return [.. itemIds.Values];
    }

    private static async Task<List<long>> ResolveDatasetsAsync(AnnexDbContext db, long organizationId, List<(Guid Uid, int Index)> datasetUids, ValidationErrors errors, CancellationToken ct)
    {
        var uids = datasetUids.Select(d => d.Uid).Distinct().ToList();
        var found = await db.Datasets.Where(d => uids.Contains(d.Uid) && d.OrganizationId == organizationId).Select(d => new { d.Uid, d.Id }).ToDictionaryAsync(d => d.Uid, d => d.Id, ct);
        foreach (var (uid, index) in datasetUids.Where(d => !found.ContainsKey(d.Uid)))
        {
            errors.Add(["sub_slices", Fields.Index(index), "dataset_uid"], $"Invalid pk \"{uid}\" - object does not exist.");
        }

        return [.. found.Values];
    }

    /// <summary>The named items and the items of the named datasets, or a random sample of them; null (with
    /// an error) when they are more than a slice holds.</summary>
    private static async Task<List<long>?> ChooseItemsAsync(AnnexDbContext db, HashSet<long> itemIds, List<long> datasetIds, int? sampleSize, ValidationErrors errors, CancellationToken ct)
    {
        if (datasetIds.Count == 0 && sampleSize is null)
        {
            return [.. itemIds];
        }

        var named = itemIds.ToList();
        var union = db.DatasetItems.Where(i => datasetIds.Contains(i.DatasetId) || named.Contains(i.Id));
        if (sampleSize is { } size)
        {
            return await union.OrderBy(_ => EF.Functions.Random()).Select(i => i.Id).Take(size).ToListAsync(ct);
        }

        var count = await union.LongCountAsync(ct);
        if (count > MaxItemsPerSlice)
        {
            errors.Add("sub_slices", $"These sub-slices hold {count} items; a slice holds at most {MaxItemsPerSlice} (random_selection_count takes a sample).");
            return null;
        }

        return await union.Select(i => i.Id).ToListAsync(ct);
    }
}
