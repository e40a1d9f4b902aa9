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

public sealed record ResultsUpsertedResponse(int Created, int Updated, IReadOnlyList<ResultResponse> Results);

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
        group.MapPost("", UpsertResults).AcceptsBody<UpsertResultsBody>();
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

    /// <summary>Creates or replaces the annotations of each named item in this project; all or nothing.</summary>
    private static async Task<Results<Ok<ResultsUpsertedResponse>, Created<ResultsUpsertedResponse>, BadRequestError, NotFoundError>> UpsertResults(string projectUid, HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        var project = await ProjectsApi.FindAsync(projectUid, http, db, ct);
        if (project is null)
        {
            return NotFoundError.Instance;
        }

        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct, allowArray: true);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var errors = new ValidationErrors();
        var elements = Fields.BulkList(document!.RootElement, "results", errors, MaxResultsPerRequest);
        if (elements is null)
        {
            return errors.ToBadRequest();
        }

        var labels = new HashSet<string>(ProjectsApi.LabelNames(project.Labels), StringComparer.Ordinal);
        var parsed = new List<(Guid ItemUid, string Annotations, int Count, int Index)>(elements.Count);
        var seen = new Dictionary<Guid, int>();
        for (var index = 0; index < elements.Count; index++)
        {
            var row = ReadResult(elements[index], ["results", Fields.Index(index)], labels, errors);
            if (row is null)
            {
                continue;
            }

            if (!seen.TryAdd(row.Value.ItemUid, index))
            {
                errors.Add(["results", Fields.Index(index), "dataset_item_uid"], $"This item is also named at index {seen[row.Value.ItemUid]}; send one result per item.");
                continue;
            }

            parsed.Add((row.Value.ItemUid, row.Value.Annotations, row.Value.Count, index));
        }

        var organizationId = http.Caller().OrganizationId;
        var itemIds = new Dictionary<Guid, (long Id, Guid Uid)>();
        foreach (var chunk in parsed.Select(p => p.ItemUid).Chunk(500))
        {
            var found = await db.DatasetItems.AsNoTracking()
                .Where(i => chunk.Contains(i.Uid) && i.Dataset.OrganizationId == organizationId)
                .Select(i => new { i.Id, i.Uid })
                .ToListAsync(ct);
            foreach (var item in found)
            {
                itemIds[item.Uid] = (item.Id, item.Uid);
            }
        }

        foreach (var row in parsed.Where(p => !itemIds.ContainsKey(p.ItemUid)))
        {
            errors.Add(["results", Fields.Index(row.Index), "dataset_item_uid"], $"Invalid pk \"{row.ItemUid}\" - object does not exist.");
        }

        if (errors.Any)
        {
            return errors.ToBadRequest();
        }

        // Two clients may create the same (item, project) result at once; the loser of that race sees
        // the unique index fail and simply runs the upsert again, now as an update.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (created, responses) = await WriteAsync(db, project, parsed, itemIds, Clock.UtcNow(time), ct);
                var upserted = new ResultsUpsertedResponse(created, parsed.Count - created, responses);
                return created > 0 ? TypedResults.Created((string?)null, upserted) : TypedResults.Ok(upserted);
            }
            catch (DbUpdateException ex) when (attempt < 3 && DatabaseErrors.IsUniqueViolation(ex))
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    private static async Task<(int Created, List<ResultResponse> Responses)> WriteAsync(
        AnnexDbContext db,
        Project project,
        List<(Guid ItemUid, string Annotations, int Count, int Index)> parsed,
        Dictionary<Guid, (long Id, Guid Uid)> itemIds,
        DateTime now,
        CancellationToken ct)
    {
        var ids = parsed.Select(p => itemIds[p.ItemUid].Id).ToList();
        var existing = new Dictionary<long, Result>();
        foreach (var chunk in ids.Chunk(500))
        {
            foreach (var result in await db.Results.Where(r => r.ProjectId == project.Id && chunk.Contains(r.DatasetItemId)).ToListAsync(ct))
            {
                existing[result.DatasetItemId] = result;
            }
        }

        var responses = new List<ResultResponse>(parsed.Count);
        var created = 0;
        foreach (var row in parsed)
        {
            var itemId = itemIds[row.ItemUid].Id;
            if (existing.TryGetValue(itemId, out var result))
            {
                result.Annotations = row.Annotations;
                result.AnnotationCount = row.Count;
                result.UpdatedAt = now;
            }
            else
            {
                result = new Result { Uid = Guid.CreateVersion7(), DatasetItemId = itemId, ProjectId = project.Id, Annotations = row.Annotations, AnnotationCount = row.Count, CreatedAt = now, UpdatedAt = now };
                db.Results.Add(result);
                created++;
            }

            responses.Add(ToResponse(result, row.ItemUid, project.Uid));
        }

        await db.SaveChangesAsync(ct);
        return (created, responses);
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

        return errors.Count == countBefore ? (itemUid, System.Text.Encoding.UTF8.GetString(buffer.ToArray()), count) : null;
    }
}
