using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>One route and method the server maps, e.g. <c>POST /api/v1/datasets/{uid}/items</c>.</summary>
public sealed record ApiEndpoint(string Method, string Template)
{
    public IReadOnlyList<string> Parameters { get; } = Template.Split('/')
        .Where(s => s.StartsWith('{') && s.EndsWith('}'))
        .Select(s => s[1..^1].Split(':')[0])
        .ToList();

    /// <summary>The resource the route is about: the path segment after /api/v1/.</summary>
    public string Resource => Template["/api/v1/".Length..].Split('/')[0];

    /// <summary>The URL with each parameter replaced by <paramref name="valueOf"/>'s answer, with a trailing slash.</summary>
    public string Url(Func<string, string> valueOf) =>
        string.Join('/', Template.Split('/').Select(s => s.StartsWith('{') ? Uri.EscapeDataString(valueOf(s[1..^1].Split(':')[0])) : s)) + "/";

    public override string ToString() => $"{Method} {Template}";
}

/// <summary>Every endpoint of the public API, read from the running server's routing table, so a new route is
/// covered by the tests that walk the API without anyone listing it.</summary>
public static class EndpointCatalog
{
    public static IReadOnlyList<ApiEndpoint> ApiEndpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => (Template: "/" + e.RoutePattern.RawText!.Trim('/'), Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []))
            .Where(e => e.Template.StartsWith("/api/v1/", StringComparison.Ordinal))
            .SelectMany(e => e.Methods.Select(m => new ApiEndpoint(m, e.Template)))
            .Distinct()
            .OrderBy(e => e.Template, StringComparer.Ordinal)
            .ThenBy(e => e.Method, StringComparer.Ordinal)
            .ToList();
}
