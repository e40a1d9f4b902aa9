using System.Security.Cryptography;
using System.Text;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.WebConsole;

/// <summary>The session a request's cookie belongs to (set by the authentication handler).</summary>
public sealed record ConsoleSessionContext(long SessionId, string CsrfToken, DateTime ExpiresAt);

public sealed record SessionOrganization(Guid Uid, string Name, string Slug);

public sealed record SessionApiKey(Guid Uid, string Name, string Prefix, DateTime? ExpiresAt);

/// <summary>Who the console is signed in as. <c>Scopes</c> empty and <c>FullAccess</c> true: the key may do
/// everything in its organization.</summary>
public sealed record SessionResponse(
    SessionOrganization Organization, Guid User, bool IsAdmin, SessionApiKey ApiKey, IReadOnlyList<string> Scopes, bool FullAccess,
    IReadOnlyList<string> AvailableScopes, DateTime ExpiresAt, string CsrfToken);

/// <remarks>Documentation only: the handler reads the body by hand.</remarks>
public sealed record CreateSessionBody
{
    public required string ApiKey { get; init; }
}

/// <summary>
/// Sign-in for the web console: <c>POST /console/session</c> trades an API key for an HttpOnly, SameSite=Strict
/// cookie (Secure over HTTPS) holding a random session id, so the key never stays in the page. Every
/// state-changing request made with the cookie must carry the session's <c>X-CSRF-Token</c>; requests
/// with an API key header are not affected.
/// </summary>
public static class ConsoleSessions
{
    public const string CookieName = "annex_session";
    public const string CsrfHeader = "X-CSRF-Token";
    public const string Path = "/console/session";

    public static IEndpointRouteBuilder MapConsoleSessions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Path).AllowAnonymous().ExcludeFromDescription();
        group.MapPost("", SignIn);
        group.MapGet("", WhoAmI);
        group.MapDelete("", SignOut);
        return app;
    }

    /// <summary>Refuses with 403 a cookie-authenticated request that changes state without the session's CSRF
    /// token. Runs after authentication; sign-in itself is guarded by its JSON body and Sec-Fetch-Site instead.</summary>
    public static IApplicationBuilder UseConsoleCsrfProtection(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if (context.Features.Get<ConsoleSessionContext>() is { } session
                && !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method))
                && ActsWithTheSession(context)
                && !TokensEqual(request.Headers[CsrfHeader].ToString(), session.CsrfToken))
            {
                await ApiErrors.Detail(StatusCodes.Status403Forbidden, "CSRF Failed: CSRF token missing or incorrect.").ExecuteAsync(context);
                return;
            }

            await next(context);
        });

    /// <summary>Whether the request would act with the session: any endpoint that needs a caller, and signing out.
    /// Endpoints authorized otherwise (signed upload and download links) and sign-in itself do not use the cookie.</summary>
    private static bool ActsWithTheSession(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.Equals(Path, StringComparison.OrdinalIgnoreCase))
        {
            return !HttpMethods.IsPost(context.Request.Method);
        }

        return context.GetEndpoint() is { } endpoint && endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null;
    }

    private static bool TokensEqual(string given, string expected) =>
        given.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    private static async Task<IResult> SignIn(HttpContext http, AnnexDbContext db, IOptions<ConsoleOptions> options, TimeProvider time, CancellationToken ct)
    {
        // A page on another site can post a form here but not a JSON body (that needs CORS, which is off), and
        // browsers say where a request comes from: together they stop another site signing a visitor in as itself.
        var site = http.Request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
        {
            return ApiErrors.Detail(StatusCodes.Status403Forbidden, "CSRF Failed: sign-in must come from the console itself.");
        }

        if (http.Request.ContentType is not { } contentType || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return ApiErrors.Detail(StatusCodes.Status415UnsupportedMediaType, $"Unsupported media type \"{http.Request.ContentType}\" in request.");
        }

        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var errors = new ValidationErrors();
        var key = Fields.Text(document!.RootElement, "api_key", errors, maxLength: 200);
        if (errors.Any)
        {
            return errors.ToBadRequest();
        }

        var now = Clock.UtcNow(time);
        var hash = ApiKeys.Hash(key!);
        var apiKey = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .Select(k => new { k.Id, k.ExpiresAt })
            .FirstOrDefaultAsync(ct);
        if (apiKey is null)
        {
            errors.Add("api_key", "Invalid API key.");
            return errors.ToBadRequest();
        }

        // Expired sessions are only ever dropped here: one indexed delete per sign-in keeps the table small.
        await db.ConsoleSessions.Where(s => s.ExpiresAt <= now).ExecuteDeleteAsync(ct);

        var token = ApiKeys.Base64Url(RandomNumberGenerator.GetBytes(32));
        var expiresAt = now + options.Value.SessionLifetime;
        if (apiKey.ExpiresAt is { } keyExpiry && keyExpiry < expiresAt)
        {
            expiresAt = keyExpiry;
        }

        var session = new ConsoleSession
        {
            TokenHash = ApiKeys.Hash(token),
            CsrfToken = ApiKeys.Base64Url(RandomNumberGenerator.GetBytes(32)),
            ApiKeyId = apiKey.Id,
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        db.ConsoleSessions.Add(session);
        await db.SaveChangesAsync(ct);

        http.Response.Cookies.Append(CookieName, token, CookieOptions(http, expiresAt));
        var caller = await CallerOfAsync(db, apiKey.Id, ct);
        return TypedResults.Created((string?)null, ToResponse(caller, session.ExpiresAt, session.CsrfToken));
    }

    private static IResult WhoAmI(HttpContext http)
    {
        if (http.Features.Get<ConsoleSessionContext>() is not { } session || http.Features.Get<Caller>() is not { } caller)
        {
            return NotSignedIn(http);
        }

        return TypedResults.Ok(ToResponse(caller, session.ExpiresAt, session.CsrfToken));
    }

    private static async Task<IResult> SignOut(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (http.Features.Get<ConsoleSessionContext>() is not { } session)
        {
            return NotSignedIn(http);
        }

        await db.ConsoleSessions.Where(s => s.Id == session.SessionId).ExecuteDeleteAsync(ct);
        http.Response.Cookies.Delete(CookieName, CookieOptions(http, null));
        return TypedResults.NoContent();
    }

    private static IResult NotSignedIn(HttpContext http)
    {
        // A cookie that no longer signs in (expired, signed out, key revoked) is cleared so the browser stops sending it.
        if (http.Request.Cookies.ContainsKey(CookieName))
        {
            http.Response.Cookies.Delete(CookieName, CookieOptions(http, null));
        }

        return ApiErrors.Detail(StatusCodes.Status401Unauthorized, "Not signed in.");
    }

    private static CookieOptions CookieOptions(HttpContext http, DateTime? expiresAt) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = "/",
        Expires = expiresAt is { } at ? new DateTimeOffset(at) : null,
        IsEssential = true,
    };

    private static Task<Caller> CallerOfAsync(AnnexDbContext db, long apiKeyId, CancellationToken ct) =>
        db.ApiKeys.AsNoTracking().Where(k => k.Id == apiKeyId)
            .Select(k => new Caller(k.User.OrganizationId, k.User.Organization.Uid, k.User.Organization.Name, k.User.Uid, k.Uid, ApiScopes.Parse(k.Scopes))
            {
                OrganizationSlug = k.User.Organization.Slug,
                IsAdmin = k.User.IsAdmin,
                ApiKeyName = k.Name,
                ApiKeyPrefix = k.Prefix,
                ApiKeyExpiresAt = k.ExpiresAt,
            })
            .SingleAsync(ct);

    private static SessionResponse ToResponse(Caller caller, DateTime expiresAt, string csrfToken) => new(
        new SessionOrganization(caller.OrganizationUid, caller.OrganizationName, caller.OrganizationSlug),
        caller.UserUid,
        caller.IsAdmin,
        new SessionApiKey(caller.ApiKeyUid, caller.ApiKeyName, caller.ApiKeyPrefix, caller.ApiKeyExpiresAt),
        [.. caller.Scopes.Order(StringComparer.Ordinal)],
        caller.Scopes.Count == 0,
        [.. ApiScopes.All],
        expiresAt,
        csrfToken);
}
