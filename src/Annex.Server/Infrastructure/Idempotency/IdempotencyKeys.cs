using System.Security.Cryptography;
using System.Text;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on POST: the first request with a key runs and its response is stored; a retry
/// with the same key and the same request gets that response again (even while the first is still
/// running: it waits for it), and the same key with a different request is a 409. Keys belong to an
/// organization and are forgotten after <see cref="IdempotencyOptions.Retention"/>.
/// Responses of 500 and above are not kept, so a retry after a server error runs again.
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    public static IServiceCollection AddIdempotencyKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IdempotencyOptions>().Bind(configuration.GetSection(IdempotencyOptions.Section))
            .Validate(o => o.Retention > TimeSpan.Zero, "Idempotency:Retention must be positive.")
            .Validate(o => o.WaitForFirst > TimeSpan.Zero, "Idempotency:WaitForFirst must be positive.")
            .ValidateOnStart();
        services.AddHostedService<IdempotencySweeper>();
        return services;
    }

    /// <summary>Runs after authentication: keys are looked up within the caller's organization.</summary>
    public static IApplicationBuilder UseIdempotencyKeys(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsPost(context.Request.Method)
            || context.GetEndpoint()?.Metadata.GetMetadata<ReadOnlyPost>() is not null
            || !context.Request.Headers.TryGetValue(Header, out var values)
            || context.Features.Get<Caller>() is not { } caller)
        {
            await next(context);
            return;
        }

        if (values.Count != 1 || !IsValidKey(values[0]))
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, $"The {Header} header must be one value of 1 to {MaxKeyLength} visible ASCII characters.");
            return;
        }

        await HandleAsync(context, next, caller, values[0]!);
    });

    private static bool IsValidKey(string? key) =>
        key is { Length: > 0 and <= MaxKeyLength } && key.All(c => c is > ' ' and <= '~');

    private static async Task HandleAsync(HttpContext context, RequestDelegate next, Caller caller, string key)
    {
        var ct = context.RequestAborted;
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<IdempotencyOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var fingerprint = await FingerprintAsync(context.Request, ct);

        // A scope of its own, so the endpoint's DbContext never tracks these rows.
        await using var scope = services.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var waitUntil = time.GetUtcNow() + options.WaitForFirst;
        while (true)
        {
            var now = Clock.UtcNow(time);
            if (await TryClaimAsync(db, caller.OrganizationId, key, fingerprint, now, now + options.Retention, ct) is { } claimed)
            {
                await RunFirstAsync(context, next, db, claimed);
                return;
            }

            var existing = await db.Set<IdempotentRequest>().AsNoTracking()
                .SingleOrDefaultAsync(r => r.OrganizationId == caller.OrganizationId && r.Key == key, ct);
            if (existing is null)
            {
                continue;
            }

            if (existing.ExpiresAt <= now)
            {
                await db.Set<IdempotentRequest>().Where(r => r.Id == existing.Id).ExecuteDeleteAsync(ct);
                continue;
            }

            if (existing.Fingerprint != fingerprint)
            {
                await WriteAsync(context, StatusCodes.Status409Conflict,
                    $"This {Header} was already used for a different request (another path or body); send a new key for a new request.");
                return;
            }

            if (existing.StatusCode is { } status)
            {
                context.Response.StatusCode = status;
                context.Response.Headers[ReplayedHeader] = "true";
                if (existing.ContentType is { } contentType)
                {
                    context.Response.ContentType = contentType;
                }

                await context.Response.Body.WriteAsync(existing.ResponseBody ?? [], ct);
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IdempotencyKeys))
                    .LogInformation("Replayed the stored {StatusCode} response of an earlier request with the same {Header}", status, Header);
                return;
            }

            if (time.GetUtcNow() >= waitUntil)
            {
                await WriteAsync(context, StatusCodes.Status409Conflict,
                    $"A request with this {Header} is still being processed; retry it later.");
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, ct);
        }
    }

    /// <summary>Inserts the key's row unless the key is already taken, and returns the new row's id (null when
    /// taken). Insert-if-absent rather than a plain insert that fails on the unique index: a retry is the normal
    /// case here, and a failed insert would be logged by the database layer as an error with a stack trace.</summary>
    private static async Task<long?> TryClaimAsync(AnnexDbContext db, long organizationId, string key, string fingerprint, DateTime createdAt, DateTime expiresAt, CancellationToken ct)
    {
        // The same statement on SQLite (3.35 and later) and PostgreSQL; the unique index is (OrganizationId, Key).
        var ids = await db.Database.SqlQuery<long>($"""
            INSERT INTO "idempotent_requests" ("OrganizationId", "Key", "Fingerprint", "CreatedAt", "ExpiresAt")
            VALUES ({organizationId}, {key}, {fingerprint}, {createdAt}, {expiresAt})
            ON CONFLICT ("OrganizationId", "Key") DO NOTHING
            RETURNING "Id" AS "Value"
            """).ToListAsync(ct);
        return ids.Count == 1 ? ids[0] : null;
    }

    /// <summary>Runs the request, keeping a copy of its response for the retries.</summary>
    private static async Task RunFirstAsync(HttpContext context, RequestDelegate next, AnnexDbContext db, long recordId)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        var completed = false;
        try
        {
            await next(context);
            completed = context.Response.StatusCode < StatusCodes.Status500InternalServerError;
        }
        finally
        {
            context.Response.Body = original;
            var record = db.Set<IdempotentRequest>().Where(r => r.Id == recordId);
            // The outcome is recorded even when the caller went away: the work it asked for was done.
            if (completed)
            {
                var status = context.Response.StatusCode;
                var contentType = context.Response.ContentType;
                var body = buffer.ToArray();
                await record.ExecuteUpdateAsync(
                    s => s.SetProperty(r => r.StatusCode, status).SetProperty(r => r.ContentType, contentType).SetProperty(r => r.ResponseBody, body),
                    CancellationToken.None);
            }
            else
            {
                await record.ExecuteDeleteAsync(CancellationToken.None);
            }
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    /// <summary>Hashes the method, the path and the raw body, then rewinds the body for the endpoint.</summary>
    private static async Task<string> FingerprintAsync(HttpRequest request, CancellationToken ct)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path.Value?.TrimEnd('/')}\n"));
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            hash.AppendData(chunk, 0, read);
        }

        request.Body.Position = 0;
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static Task WriteAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ErrorDetail(detail), ApiJson.Options, context.RequestAborted);
    }
}

/// <summary>Endpoint metadata for a POST that changes nothing (a preview): its <see cref="IdempotencyKeys.Header"/> is
/// ignored, since running it again is harmless and a replayed answer would show data as it was.</summary>
public sealed class ReadOnlyPost
{
    public static readonly ReadOnlyPost Instance = new();

    private ReadOnlyPost()
    {
    }
}
