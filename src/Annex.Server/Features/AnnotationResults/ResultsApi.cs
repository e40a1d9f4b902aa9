using System.Data.Common;
using System.Text.Json;
using Annex.Formats;
using Annex.Server.Features.Projects;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.AnnotationResults;

public sealed record ResultResponse(Guid Uid, Guid DatasetItemUid, Guid ProjectUid, RawJson Annotations, int AnnotationCount, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>What a bulk upsert wrote; <c>skipped</c> counts items that kept their stored result under <c>?existing=skip</c>.
/// <c>results</c> lists every element of the request in order, a skipped one as stored.</summary>
public sealed record ResultsUpsertedResponse(int Created, int Updated, IReadOnlyList<ResultResponse> Results, int Skipped = 0);

/// <summary>The answer to a bulk upsert sent with <c>Prefer: return=minimal</c>: the counts only.</summary>
public sealed record ResultsCountedResponse(int Created, int Updated, int Skipped);

/// <summary>An item's annotations in this project; they replace any the item had.</summary>
public sealed record ResultUpsert(Guid DatasetItemUid, IReadOnlyList<JsonElement> Annotations);

/// <summary>Up to 5,000 results, one per item, written all or nothing. A bare array of results is accepted too.</summary>
/// <remarks>Documentation only: the handler reads the body by hand.</remarks>
public sealed record UpsertResultsBody(IReadOnlyList<ResultUpsert> Results);

public static class ResultsApi
{
    public const int MaxResultsPerRequest = 5_000;

    public static RouteGroupBuilder MapResultsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/projects/{projectUid}/results").WithTags("Results");
        group.MapGet("", ListResults);
        group.MapPost("", UpsertResults)
            .AcceptsBody<UpsertResultsBody>()
            .Produces<ResultsUpsertedResponse>()
            .Produces<ResultsUpsertedResponse>(StatusCodes.Status201Created)
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<Results<Ok<Page<ResultResponse>>, BadRequestError, NotFoundError>> ListResults(string projectUid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var project = await ProjectsApi.FindAsync(projectUid, http, db, ct);
        if (project is null)
        {
            return NotFoundError.Instance;
        }

        var query = db.Results.AsNoTracking().Include(r => r.DatasetItem).Where(r => r.ProjectId == project.Id);
        if (http.Request.Query.TryGetValue("dataset_item", out var itemText))
        {
            if (!Guid.TryParse(itemText.ToString(), out var itemUid))
            {
                var errors = new ValidationErrors();
                errors.Add("dataset_item", Fields.InvalidUuid);
                return errors.ToBadRequest();
            }

            query = query.Where(r => r.DatasetItem.Uid == itemUid);
        }

        var page = await IdPaging.TypedPageAsync<Result, ResultResponse>(
            http.Request,
            query,
            (rows, _) => Task.FromResult<IReadOnlyList<ResultResponse>>([.. rows.Select(r => ToResponse(r, r.DatasetItem.Uid, project.Uid))]),
            ct);
        return page.OrNotFound();
    }

    private static ResultResponse ToResponse(Result r, Guid itemUid, Guid projectUid) =>
        new(r.Uid, itemUid, projectUid, new RawJson(r.Annotations), r.AnnotationCount, r.CreatedAt, r.UpdatedAt);

    /// <summary>
    /// Creates or replaces the annotations of each named item in this project; all or nothing, in one transaction,
    /// new results with multi-row INSERTs. With <c>?existing=skip</c> an item that already has a result in the
    /// project keeps it unchanged and is reported (counted in <c>skipped</c>), so a stopped import can be sent again.
    /// </summary>
    private static async Task<IResult> UpsertResults(string projectUid, HttpContext http, AnnexDbContext db, BulkWriteGate gate, TimeProvider time, CancellationToken ct)
    {
        var project = await ProjectsApi.FindAsync(projectUid, http, db, ct);
        if (project is null)
        {
            return NotFoundError.Instance;
        }

        var errors = new ValidationErrors();
        if (ExistingRows.ReadSkip(http.Request, "replace", errors) is not { } skipExisting)
        {
            return errors.ToBadRequest();
        }

        // The body is read element by element as it arrives; only each result's canonical annotations are kept.
        var labels = new HashSet<string>(ProjectsApi.LabelNames(project.Labels), StringComparer.Ordinal);
        var parsed = new List<ParsedResult>();
        var seen = new Dictionary<Guid, int>();
        var body = await BulkBody.ReadAsync(http.Request, "results", MaxResultsPerRequest, (element, index) =>
        {
            var row = ReadResult(element, ["results", Fields.Index(index)], labels, errors);
            if (row is null)
            {
                return;
            }

            if (!seen.TryAdd(row.Value.ItemUid, index))
            {
                errors.Add(["results", Fields.Index(index), "dataset_item_uid"], $"This item is also named at index {seen[row.Value.ItemUid]}; send one result per item.");
                return;
            }

            parsed.Add(new ParsedResult(row.Value.ItemUid, row.Value.Annotations, row.Value.Count, index));
        }, ct);
        if (body.Error is not null)
        {
            return body.Error;
        }

        // One query for the whole request: the uid list travels as a single JSON (SQLite) or array (PostgreSQL) parameter.
        var organizationId = http.Caller().OrganizationId;
        var wanted = parsed.Select(p => p.ItemUid).ToList();
        var itemIds = await db.DatasetItems.AsNoTracking()
            .Where(i => EF.Parameter(wanted).Contains(i.Uid) && i.Dataset.OrganizationId == organizationId)
            .Select(i => new { i.Id, i.Uid })
            .ToDictionaryAsync(i => i.Uid, i => i.Id, ct);
        foreach (var row in parsed.Where(p => !itemIds.ContainsKey(p.ItemUid)))
        {
            errors.Add(["results", Fields.Index(row.Index), "dataset_item_uid"], $"Invalid pk \"{row.ItemUid}\" - object does not exist.");
        }

        if (errors.Any)
        {
            return errors.ToBadRequest();
        }

        // Two clients may create the same (item, project) result at once; the loser of that race sees
        // the unique index fail and simply runs the upsert again, now as an update (or a skip).
        using var entered = await gate.EnterAsync(db, ct);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var minimal = ReturnPreference.WantsMinimal(http.Request);
                var upserted = await WriteAsync(db, project, parsed, itemIds, skipExisting, !minimal, Clock.UtcNow(time), ct);
                var status = upserted.Created > 0 ? StatusCodes.Status201Created : StatusCodes.Status200OK;
                if (minimal)
                {
                    ReturnPreference.Applied(http.Response);
                    return Results.Json(new ResultsCountedResponse(upserted.Created, upserted.Updated, upserted.Skipped), ApiJson.Options, statusCode: status);
                }

                return Results.Json(upserted, ApiJson.Options, statusCode: status);
            }
            catch (Exception ex) when (attempt < 3 && ex is DbUpdateException or DbException && IsUniqueViolation(ex))
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    private static bool IsUniqueViolation(Exception ex) => ex switch
    {
        DbUpdateException update => DatabaseErrors.IsUniqueViolation(update),
        DbException database => DatabaseErrors.IsUniqueViolation(database),
        _ => false,
    };

    private sealed record ParsedResult(Guid ItemUid, string Annotations, int Count, int Index);

    private static async Task<ResultsUpsertedResponse> WriteAsync(
        AnnexDbContext db,
        Project project,
        List<ParsedResult> parsed,
        Dictionary<Guid, long> itemIds,
        bool skipExisting,
        bool echo,
        DateTime now,
        CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var ids = parsed.Select(p => itemIds[p.ItemUid]).ToList();
        var stored = await db.Results.AsNoTracking()
            .Where(r => r.ProjectId == project.Id && EF.Parameter(ids).Contains(r.DatasetItemId))
            .ToDictionaryAsync(r => r.DatasetItemId, ct);

        var fresh = new List<Result>(parsed.Count - stored.Count);
        // With return=minimal only the counts are answered: no row is echoed back.
        var responses = new List<ResultResponse>(echo ? parsed.Count : 0);
        var updated = 0;
        foreach (var row in parsed)
        {
            var itemId = itemIds[row.ItemUid];
            if (stored.TryGetValue(itemId, out var result))
            {
                if (!skipExisting)
                {
                    result.Annotations = row.Annotations;
                    result.AnnotationCount = row.Count;
                    result.UpdatedAt = now;
                    db.Results.Attach(result);
                    db.Entry(result).Property(r => r.Annotations).IsModified = true;
                    db.Entry(result).Property(r => r.AnnotationCount).IsModified = true;
                    db.Entry(result).Property(r => r.UpdatedAt).IsModified = true;
                    updated++;
                }
            }
            else
            {
                result = new Result { Uid = Guid.CreateVersion7(), DatasetItemId = itemId, ProjectId = project.Id, Annotations = row.Annotations, AnnotationCount = row.Count, CreatedAt = now, UpdatedAt = now };
                fresh.Add(result);
            }

            if (echo)
            {
                responses.Add(ToResponse(result, row.ItemUid, project.Uid));
            }
        }

        if (updated > 0)
        {
            await db.SaveChangesAsync(ct);
        }

        // Without ?existing=skip a result created by another request in the meantime fails the unique index and
        // the caller retries; with it, that row is left out here and reported as skipped below.
        var written = skipExisting
            ? await BulkInsert.InsertAsync(db, fresh, ct, nameof(Result.DatasetItemId), nameof(Result.ProjectId))
            : await BulkInsert.InsertAsync(db, fresh, ct);
        await transaction.CommitAsync(ct);
        db.ChangeTracker.Clear();
        if (echo && written < fresh.Count)
        {
            var freshIds = fresh.Select(r => r.DatasetItemId).ToList();
            var winners = await db.Results.AsNoTracking()
                .Where(r => r.ProjectId == project.Id && EF.Parameter(freshIds).Contains(r.DatasetItemId))
                .ToDictionaryAsync(r => r.DatasetItemId, ct);
            var ours = fresh.ToDictionary(r => r.DatasetItemId, r => r.Uid);
            for (var i = 0; i < parsed.Count; i++)
            {
                var itemId = itemIds[parsed[i].ItemUid];
                if (winners.TryGetValue(itemId, out var winner) && ours.TryGetValue(itemId, out var ourUid) && winner.Uid != ourUid)
                {
                    responses[i] = ToResponse(winner, parsed[i].ItemUid, project.Uid);
                }
            }
        }

        return new ResultsUpsertedResponse(written, updated, responses, parsed.Count - written - updated);
    }

    private static (Guid ItemUid, string Annotations, int Count)? ReadResult(JsonElement element, string[] path, HashSet<string> labels, ValidationErrors errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add([.. path, "non_field_errors"], $"Invalid data. Expected a dictionary, but got {JsonBody.PythonTypeName(element)}.");
            return null;
        }

        var countBefore = errors.Count;
        var itemUid = Fields.RequiredUuid(element, "dataset_item_uid", path, errors) ?? default;
        if (!element.TryGetProperty("annotations", out var annotationsValue))
        {
            errors.Add([.. path, "annotations"], Fields.Required);
            return null;
        }

        var annotations = Fields.ListValue(annotationsValue, [.. path, "annotations"], errors);
        if (annotations is null)
        {
            return null;
        }

        if (Fields.DuplicateKey(annotationsValue) is { } duplicate)
        {
            errors.Add([.. path, "annotations"], $"The key \"{duplicate}\" appears twice in one object; send each key once.");
            return null;
        }

        using var buffer = new MemoryStream();
        var count = 0;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            var fieldErrors = new List<FieldError>();
            foreach (var annotation in annotations)
            {
                fieldErrors.Clear();
                if (!AnnotationValidator.TryWriteCanonical(annotation, labels.Contains, writer, fieldErrors))
                {
                    foreach (var fieldError in fieldErrors)
                    {
                        string[] annotationPath = [.. path, "annotations", Fields.Index(count)];
                        var subPath = fieldError.Path.Length == 0 ? ["non_field_errors"] : fieldError.Path.Split('.');
                        errors.Add([.. annotationPath, .. subPath], fieldError.Message);
                    }
                }

                count++;
            }

            writer.WriteEndArray();
        }

        return errors.Count == countBefore ? (itemUid, System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), count) : null;
    }
}
