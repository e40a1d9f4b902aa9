using System.Security.Claims;
using System.Text.Encodings.Web;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Auth;

/// <summary>Authenticates <c>X-Avala-Api-Key</c>: the key's hash must match a key that is neither revoked nor expired.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AnnexDbContext db,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeys.Header, out var values) || values.Count != 1 || string.IsNullOrWhiteSpace(values[0]))
        {
            return AuthenticateResult.NoResult();
        }

        // Looking up by hash means the database never sees the secret; the fixed-time comparison below
        // keeps the final check from leaking how much of a hash matched.
        var hash = ApiKeys.Hash(values[0]!.Trim());
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash)
            .Select(k => new { k.Uid, k.Hash, k.Scopes, k.ExpiresAt, k.RevokedAt, UserUid = k.User.Uid, k.User.OrganizationId, OrganizationUid = k.User.Organization.Uid, OrganizationName = k.User.Organization.Name, OrganizationSlug = k.User.Organization.Slug, k.User.IsAdmin })
            .FirstOrDefaultAsync(Context.RequestAborted);
        var now = time.GetUtcNow().UtcDateTime;
        if (key is null || !ApiKeys.HashesEqual(key.Hash, hash) || key.RevokedAt is not null || key.ExpiresAt <= now)
        {
            return AuthenticateResult.Fail("Invalid API key.");
        }

        var caller = new Caller(key.OrganizationId, key.OrganizationUid, key.OrganizationName, key.UserUid, key.Uid, ApiScopes.Parse(key.Scopes))
        {
            OrganizationSlug = key.OrganizationSlug,
            IsAdmin = key.IsAdmin,
        };;
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
}

public static class CallerExtensions
{
    public static Caller Caller(this HttpContext context) =>
        context.Features.Get<Caller>() ?? throw new InvalidOperationException("The endpoint requires an authenticated caller.");
}
