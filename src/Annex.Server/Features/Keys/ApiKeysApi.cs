using System.Text.Json;
using Annex.Server.Features.Organizations;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Keys;

public sealed record ApiKeyResponse(Guid Uid, string Name, string Prefix, IReadOnlyList<string> Scopes, Guid User, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt);

/// <summary>The answer to a create: the only time the whole key is shown.</summary>
public sealed record CreatedApiKeyResponse(Guid Uid, string Name, string Prefix, IReadOnlyList<string> Scopes, Guid User, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt, string Key);

/// <summary>A new API key for the caller. Without scopes it has the organization's full access.</summary>
/// <remarks>Documentation only: the handler reads the body by hand.</remarks>
public sealed record CreateApiKeyBody
{
    public required string Name { get; init; }

    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>When the key stops working: an ISO 8601 time in the future; none means never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>Keys of the caller's organization. Managing keys needs a key with full access
/// (see <see cref="ApiScopes"/>), so a scoped key cannot widen its own access.</summary>
public static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeysApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/api-keys").WithTags("API keys");
        group.MapGet("", ListKeys);
        group.MapPost("", CreateKey).AcceptsBody<CreateApiKeyBody>();
        group.MapGet("/{uid}", GetKey);
        group.MapDelete("/{uid}", RevokeKey);
        return api;
    }

    private static IQueryable<ApiKey> OrganizationKeys(AnnexDbContext db, Caller caller) =>
        db.ApiKeys.AsNoTracking().Include(k => k.User).Where(k => k.User.OrganizationId == caller.OrganizationId);

    private static ApiKeyResponse ToResponse(ApiKey key) =>
        new(key.Uid, key.Name, key.Prefix, [.. ApiScopes.Parse(key.Scopes).Order(StringComparer.Ordinal)], key.User.Uid, key.CreatedAt, key.ExpiresAt, key.RevokedAt);

    private static Task<Results<Ok<Page<ApiKeyResponse>>, BadRequestError>> ListKeys(HttpContext http, AnnexDbContext db, CancellationToken ct) =>
        IdPaging.TypedPageAsync<ApiKey, ApiKeyResponse>(
            http.Request,
            OrganizationKeys(db, http.Caller()),
            (rows, _) => Task.FromResult<IReadOnlyList<ApiKeyResponse>>([.. rows.Select(ToResponse)]),
            ct);

    private static async Task<Results<Ok<ApiKeyResponse>, NotFoundError>> GetKey(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var key = Guid.TryParse(uid, out var parsed)
            ? await OrganizationKeys(db, http.Caller()).SingleOrDefaultAsync(k => k.Uid == parsed, ct)
            : null;
        return key is null ? NotFoundError.Instance : TypedResults.Ok(ToResponse(key));
    }

    private static async Task<Results<Created<CreatedApiKeyResponse>, BadRequestError>> CreateKey(HttpContext http, AnnexDbContext db, Accounts accounts, TimeProvider time, CancellationToken ct)
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
        var scopes = Fields.ChoiceList(body, "scopes", ApiScopes.All, "scopes", errors, required: false);
        var expiresAt = ReadExpiry(body, Clock.UtcNow(time), errors);
        if (errors.Any)
        {
            return errors.ToBadRequest();
        }

        var issued = await accounts.CreateApiKeyAsync(http.Caller().UserUid, name!, ct, scopes, expiresAt);
        var key = await OrganizationKeys(db, http.Caller()).SingleAsync(k => k.Uid == issued.Uid, ct);
        var shown = ToResponse(key);
        return TypedResults.Created(
            (string?)null,
            new CreatedApiKeyResponse(shown.Uid, shown.Name, shown.Prefix, shown.Scopes, shown.User, shown.CreatedAt, shown.ExpiresAt, shown.RevokedAt, issued.Key));
    }

    private static async Task<Results<NoContent, NotFoundError>> RevokeKey(string uid, HttpContext http, AnnexDbContext db, ApiKeyCache keyCache, TimeProvider time, CancellationToken ct)
    {
        if (!Guid.TryParse(uid, out var parsed))
        {
            return NotFoundError.Instance;
        }

        var organizationId = http.Caller().OrganizationId;
        var now = Clock.UtcNow(time);
        var exists = await db.ApiKeys.AnyAsync(k => k.Uid == parsed && k.User.OrganizationId == organizationId, ct);
        if (!exists)
        {
            return NotFoundError.Instance;
        }

        await db.ApiKeys.Where(k => k.Uid == parsed && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct);
        keyCache.Clear();
        return TypedResults.NoContent();
    }

    private static DateTime? ReadExpiry(JsonElement body, DateTime now, ValidationErrors errors)
    {
        if (!body.TryGetProperty("expires_at", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || !DateTimeOffset.TryParse(value.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var parsed)
            || !value.GetString()!.Contains('T', StringComparison.Ordinal))
        {
            errors.Add("expires_at", "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
            return null;
        }

        var utc = parsed.UtcDateTime;
        if (utc <= now)
        {
            errors.Add("expires_at", "Ensure this value is in the future.");
            return null;
        }

        return new DateTime(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Utc);
    }
}
