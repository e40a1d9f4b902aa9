using System.Security.Claims;
using System.Text.Encodings.Web;
using Annex.Server.Features.WebConsole;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Auth;

/// <summary>Authenticates <c>X-Avala-Api-Key</c>: the key's hash must match a key that is neither revoked nor expired.
/// Without that header, the web console's session cookie authenticates as the key it was signed in with.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AnnexDbContext db,
    ApiKeyCache keys,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (!Request.Headers.TryGetValue(ApiKeys.Header, out var values) || values.Count != 1 || string.IsNullOrWhiteSpace(values[0]))
        {
            // No key in the request: a web console session cookie may stand in for it (and then acts as that key).
            return await AuthenticateSessionAsync(now);
        }

        // Looking up by hash means the database never sees the secret; the fixed-time comparison below
        // keeps the final check from leaking how much of a hash matched.
        var hash = ApiKeys.Hash(values[0]!.Trim());
        if (keys.Find(hash, now) is { } cached)
        {
            return Success(cached);
        }

        var generation = keys.Generation;
        var key = await ValidKeyAsync(db.ApiKeys.Where(k => k.Hash == hash), now);
        if (key is null || !ApiKeys.HashesEqual(key.Hash, hash))
        {
            return AuthenticateResult.Fail("Invalid API key.");
        }

        keys.Add(key, generation);
        return Success(key);
    }

    private async Task<AuthenticateResult> AuthenticateSessionAsync(DateTime now)
    {
        if (!Request.Cookies.TryGetValue(ConsoleSessions.CookieName, out var token) || string.IsNullOrEmpty(token))
        {
            return AuthenticateResult.NoResult();
        }

        var tokenHash = ApiKeys.Hash(token);
        var session = await db.ConsoleSessions.AsNoTracking()
            .Where(s => s.TokenHash == tokenHash && s.ExpiresAt > now)
            .Select(s => new { s.Id, s.ApiKeyId, s.CsrfToken, s.ExpiresAt })
            .FirstOrDefaultAsync(Context.RequestAborted);
        var key = session is null ? null : await ValidKeyAsync(db.ApiKeys.Where(k => k.Id == session.ApiKeyId), now);
        if (session is null || key is null)
        {
            // A stale cookie is no credential: the request goes on as anonymous and the endpoint decides.
            return AuthenticateResult.NoResult();
        }

        Context.Features.Set(new ConsoleSessionContext(session.Id, session.CsrfToken, session.ExpiresAt));
        return Success(key);
    }

    private Task<VerifiedApiKey?> ValidKeyAsync(IQueryable<Features.Organizations.ApiKey> keys, DateTime now) =>
        keys.AsNoTracking()
            .Where(k => k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .Select(k => new VerifiedApiKey(k.Uid, k.Hash, k.Name, k.Prefix, k.Scopes, k.ExpiresAt, k.User.Uid, k.User.OrganizationId, k.User.Organization.Uid, k.User.Organization.Name, k.User.Organization.Slug, k.User.IsAdmin))
            .FirstOrDefaultAsync(Context.RequestAborted);

    private AuthenticateResult Success(VerifiedApiKey key)
    {
        var caller = new Caller(key.OrganizationId, key.OrganizationUid, key.OrganizationName, key.UserUid, key.Uid, ApiScopes.Parse(key.Scopes))
        {
            OrganizationSlug = key.OrganizationSlug,
            IsAdmin = key.IsAdmin,
            ApiKeyName = key.Name,
            ApiKeyPrefix = key.Prefix,
            ApiKeyExpiresAt = key.ExpiresAt,
        };
        Context.Features.Set(caller);
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, key.UserUid.ToString()), new Claim("api_key", key.Uid.ToString())],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Response.WriteAsJsonAsync(new ErrorDetail("Invalid API key."), ApiJson.Options);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Response.WriteAsJsonAsync(new ErrorDetail(ApiErrors.PermissionDenied), ApiJson.Options);
    }
}

/// <summary>Who is calling: the organization every query is scoped to, and the key's scopes (empty: full access).</summary>
public sealed record Caller(long OrganizationId, Guid OrganizationUid, string OrganizationName, Guid UserUid, Guid ApiKeyUid, IReadOnlySet<string> Scopes)
{
    /// <summary>The organization's URL name: the owner in Avala's <c>/datasets/&lt;owner&gt;/&lt;slug&gt;/</c> routes.</summary>
    public string OrganizationSlug { get; init; } = string.Empty;

    /// <summary>Whether the key's user is an administrator of the organization.</summary>
    public bool IsAdmin { get; init; }

    public string ApiKeyName { get; init; } = string.Empty;

    public string ApiKeyPrefix { get; init; } = string.Empty;

    public DateTime? ApiKeyExpiresAt { get; init; }
}

public static class CallerExtensions
{
    public static Caller Caller(this HttpContext context) =>
        context.Features.Get<Caller>() ?? throw new InvalidOperationException("The endpoint requires an authenticated caller.");
}
