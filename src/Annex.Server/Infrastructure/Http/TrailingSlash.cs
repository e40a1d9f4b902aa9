namespace Annex.Server.Infrastructure.Http;

public static class TrailingSlash
{
    /// <summary>Routes are declared without a trailing slash; this makes <c>/api/v1/exports/</c> (the
    /// form Avala documents) and <c>/api/v1/exports</c> reach the same endpoint.</summary>
    public static IApplicationBuilder UseOptionalTrailingSlash(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value;
            if (path is { Length: > 1 } && path[^1] == '/')
            {
                context.Request.Path = new PathString(path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/");
            }

            return next(context);
        });
}
