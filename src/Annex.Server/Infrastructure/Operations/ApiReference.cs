namespace Annex.Server.Infrastructure.Operations;

/// <summary>A browsable API reference at <c>/reference</c>: a small page (embedded in the server, no
/// third-party scripts) that renders the OpenAPI document at <c>/openapi/v1.json</c>.</summary>
public static class ApiReference
{
    public const string Path = "/reference";

    private static readonly (string Name, string ContentType)[] Files =
    [
        ("index.html", "text/html; charset=utf-8"),
        ("reference.js", "text/javascript; charset=utf-8"),
        ("reference.css", "text/css; charset=utf-8"),
    ];

    public static bool IsReferencePath(PathString path) => path.StartsWithSegments(Path);

    public static IEndpointRouteBuilder MapApiReference(this IEndpointRouteBuilder app)
    {
        foreach (var (name, contentType) in Files)
        {
            var bytes = Read(name);
            var route = name == "index.html" ? Path : $"{Path}/{name}";
            app.MapGet(route, () => Results.Bytes(bytes, contentType)).AllowAnonymous().ExcludeFromDescription();
        }

        return app;
    }

    private static byte[] Read(string name)
    {
        var assembly = typeof(ApiReference).Assembly;
        var resource = assembly.GetManifestResourceNames().Single(n => n.EndsWith("Reference." + name, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
