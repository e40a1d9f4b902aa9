namespace Annex.Server.Infrastructure.Http;

public static class NullCharacters
{
    /// <summary>Refuses a path or query string that carries a NUL character (<c>%00</c>): no identifier or
    /// cursor contains one, and PostgreSQL cannot compare text with it, so it would otherwise fail deep in
    /// a query.</summary>
    public static IApplicationBuilder UseNullCharacterGuard(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            // The raw query string is enough: a decoded key or value holds NUL only where it said %00.
            if (request.Path.Value?.Contains('\0', StringComparison.Ordinal) == true
                || request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) == true)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsJsonAsync(new ErrorDetail("Null characters are not allowed in the URL."), ApiJson.Options, context.RequestAborted);
                return;
            }

            await next(context);
        });
}
