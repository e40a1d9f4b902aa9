using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Annex.Server.Features.WebConsole;

/// <summary>
/// The web console's files, embedded in the server assembly (plain ES modules and CSS, no build step): the page
/// at <c>/</c> and its assets under <c>/console/assets/</c>. Nothing is fetched from elsewhere at run time.
/// </summary>
public static class ConsoleAssets
{
    public const string AssetsPath = "/console/assets";
    private const string ResourcePrefix = "console/";

    /// <summary>Scripts and styles only from the server's own files, never inline; images may come from an
    /// item's external media URL, which the browser fetches directly when it can reach it.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: http: https:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly Lazy<FrozenDictionary<string, Asset>> Files = new(Load);

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    public static bool IsConsolePath(PathString path) => path == "/" || path.StartsWithSegments(AssetsPath);

    public static IEndpointRouteBuilder MapConsoleAssets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => Serve(http, "index.html")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet(AssetsPath + "/{**path}", (string path, HttpContext http) => Serve(http, path)).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static IResult Serve(HttpContext http, string name)
    {
        if (!Files.Value.TryGetValue(name, out var asset))
        {
            return Infrastructure.Http.ApiErrors.NotFound();
        }

        // Revalidated on every load (cheap with the ETag), so a server upgrade is picked up without a stale page.
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.ETag = asset.ETag;
        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var files = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var name = resource[ResourcePrefix.Length..].Replace('\\', '/');
            files[name] = new Asset(bytes, ContentType(name), "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => System.IO.Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };
}
