using System.Globalization;
using System.Threading.RateLimiting;
using Annex.Server.Infrastructure.Http;

namespace Annex.Server.Infrastructure.RateLimiting;

/// <summary>Wires <see cref="ApiKeyRateLimiter"/> into ASP.NET Core's rate limiting middleware and adds
/// the <c>X-RateLimit-*</c> headers to every response.</summary>
public static class RateLimiting
{
    public static IServiceCollection AddApiKeyRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section))
            .Validate(o => Enum.GetValues<RateLimitKind>().All(k => o.For(k).PermitLimit >= 1 && o.For(k).BurstLimit >= 1), "RateLimiting:PermitLimit and RateLimiting:BurstLimit (and those of Reads, Writes and Uploads) must be at least 1.")
            .Validate(o => Enum.GetValues<RateLimitKind>().All(k => o.For(k).Window > TimeSpan.Zero && o.For(k).BurstWindow > TimeSpan.Zero), "RateLimiting:Window and RateLimiting:BurstWindow (and those of Reads, Writes and Uploads) must be positive.")
            .Validate(o => o.SharedBlockSize >= 1, "RateLimiting:SharedBlockSize must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<SharedRateLimitCounters>();
        services.AddSingleton<ApiKeyRateLimiter>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>()
            .Configure<ApiKeyRateLimiter>((o, limiter) =>
            {
                o.GlobalLimiter = limiter;
                o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                o.OnRejected = (context, cancellationToken) => WriteThrottledAsync(context.HttpContext, context.Lease, cancellationToken);
            });
        return services;
    }

    /// <summary>Runs after authentication, so requests count against the key that sent them.</summary>
    public static IApplicationBuilder UseApiKeyRateLimiting(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<RateLimitOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        var limiter = app.ApplicationServices.GetRequiredService<ApiKeyRateLimiter>();
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var state = limiter.Peek(context);
                var headers = context.Response.Headers;
                headers["X-RateLimit-Limit"] = state.Limit.ToString(CultureInfo.InvariantCulture);
                headers["X-RateLimit-Remaining"] = state.Remaining.ToString(CultureInfo.InvariantCulture);
                headers["X-RateLimit-Reset"] = SecondsCeiling(state.ResetsAt.ToUnixTimeMilliseconds(), 1000).ToString(CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            });
            return next(context);
        });
        return app.UseRateLimiter();
    }

    private static async ValueTask WriteThrottledAsync(HttpContext context, RateLimitLease lease, CancellationToken cancellationToken)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, SecondsCeiling(wait.Ticks, TimeSpan.TicksPerSecond));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var unit = seconds == 1 ? "second" : "seconds";
        await context.Response.WriteAsJsonAsync(new ErrorDetail($"Request was throttled. Expected available in {seconds} {unit}."), ApiJson.Options, cancellationToken);
    }

    private static long SecondsCeiling(long value, long unitsPerSecond) => (value + unitsPerSecond - 1) / unitsPerSecond;
}
