using System.Text.Json;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Datasets;

public sealed record DatasetResponse(Guid Uid, string Name, long ItemCount, DateTime CreatedAt);

public sealed record ItemResponse(Guid Uid, string RefId, RawJson Metadata, int? Width, int? Height, string? MediaUrl, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record ItemsCreatedResponse(int Count, IReadOnlyList<ItemResponse> Items);

public static class DatasetsApi
{
    public const int MaxItemsPerRequest = 10_000;

    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets").WithTags("Datasets");
        group.MapGet("", ListDatasets);
        group.MapPost("", CreateDataset);
        group.MapGet("/{uid}", GetDataset);
        group.MapDelete("/{uid}", DeleteDataset);
        group.MapGet("/{uid}/items", ListItems);
        group.MapPost("/{uid}/items", CreateItems);
        return api;
    }

    public static DatasetResponse ToResponse(Dataset d) => new(d.Uid, d.Name, d.ItemCount, d.CreatedAt);

    public static ItemResponse ToResponse(DatasetItem i) => new(i.Uid, i.RefId, new RawJson(i.Metadata), i.Width, i.Height, i.MediaUrl, i.CreatedAt, i.UpdatedAt);

    private static Task<IResult> ListDatasets(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        return IdPaging.PageAsync<Dataset, DatasetResponse>(
            http.Request,
            db.Datasets.AsNoTracking().Where(d => d.OrganizationId == caller.OrganizationId),
            (rows, _) => Task.FromResult<IReadOnlyList<DatasetResponse>>([.. rows.Select(ToResponse)]),
            ct);
    }

    private static async Task<IResult> CreateDataset(HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var errors = new ValidationErrors();
        var name = Fields.Text(document!.RootElement, "name", errors, maxLength: 255);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var organizationId = http.Caller().OrganizationId;
        var slug = await Slugs.FirstFreeAsync(db.Datasets.Where(d => d.OrganizationId == organizationId).Select(d => d.Slug), Slugs.FromName(name!, "dataset"), ct);
        var dataset = new Dataset { Uid = Guid.CreateVersion7(), OrganizationId = organizationId, Name = name!, Slug = slug, CreatedAt = Clock.UtcNow(time) };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(ct);
        return Results.Json(ToResponse(dataset), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetDataset(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var dataset = await FindAsync(uid, http, db, ct);
        return dataset is null ? ApiErrors.NotFound() : Results.Json(ToResponse(dataset), ApiJson.Options);
    }

    /// <summary>
    /// Deletes a dataset with its items, their results and slice memberships, and the images uploaded for
    /// them. Exports that name the dataset and are still waiting or running fail with a reason (a running
    /// one stops at its next heartbeat and leaves no archive); finished exports keep their archives.
    /// </summary>
    private static async Task<IResult> DeleteDataset(
        string uid, HttpContext http, AnnexDbContext db, IBlobStore blobs, TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        var dataset = await FindAsync(uid, http, db, ct);
        if (dataset is null)
        {
            return ApiErrors.NotFound();
        }

        List<string> mediaKeys = [];
        await DeletedSources.DeleteAsync(db, dataset.OrganizationId, ExportSourceKind.Dataset, dataset.Uid, dataset.Name, Clock.UtcNow(time), async token =>
        {
            var items = db.DatasetItems.Where(i => i.DatasetId == dataset.Id);
            mediaKeys = await items.Where(i => i.MediaKey != null).Select(i => i.MediaKey!).ToListAsync(token);
            await db.Results.Where(r => items.Any(i => i.Id == r.DatasetItemId)).ExecuteDeleteAsync(token);
            await db.SliceItems.Where(s => items.Any(i => i.Id == s.DatasetItemId)).ExecuteDeleteAsync(token);
            await items.ExecuteDeleteAsync(token);
            await db.Datasets.Where(d => d.Id == dataset.Id).ExecuteDeleteAsync(token);
        }, ct);

        // After the commit: an image is only deleted once nothing refers to it. One that cannot be deleted
        // now stays as an orphan in storage, which does no harm beyond its bytes.
        foreach (var key in mediaKeys)
        {
            try
            {
                await blobs.DeleteAsync(key, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                loggers.CreateLogger(typeof(DatasetsApi)).LogWarning(ex, "Dataset {DatasetUid}: image {Key} could not be deleted", dataset.Uid, key);
            }
        }

        return Results.NoContent();
    }

    private static async Task<IResult> ListItems(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var dataset = await FindAsync(uid, http, db, ct);
        if (dataset is null)
        {
            return ApiErrors.NotFound();
        }

        return await IdPaging.PageAsync<DatasetItem, ItemResponse>(
            http.Request,
            db.DatasetItems.AsNoTracking().Where(i => i.DatasetId == dataset.Id),
            (rows, _) => Task.FromResult<IReadOnlyList<ItemResponse>>([.. rows.Select(ToResponse)]),
            ct);
    }

    private static async Task<IResult> CreateItems(string uid, HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        var dataset = await FindAsync(uid, http, db, ct);
        if (dataset is null)
        {
            return ApiErrors.NotFound();
        }

        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct, allowArray: true);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var errors = new ValidationErrors();
        var elements = Fields.BulkList(document!.RootElement, "items", errors, MaxItemsPerRequest);
        if (elements is null)
        {
            return errors.ToResult();
        }

        var now = Clock.UtcNow(time);
        var items = new List<DatasetItem>(elements.Count);
        var refIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var uids = new HashSet<Guid>();
        for (var index = 0; index < elements.Count; index++)
        {
            var item = ReadItem(elements[index], ["items", Fields.Index(index)], errors, now);
            if (item is null)
            {
                continue;
            }

            if (!refIds.TryAdd(item.RefId, index))
            {
                errors.Add(["items", Fields.Index(index), "ref_id"], $"Duplicate ref_id \"{item.RefId}\" in this request (also at index {refIds[item.RefId]}).");
            }

            if (!uids.Add(item.Uid))
            {
                errors.Add(["items", Fields.Index(index), "uid"], "Duplicate uid in this request.");
            }

            item.DatasetId = dataset.Id;
            items.Add(item);
        }

        if (!errors.Any)
        {
            await CheckNotTakenAsync(db, dataset, items, errors, ct);
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            db.DatasetItems.AddRange(items);
            await db.SaveChangesAsync(ct);
            await db.Datasets.Where(d => d.Id == dataset.Id).ExecuteUpdateAsync(s => s.SetProperty(d => d.ItemCount, d => d.ItemCount + items.Count), ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (DatabaseErrors.IsUniqueViolation(ex))
        {
            // Another request stored the same ref_id or uid between our check and our insert.
            db.ChangeTracker.Clear();
            await CheckNotTakenAsync(db, dataset, items, errors, ct);
            return errors.Any
                ? errors.ToResult()
                : ApiErrors.Detail(StatusCodes.Status409Conflict, "Another request created some of these items at the same time; nothing was written. Send the request again.");
        }

        return Results.Json(new ItemsCreatedResponse(items.Count, [.. items.Select(ToResponse)]), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task CheckNotTakenAsync(AnnexDbContext db, Dataset dataset, List<DatasetItem> items, ValidationErrors errors, CancellationToken ct)
    {
        var byRefId = items.Select((item, index) => (item, index)).ToDictionary(x => x.item.RefId, x => x.index, StringComparer.Ordinal);
        foreach (var chunk in byRefId.Keys.Chunk(500))
        {
            var taken = await db.DatasetItems.Where(i => i.DatasetId == dataset.Id && chunk.Contains(i.RefId)).Select(i => i.RefId).ToListAsync(ct);
            foreach (var refId in taken)
            {
                errors.Add(["items", Fields.Index(byRefId[refId]), "ref_id"], $"An item with ref_id \"{refId}\" already exists in this dataset.");
            }
        }

        var byUid = items.Select((item, index) => (item, index)).ToDictionary(x => x.item.Uid, x => x.index);
        foreach (var chunk in byUid.Keys.Chunk(500))
        {
            var taken = await db.DatasetItems.Where(i => chunk.Contains(i.Uid)).Select(i => i.Uid).ToListAsync(ct);
            foreach (var uid in taken)
            {
                errors.Add(["items", Fields.Index(byUid[uid]), "uid"], "An item with this uid already exists.");
            }
        }
    }

    private static DatasetItem? ReadItem(JsonElement element, string[] path, ValidationErrors errors, DateTime now)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add([.. path, "non_field_errors"], $"Invalid data. Expected a dictionary, but got {JsonBody.PythonTypeName(element)}.");
            return null;
        }

        var countBefore = errors.Count;
        string? refId = null;
        if (element.TryGetProperty("ref_id", out var refIdValue))
        {
            refId = Fields.StringValue(refIdValue, [.. path, "ref_id"], errors, maxLength: 1024);
        }
        else
        {
            errors.Add([.. path, "ref_id"], Fields.Required);
        }

        var metadata = "{}";
        if (element.TryGetProperty("metadata", out var metadataValue) && metadataValue.ValueKind != JsonValueKind.Null)
        {
            if (metadataValue.ValueKind == JsonValueKind.Object && Fields.DuplicateKey(metadataValue) is { } duplicate)
            {
                errors.Add([.. path, "metadata"], $"The key \"{duplicate}\" appears twice in one object; send each key once.");
            }
            else if (metadataValue.ValueKind == JsonValueKind.Object)
            {
                metadata = Compact(metadataValue);
            }
            else
            {
                errors.Add([.. path, "metadata"], $"Expected a dictionary of items but got type \"{JsonBody.PythonTypeName(metadataValue)}\".");
            }
        }

        var width = Fields.OptionalPositiveInt(element, "width", path, errors);
        var height = Fields.OptionalPositiveInt(element, "height", path, errors);
        string? mediaUrl = null;
        if (element.TryGetProperty("media_url", out var mediaValue) && mediaValue.ValueKind != JsonValueKind.Null)
        {
            mediaUrl = Fields.StringValue(mediaValue, [.. path, "media_url"], errors, maxLength: 2048);
            if (mediaUrl is not null && !(Uri.TryCreate(mediaUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == "s3")))
            {
                errors.Add([.. path, "media_url"], "Enter a valid URL.");
            }
        }

        var uid = Guid.CreateVersion7();
        if (element.TryGetProperty("uid", out var uidValue) && uidValue.ValueKind != JsonValueKind.Null && !Fields.TryUuid(uidValue, out uid))
        {
            errors.Add([.. path, "uid"], Fields.InvalidUuid);
        }

        if (errors.Count != countBefore)
        {
            return null;
        }

        return new DatasetItem { Uid = uid, RefId = refId!, Metadata = metadata, Width = width, Height = height, MediaUrl = mediaUrl, CreatedAt = now, UpdatedAt = now };
    }

    /// <summary>Re-serialises a JSON value without whitespace, so stored text is canonical and compact.</summary>
    public static string Compact(JsonElement value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            value.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static async Task<Dataset?> FindAsync(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (!Guid.TryParse(uid, out var parsed))
        {
            return null;
        }

        var organizationId = http.Caller().OrganizationId;
        return await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Uid == parsed && d.OrganizationId == organizationId, ct);
    }
}
