namespace Annex.Server.Infrastructure.Operations;

/// <summary>Headers that keep browsers from sniffing, framing or caching API answers, and that tell each
/// response which request it belongs to (<c>X-Request-Id</c>, also a scope on every log line).</summary>
public static class SecurityHeaders
{
    public const string RequestIdHeader = "X-Request-Id";
    private const int MaxRequestIdLength = 128;

    public static IApplicationBuilder UseRequestIdsAndSecurityHeaders(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Annex.Requests");
        return app.Use(async (context, next) =>
        {
            // A caller's id is kept when it is short and plain, so a client can match its own logs to ours.
            var given = context.Request.Headers[RequestIdHeader].ToString();
            if (given.Length is > 0 and <= MaxRequestIdLength && given.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                context.TraceIdentifier = given;
            }

            var requestId = context.TraceIdentifier;
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers[RequestIdHeader] = requestId;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers.ContentSecurityPolicy = ApiReference.IsReferencePath(context.Request.Path)
                    ? "default-src 'self'; frame-ancestors 'none'"
                    : Features.WebConsole.ConsoleAssets.IsConsolePath(context.Request.Path)
                        ? Features.WebConsole.ConsoleAssets.ContentSecurityPolicy
                        : "default-src 'none'; frame-ancestors 'none'";
                if (context.Request.Path.StartsWithSegments("/api") && !headers.ContainsKey("Cache-Control"))
                {
                    headers.CacheControl = "no-store";
                }

                return Task.CompletedTask;
            });

            using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = requestId }))
            {
                await next(context);
            }
        });
    }
}
