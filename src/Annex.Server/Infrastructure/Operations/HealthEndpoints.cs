using System.Reflection;
using System.Text.Json;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Annex.Server.Infrastructure.Operations;

/// <summary>The overall status (healthy, degraded or unhealthy) and each check's (<c>/healthz</c> runs none).</summary>
/// <remarks>Documentation only: the answer is written by the endpoint itself.</remarks>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, HealthCheckResponse> Checks);

/// <summary>One check's status; <c>error</c> says why when it is not healthy.</summary>
public sealed record HealthCheckResponse
{
    public required string Status { get; init; }

    public string? Error { get; init; }
}

/// <summary><c>/healthz</c>: the process is up (checks nothing, for liveness probes). <c>/readyz</c>: the
/// database and the blob store answer (for load balancers and readiness probes); 503 when one does not.
/// Neither needs a key nor counts against a rate limit.</summary>
public static class HealthEndpoints
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddAnnexHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag])
            .AddCheck<StorageHealthCheck>("storage", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapAnnexHealthChecks(this IEndpointRouteBuilder app)
    {
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/healthz", methods, (HealthCheckService health, CancellationToken ct) => CheckAsync(health, _ => false, ct))
            .WithTags("Operations").DisableRateLimiting().AllowAnonymous();
        app.MapMethods("/readyz", methods, (HealthCheckService health, CancellationToken ct) => CheckAsync(health, c => c.Tags.Contains(ReadyTag), ct))
            .WithTags("Operations").DisableRateLimiting().AllowAnonymous();
        return app;
    }

    private static async Task<HealthAnswer> CheckAsync(HealthCheckService health, Func<HealthCheckRegistration, bool> predicate, CancellationToken ct) =>
        new(await health.CheckHealthAsync(predicate, ct));

    /// <summary>200 when healthy (or degraded), 503 when not, with the report: what the health check middleware
    /// answers, as a typed result so the API reference shows both.</summary>
    private sealed class HealthAnswer(HealthReport report) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
    {
        public int StatusCode => report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;

        int? IStatusCodeHttpResult.StatusCode => StatusCode;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCode;
            var headers = httpContext.Response.Headers;
            headers.Pragma = "no-cache";
            headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
            return WriteAsync(httpContext, report);
        }

        static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder)
        {
            builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(HealthResponse), ["application/json"]));
            builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status503ServiceUnavailable, typeof(HealthResponse), ["application/json"]));
        }
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var body = new Dictionary<string, object?>
        {
            ["status"] = Name(report.Status),
            ["checks"] = report.Entries.ToDictionary(
                e => e.Key,
                e => e.Value.Status == HealthStatus.Healthy
                    ? new Dictionary<string, string?> { ["status"] = Name(e.Value.Status) }
                    : new Dictionary<string, string?> { ["status"] = Name(e.Value.Status), ["error"] = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }

    private static string Name(HealthStatus status) => status.ToString().ToLowerInvariant();
}

public sealed class DatabaseHealthCheck(IDbContextFactory<AnnexDbContext> contexts) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            // A query, not only a connection: a database without the schema is not ready either.
            _ = await db.Organizations.AsNoTracking().AnyAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The database does not answer: {e.GetType().Name}: {e.Message}");
        }
    }
}

public sealed class StorageHealthCheck(IBlobStore blobs) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await blobs.CheckAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The blob store does not answer: {e.GetType().Name}: {e.Message}");
        }
    }
}
