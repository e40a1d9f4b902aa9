using System.Data.Common;
using System.Text.Json;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Datasets;

/// <summary>A dataset as Avala's <c>Dataset</c> type reads it; <c>status</c> is always <c>created</c> (see <see cref="DatasetKinds.Created"/>).</summary>
public sealed record DatasetResponse(Guid Uid, string Name, string Slug, long ItemCount, string DataType, string Status, string Visibility, DateTime CreatedAt);

/// <summary>What a dataset is created with, read from Avala's create body.</summary>
public sealed record DatasetFields(string Name, string Slug, string DataType, string Visibility);

public sealed record ItemResponse(Guid Uid, string RefId, RawJson Metadata, int? Width, int? Height, string? MediaUrl, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>What a bulk item create wrote: <c>count</c> new items; with <c>?existing=skip</c>, <c>skipped</c> elements whose
/// ref_id was already stored. <c>items</c> lists every element of the request in order, the stored ones as stored.</summary>
public sealed record ItemsCreatedResponse(int Count, IReadOnlyList<ItemResponse> Items, int Skipped = 0);

/// <summary>An element of <see cref="ItemsCreatedMinimalResponse"/>: where the item with this ref_id is.</summary>
public sealed record ItemUidResponse(Guid Uid, string RefId);

/// <summary>The answer to a bulk item create sent with <c>Prefer: return=minimal</c>: the counts, and each element's
/// uid and ref_id in request order (what a client needs to send the items' results), not the whole items.</summary>
public sealed record ItemsCreatedMinimalResponse(int Count, IReadOnlyList<ItemUidResponse> Items, int Skipped = 0);

public static class DatasetsApi
{
    public const int MaxItemsPerRequest = 10_000;

    /// <summary>The one slug a dataset cannot have: its owner/slug URL would be another route's.</summary>
    private const string ReservedSlug = "items";

    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets").WithTags("Datasets");
        group.MapGet("", ListDatasets)
            .Produces<Page<DatasetResponse>>()
            .ProducesErrors(StatusCodes.Status400BadRequest);
        group.MapPost("", CreateDataset)
            .AcceptsBody<CreateDatasetBody>()
            .Produces<DatasetResponse>(StatusCodes.Status201Created)
            .ProducesErrors(StatusCodes.Status400BadRequest);
        group.MapGet("/{uid}", GetDataset)
            .Produces<DatasetResponse>()
            .ProducesErrors(StatusCodes.Status404NotFound);
        group.MapDelete("/{uid}", DeleteDataset)
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(StatusCodes.Status404NotFound);
        group.MapGet("/{uid}/items", ListItems)
            .Produces<Page<ItemResponse>>()
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        group.MapPost("/{uid}/items", CreateItems)
            .AcceptsBody<CreateItemsBody>()
            .Produces<ItemsCreatedResponse>(StatusCodes.Status201Created)
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        group.MapDatasetsByOwnerAndSlug();
        return api;
    }

    public static DatasetResponse ToResponse(Dataset d) => new(d.Uid, d.Name, d.Slug, d.ItemCount, d.DataType, DatasetKinds.Created, d.Visibility, d.CreatedAt);

    public static ItemResponse ToResponse(DatasetItem i) => new(i.Uid, i.RefId, new RawJson(i.Metadata), i.Width, i.Height, i.MediaUrl, i.CreatedAt, i.UpdatedAt);

    /// <summary>The organization's datasets; <c>name</c> (part of the name, any case), <c>data_type</c>,
    /// <c>status</c> and <c>visibility</c> narrow the list, as the Avala SDKs send them.</summary>
    private static Task<IResult> ListDatasets(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        var datasets = db.Datasets.AsNoTracking().Where(d => d.OrganizationId == caller.OrganizationId);
        var query = http.Request.Query;
        if (query.TryGetValue("name", out var names) && names.ToString().Trim() is { Length: > 0 } name)
        {
            var lowered = name.ToLowerInvariant();
            // Lower() on both sides is what translates to SQL on every provider; the StringComparison overload does not.
#pragma warning disable CA1862
            datasets = datasets.Where(d => d.Name.ToLower().Contains(lowered));
#pragma warning restore CA1862
        }

        if (query.TryGetValue("data_type", out var dataTypes) && dataTypes.ToString() is { Length: > 0 } dataType)
        {
            datasets = datasets.Where(d => d.DataType == dataType);
        }

        if (query.TryGetValue("visibility", out var visibilities) && visibilities.ToString() is { Length: > 0 } visibility)
        {
            datasets = datasets.Where(d => d.Visibility == visibility);
        }

        if (query.TryGetValue("status", out var statuses) && statuses.ToString() is { Length: > 0 } status && status != DatasetKinds.Created)
        {
            // Every dataset is "created"; no dataset is in any other state.
            datasets = datasets.Where(d => false);
        }

        return IdPaging.PageAsync<Dataset, DatasetResponse>(
            http.Request,
            datasets,
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
        var caller = http.Caller();
        var errors = new ValidationErrors();
        var fields = await ReadDatasetFieldsAsync(document!.RootElement, caller, db, errors, ct);
        if (fields is null)
        {
            return errors.ToResult();
        }

        var dataset = NewDataset(fields, caller.OrganizationId, Clock.UtcNow(time));
        db.Datasets.Add(dataset);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (DatabaseErrors.IsUniqueViolation(ex))
        {
            // Another request took the slug between our check and our insert.
            return SlugTaken(fields.Slug);
        }

        return Results.Json(ToResponse(dataset), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    public static Dataset NewDataset(DatasetFields fields, long organizationId, DateTime now) => new()
    {
        Uid = Guid.CreateVersion7(),
        OrganizationId = organizationId,
        Name = fields.Name,
        Slug = fields.Slug,
        DataType = fields.DataType,
        Visibility = fields.Visibility,
        CreatedAt = now,
    };

    public static IResult SlugTaken(string slug)
    {
        var errors = new ValidationErrors();
        errors.Add("slug", SlugTakenMessage(slug));
        return errors.ToResult();
    }

    private static string SlugTakenMessage(string slug) => $"A dataset with the slug \"{slug}\" already exists in your organization.";

    /// <summary>
    /// Reads Avala's dataset create body: <c>name</c>; optional <c>slug</c> (derived from the name when left
    /// out; a slug the organization already uses is an error, so a retried create never makes a second
    /// dataset), <c>data_type</c> (only what Annex stores), <c>visibility</c>, <c>create_metadata</c>, and the
    /// owner fields, which must name the caller's organization. Fields about Avala's own storage and
    /// presentation (<c>industry</c>, <c>license</c>, <c>gpu_texture_format</c>) are accepted and not kept.
    /// Returns null with <paramref name="errors"/> filled when the body is refused.
    /// </summary>
    public static async Task<DatasetFields?> ReadDatasetFieldsAsync(JsonElement body, Caller caller, AnnexDbContext db, ValidationErrors errors, CancellationToken ct)
    {
        var name = Fields.Text(body, "name", errors, maxLength: 255);
        string? slug = null;
        if (body.TryGetProperty("slug", out var slugValue))
        {
            if (slugValue.ValueKind == JsonValueKind.String && slugValue.GetString()!.Trim().Length == 0)
            {
                errors.Add("slug", Fields.NotBlank);
            }
            else if (slugValue.ValueKind != JsonValueKind.Null)
            {
                slug = slugValue.ValueKind == JsonValueKind.String ? slugValue.GetString()!.Trim() : null;
                if (slug is null || !Slugs.IsValid(slug))
                {
                    errors.Add("slug", $"Enter a valid \"slug\" consisting of lowercase letters, numbers or hyphens (not at either end), at most {Slugs.MaxLength} characters.");
                    slug = null;
                }
                else if (slug == ReservedSlug)
                {
                    errors.Add("slug", $"\"{ReservedSlug}\" is reserved: /datasets/<owner>/{ReservedSlug}/ is the item list of the dataset with the uid <owner>. Choose another slug.");
                    slug = null;
                }
            }
        }

        var dataType = Choice(body, "data_type", DatasetKinds.DataTypes, DatasetKinds.Image, errors, choice => $"\"{choice}\" is not a data type Annex can store. Choose one of: {string.Join(", ", DatasetKinds.DataTypes)}.");
        var visibility = Choice(body, "visibility", DatasetKinds.Visibilities, DatasetKinds.Private, errors, choice => $"\"{choice}\" is not a valid choice. Choose one of: {string.Join(", ", DatasetKinds.Visibilities)}.");
        OptionalBoolean(body, "create_metadata", errors);
        if (OptionalBoolean(body, "is_sequence", errors) == true)
        {
            errors.Add("is_sequence", "Annex stores single images, not sequences.");
        }

        if (body.TryGetProperty("provider_config", out var provider) && provider.ValueKind != JsonValueKind.Null)
        {
            errors.Add("provider_config", "Annex keeps images in its own storage; upload them with /datasets/manual-upload/ or the item media endpoint.");
        }

        if (body.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != JsonValueKind.Null
            && !(metadata.ValueKind == JsonValueKind.Object && !metadata.EnumerateObject().Any()))
        {
            errors.Add("metadata", "Annex keeps metadata on items, not on datasets; send it with each item.");
        }

        if (body.TryGetProperty("owner_name", out var owner) && owner.ValueKind != JsonValueKind.Null
            && !(owner.ValueKind == JsonValueKind.String && owner.GetString() == caller.OrganizationSlug))
        {
            errors.Add("owner_name", "Datasets are created in the organization of the API key; owner_name must be its slug.");
        }

        if (body.TryGetProperty("organization_uid", out var organizationUid) && organizationUid.ValueKind != JsonValueKind.Null
            && !(Fields.TryUuid(organizationUid, out var parsedOrganization) && parsedOrganization == caller.OrganizationUid))
        {
            errors.Add("organization_uid", "Datasets are created in the organization of the API key; organization_uid must be its uid.");
        }

        if (body.TryGetProperty("organization_id", out var organizationId) && organizationId.ValueKind != JsonValueKind.Null)
        {
            errors.Add("organization_id", "Annex names organizations by uid or slug; send organization_uid or owner_name instead.");
        }

        if (errors.Any)
        {
            return null;
        }

        var taken = db.Datasets.Where(d => d.OrganizationId == caller.OrganizationId).Select(d => d.Slug);
        if (slug is null)
        {
            var derived = Slugs.FromName(name!, "dataset");
            slug = await Slugs.FirstFreeAsync(taken, derived == ReservedSlug ? $"{derived}-dataset" : derived, ct);
        }
        else if (await taken.AnyAsync(s => s == slug, ct))
        {
            errors.Add("slug", SlugTakenMessage(slug));
            return null;
        }

        return new DatasetFields(name!, slug, dataType!, visibility!);
    }

    private static string? Choice(JsonElement body, string name, IReadOnlyList<string> choices, string fallback, ValidationErrors errors, Func<string, string> invalid)
    {
        if (!body.TryGetProperty(name, out var value))
        {
            return fallback;
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(name, Fields.NotNull);
            return null;
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        if (!choices.Contains(text, StringComparer.Ordinal))
        {
            errors.Add(name, invalid(text.Length > 50 ? text[..50] + "..." : text));
            return null;
        }

        return text;
    }

    private static bool? OptionalBoolean(JsonElement body, string name, ValidationErrors errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        errors.Add(name, "Must be a valid boolean.");
        return null;
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
        string uid, HttpContext http, AnnexDbContext db, IBlobStore blobs, TimeProvider time, ILoggerFactory loggers, Microsoft.Extensions.Options.IOptions<Thumbnails.ThumbnailOptions> thumbnails, CancellationToken ct)
    {
        var dataset = await FindAsync(uid, http, db, ct);
        if (dataset is null)
        {
            return ApiErrors.NotFound();
        }

        List<Thumbnails.ThumbnailsApi.Source> media = [];
        await DeletedSources.DeleteAsync(db, dataset.OrganizationId, ExportSourceKind.Dataset, dataset.Uid, dataset.Name, Clock.UtcNow(time), async token =>
        {
            // Versions first, so the history triggers keep nothing of the rows deleted below.
            await Versions.VersionSql.DeleteAllAsync(db, dataset.Id, token);
            var items = db.DatasetItems.Where(i => i.DatasetId == dataset.Id);
            media = await items.Where(i => i.MediaKey != null)
                .Select(i => new Thumbnails.ThumbnailsApi.Source(dataset.OrganizationId, i.Uid, i.MediaKey!, i.MediaLength, i.UpdatedAt)).ToListAsync(token);
            await db.Results.Where(r => items.Any(i => i.Id == r.DatasetItemId)).ExecuteDeleteAsync(token);
            await db.SliceItems.Where(s => items.Any(i => i.Id == s.DatasetItemId)).ExecuteDeleteAsync(token);
            await items.ExecuteDeleteAsync(token);
            await db.Datasets.Where(d => d.Id == dataset.Id).ExecuteDeleteAsync(token);
        }, ct);

        // After the commit: an image is only deleted once nothing refers to it. One that cannot be deleted
        // now stays as an orphan in storage, which does no harm beyond its bytes.
        foreach (var key in media.Select(m => m.MediaKey))
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

        await Thumbnails.ThumbnailsApi.ForgetAsync(blobs, thumbnails.Value, media, loggers.CreateLogger(typeof(DatasetsApi)));

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

    /// <summary>
    /// Creates up to <see cref="MaxItemsPerRequest"/> items, all or nothing, in one transaction with multi-row
    /// INSERTs. A <c>ref_id</c> already in the dataset is an error, or with <c>?existing=skip</c> that element is
    /// left as stored and reported among <c>items</c> (counted in <c>skipped</c>, not in <c>count</c>), so a
    /// stopped import can be sent again.
    /// </summary>
    private static async Task<IResult> CreateItems(string uid, HttpContext http, AnnexDbContext db, BulkWriteGate gate, TimeProvider time, CancellationToken ct)
    {
        var dataset = await FindAsync(uid, http, db, ct);
        if (dataset is null)
        {
            return ApiErrors.NotFound();
        }

        var errors = new ValidationErrors();
        if (ExistingRows.ReadSkip(http.Request, "fail", errors) is not { } skipExisting)
        {
            return errors.ToResult();
        }

        // The body is read element by element as it arrives; only the items read from it are kept.
        var now = Clock.UtcNow(time);
        var items = new List<DatasetItem>();
        var refIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var uids = new HashSet<Guid>();
        var chosenUids = new List<(Guid Uid, int Index)>();
        var body = await BulkBody.ReadAsync(http.Request, "items", MaxItemsPerRequest, (element, index) =>
        {
            var item = ReadItem(element, ["items", Fields.Index(index)], errors, now);
            if (item is null)
            {
                return;
            }

            if (!refIds.TryAdd(item.RefId, index))
            {
                errors.Add(["items", Fields.Index(index), "ref_id"], $"Duplicate ref_id \"{item.RefId}\" in this request (also at index {refIds[item.RefId]}).");
            }

            if (!uids.Add(item.Uid))
            {
                errors.Add(["items", Fields.Index(index), "uid"], "Duplicate uid in this request.");
            }
            else if (element.TryGetProperty("uid", out var given) && given.ValueKind != JsonValueKind.Null)
            {
                // Only uids the client chose can be taken already; the server's own are new version 7 uids.
                chosenUids.Add((item.Uid, index));
            }

            item.DatasetId = dataset.Id;
            items.Add(item);
        }, ct);
        if (body.Error is not null)
        {
            return body.Error;
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var stored = await StoredByRefIdAsync(db, dataset.Id, [.. refIds.Keys], ct);
        if (!skipExisting)
        {
            foreach (var refId in stored.Keys)
            {
                errors.Add(["items", Fields.Index(refIds[refId]), "ref_id"], RefIdTakenMessage(refId));
            }
        }

        var fresh = items.Where(i => !stored.ContainsKey(i.RefId)).ToList();
        await CheckUidsFreeAsync(db, chosenUids.Where(c => !stored.ContainsKey(items[c.Index].RefId)).ToList(), errors, ct);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        int written;
        using var entered = await gate.EnterAsync(db, ct);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            written = skipExisting
                ? await BulkInsert.InsertAsync(db, fresh, ct, nameof(DatasetItem.DatasetId), nameof(DatasetItem.RefId))
                : await BulkInsert.InsertAsync(db, fresh, ct);
            if (written > 0)
            {
                await db.Datasets.Where(d => d.Id == dataset.Id).ExecuteUpdateAsync(s => s.SetProperty(d => d.ItemCount, d => d.ItemCount + written), ct);
            }

            await transaction.CommitAsync(ct);
        }
        catch (DbException ex) when (DatabaseErrors.IsUniqueViolation(ex))
        {
            // Another request stored the same ref_id or uid between our check and our insert.
            var taken = await StoredByRefIdAsync(db, dataset.Id, [.. fresh.Select(i => i.RefId)], ct);
            foreach (var refId in taken.Keys)
            {
                errors.Add(["items", Fields.Index(refIds[refId]), "ref_id"], RefIdTakenMessage(refId));
            }

            await CheckUidsFreeAsync(db, chosenUids, errors, ct);
            return errors.Any
                ? errors.ToResult()
                : ApiErrors.Detail(StatusCodes.Status409Conflict, "Another request created some of these items at the same time; nothing was written. Send the request again.");
        }

        if (written < fresh.Count)
        {
            // With ?existing=skip, another request stored some of these ref_ids first: report its rows.
            foreach (var (refId, row) in await StoredByRefIdAsync(db, dataset.Id, [.. fresh.Select(i => i.RefId)], ct))
            {
                if (row.Uid != items[refIds[refId]].Uid)
                {
                    stored[refId] = row;
                }
            }
        }

        if (ReturnPreference.WantsMinimal(http.Request))
        {
            ReturnPreference.Applied(http.Response);
            var uidsOnly = items.Select(i => stored.TryGetValue(i.RefId, out var existing) ? new ItemUidResponse(existing.Uid, existing.RefId) : new ItemUidResponse(i.Uid, i.RefId)).ToList();
            return Results.Json(new ItemsCreatedMinimalResponse(items.Count - stored.Count, uidsOnly, stored.Count), ApiJson.Options, statusCode: StatusCodes.Status201Created);
        }

        var responses = items.Select(i => stored.TryGetValue(i.RefId, out var existing) ? ToResponse(existing) : ToResponse(i)).ToList();
        return Results.Json(new ItemsCreatedResponse(items.Count - stored.Count, responses, stored.Count), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static string RefIdTakenMessage(string refId) => $"An item with ref_id \"{refId}\" already exists in this dataset.";

    /// <summary>The dataset's items with these ref_ids, in one query (the list travels as one JSON or array parameter).</summary>
    private static async Task<Dictionary<string, DatasetItem>> StoredByRefIdAsync(AnnexDbContext db, long datasetId, List<string> refIds, CancellationToken ct)
    {
        var stored = new Dictionary<string, DatasetItem>(StringComparer.Ordinal);
        if (refIds.Count == 0)
        {
            return stored;
        }

        foreach (var item in await db.DatasetItems.AsNoTracking().Where(i => i.DatasetId == datasetId && EF.Parameter(refIds).Contains(i.RefId)).ToListAsync(ct))
        {
            stored[item.RefId] = item;
        }

        return stored;
    }

    private static async Task CheckUidsFreeAsync(AnnexDbContext db, List<(Guid Uid, int Index)> chosen, ValidationErrors errors, CancellationToken ct)
    {
        if (chosen.Count == 0)
        {
            return;
        }

        var byUid = chosen.ToDictionary(c => c.Uid, c => c.Index);
        var wanted = byUid.Keys.ToList();
        foreach (var uid in await db.DatasetItems.Where(i => EF.Parameter(wanted).Contains(i.Uid)).Select(i => i.Uid).ToListAsync(ct))
        {
            errors.Add(["items", Fields.Index(byUid[uid]), "uid"], "An item with this uid already exists.");
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

/// <summary>The body of <c>POST /datasets/</c> (for the API description; the handler reads the JSON itself
/// so that every field error is reported at once).</summary>
public sealed record CreateDatasetBody(
    string Name, string? Slug, string? DataType, string? Visibility, bool? CreateMetadata, string? OwnerName, Guid? OrganizationUid);

/// <summary>The body of <c>POST /datasets/&lt;uid&gt;/items/</c> (for the API description): up to 10,000 items.</summary>
public sealed record CreateItemsBody(IReadOnlyList<NewItemBody> Items);

/// <summary>One item of <see cref="CreateItemsBody"/>; <c>ref_id</c> is unique in the dataset.</summary>
public sealed record NewItemBody(string RefId, int? Width, int? Height, JsonElement? Metadata, string? MediaUrl);
