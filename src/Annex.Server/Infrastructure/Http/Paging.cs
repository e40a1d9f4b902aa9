using System.Globalization;
using System.Text;
using System.Text.Json;
using Annex.Server.Infrastructure.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Infrastructure.Http;

/// <summary>A cursor-paginated list, as DRF's CursorPagination renders it.</summary>
public sealed record Page<T>(string? Next, string? Previous, IReadOnlyList<T> Results);

public static class Paging
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const string InvalidCursor = "Invalid cursor";

    // Every field of a cursor must be present: "{}" is not a position.
    private static readonly JsonSerializerOptions CursorOptions = new(ApiJson.Options) { RespectRequiredConstructorParameters = true, RespectNullableAnnotations = true };

    /// <summary>Reads <c>limit</c>: default 100, clamped to 1000; not an integer or below 1 is an error.</summary>
    public static bool TryReadLimit(HttpRequest request, ValidationErrors errors, out int limit)
    {
        limit = DefaultLimit;
        if (!request.Query.TryGetValue("limit", out var values))
        {
            return true;
        }

        var text = values.ToString().Trim();
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            errors.Add("limit", Fields.InvalidInteger);
            return false;
        }

        if (parsed < 1)
        {
            errors.Add("limit", "Ensure this value is greater than or equal to 1.");
            return false;
        }

        limit = (int)Math.Min(parsed, MaxLimit);
        return true;
    }

    /// <summary>Encodes a cursor payload as opaque URL-safe text.</summary>
    public static string Encode<T>(T payload) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(payload, ApiJson.Options)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Decodes a cursor; null when it is not one of ours.</summary>
    public static T? Decode<T>(string text)
        where T : class
    {
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            return JsonSerializer.Deserialize<T>(Convert.FromBase64String(base64), CursorOptions);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or NotSupportedException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The absolute URL of this request with <c>cursor</c> replaced.</summary>
    public static string LinkTo(HttpRequest request, string cursor)
    {
        var query = QueryHelpers.ParseQuery(request.QueryString.Value);
        var builder = new StringBuilder();
        builder.Append(request.Scheme).Append("://").Append(request.Host.Value).Append(request.PathBase.Value).Append(request.Path.Value);
        if (!request.Path.Value!.EndsWith('/'))
        {
            builder.Append('/');
        }

        var pairs = query.Where(q => q.Key != "cursor").SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v))).ToList();
        pairs.Insert(0, new KeyValuePair<string, string?>("cursor", cursor));
        return QueryHelpers.AddQueryString(builder.ToString(), pairs);
    }
}

/// <summary>A position in a list ordered by row id: rows after <see cref="Id"/>, or before it when <see cref="Reverse"/>.</summary>
public sealed record IdCursor(long Id, bool Reverse);

public static class IdPaging
{
    /// <summary>One page of a list ordered by ascending id, keyset-paged both ways.</summary>
    public static async Task<IResult> PageAsync<TEntity, TOut>(
        HttpRequest request,
        IQueryable<TEntity> query,
        Func<List<TEntity>, CancellationToken, Task<IReadOnlyList<TOut>>> project,
        CancellationToken cancellationToken)
        where TEntity : class, IHasId =>
        (await TypedPageAsync(request, query, project, cancellationToken)).Result;

    /// <summary><see cref="PageAsync"/> typed for handlers that return <c>Results&lt;...&gt;</c>, so the
    /// OpenAPI document shows the page and its 400.</summary>
    public static async Task<Results<Ok<Page<TOut>>, BadRequestError>> TypedPageAsync<TEntity, TOut>(
        HttpRequest request,
        IQueryable<TEntity> query,
        Func<List<TEntity>, CancellationToken, Task<IReadOnlyList<TOut>>> project,
        CancellationToken cancellationToken)
        where TEntity : class, IHasId
    {
        var errors = new ValidationErrors();
        if (!Paging.TryReadLimit(request, errors, out var limit))
        {
            return errors.ToBadRequest();
        }

        IdCursor? cursor = null;
        if (request.Query.TryGetValue("cursor", out var cursorText))
        {
            cursor = Paging.Decode<IdCursor>(cursorText.ToString());
            if (cursor is null)
            {
                return BadRequestError.Detail(Paging.InvalidCursor);
            }
        }

        List<TEntity> rows;
        bool hasBefore;
        bool hasAfter;
        if (cursor is { Reverse: true })
        {
            rows = await query.Where(x => x.Id < cursor.Id).OrderByDescending(x => x.Id).Take(limit + 1).ToListAsync(cancellationToken);
            hasBefore = rows.Count > limit;
            rows = [.. rows.Take(limit).Reverse()];
            hasAfter = true;
        }
        else
        {
            var after = cursor?.Id ?? long.MinValue;
            rows = await query.Where(x => x.Id > after).OrderBy(x => x.Id).Take(limit + 1).ToListAsync(cancellationToken);
            hasAfter = rows.Count > limit;
            rows = [.. rows.Take(limit)];
            hasBefore = cursor is not null && await query.AnyAsync(x => x.Id <= after, cancellationToken);
        }

        var next = hasAfter && rows.Count > 0 ? Paging.LinkTo(request, Paging.Encode(new IdCursor(rows[^1].Id, false))) : null;
        var previous = hasBefore && rows.Count > 0 ? Paging.LinkTo(request, Paging.Encode(new IdCursor(rows[0].Id, true))) : null;
        if (rows.Count == 0 && cursor is not null)
        {
            next = null;
            previous = null;
        }

        return TypedResults.Ok(new Page<TOut>(next, previous, await project(rows, cancellationToken)));
    }
}
