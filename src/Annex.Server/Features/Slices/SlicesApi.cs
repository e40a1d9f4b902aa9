using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Slices;

public sealed record SliceResponse(Guid Uid, string Name, long ItemCount, DateTime CreatedAt);

public static class SlicesApi
{
    public const int MaxItemsPerSlice = 100_000;

    public static RouteGroupBuilder MapSlicesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/slices").WithTags("Slices");
        group.MapGet("", ListSlices);
        group.MapPost("", CreateSlice);
        group.MapGet("/{uid}", GetSlice);
        group.MapDelete("/{uid}", DeleteSlice);
        return api;
    }

    private static async Task<IReadOnlyList<SliceResponse>> ToResponsesAsync(AnnexDbContext db, List<Slice> slices, CancellationToken ct)
    {
        var ids = slices.Select(s => s.Id).ToList();
        var counts = await db.SliceItems.Where(si => ids.Contains(si.SliceId)).GroupBy(si => si.SliceId)
            .Select(g => new { SliceId = g.Key, Count = g.LongCount() }).ToDictionaryAsync(x => x.SliceId, x => x.Count, ct);
        return [.. slices.Select(s => new SliceResponse(s.Uid, s.Name, counts.GetValueOrDefault(s.Id), s.CreatedAt))];
    }

    private static Task<IResult> ListSlices(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        return IdPaging.PageAsync<Slice, SliceResponse>(
            http.Request,
            db.Slices.AsNoTracking().Where(s => s.OrganizationId == caller.OrganizationId),
            (rows, token) => ToResponsesAsync(db, rows, token),
            ct);
    }

    private static async Task<Slice?> FindAsync(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var organizationId = http.Caller().OrganizationId;
        return Guid.TryParse(uid, out var parsed)
            ? await db.Slices.AsNoTracking().SingleOrDefaultAsync(s => s.Uid == parsed && s.OrganizationId == organizationId, ct)
            : null;
    }

    private static async Task<IResult> GetSlice(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var slice = await FindAsync(uid, http, db, ct);
        return slice is null ? ApiErrors.NotFound() : Results.Json((await ToResponsesAsync(db, [slice], ct))[0], ApiJson.Options);
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
        var itemUids = Fields.UuidList(body, "items", errors, required: true);
        if (itemUids is { Count: > MaxItemsPerSlice })
        {
            errors.Add("items", $"Ensure this field has no more than {MaxItemsPerSlice} elements.");
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var organizationId = http.Caller().OrganizationId;
        var distinct = itemUids!.Distinct().ToList();
        var itemIds = new Dictionary<Guid, long>();
        foreach (var chunk in distinct.Chunk(500))
        {
            foreach (var item in await db.DatasetItems.Where(i => chunk.Contains(i.Uid) && i.Dataset.OrganizationId == organizationId).Select(i => new { i.Uid, i.Id }).ToListAsync(ct))
            {
                itemIds[item.Uid] = item.Id;
            }
        }

        for (var index = 0; index < itemUids!.Count; index++)
        {
            if (!itemIds.ContainsKey(itemUids[index]))
            {
                errors.Add(["items", Fields.Index(index)], $"Invalid pk \"{itemUids[index]}\" - object does not exist.");
            }
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var slug = await Slugs.FirstFreeAsync(db.Slices.Where(s => s.OrganizationId == organizationId).Select(s => s.Slug), Slugs.FromName(name!, "slice"), ct);
        var slice = new Slice { Uid = Guid.CreateVersion7(), OrganizationId = organizationId, Name = name!, Slug = slug, CreatedAt = Clock.UtcNow(time) };
        db.Slices.Add(slice);
        await db.SaveChangesAsync(ct);
        db.SliceItems.AddRange(distinct.Select(uid => new SliceItem { SliceId = slice.Id, DatasetItemId = itemIds[uid] }));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Results.Json(new SliceResponse(slice.Uid, slice.Name, distinct.Count, slice.CreatedAt), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }
}
