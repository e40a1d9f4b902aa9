using Microsoft.AspNetCore.Routing.Patterns;

namespace Annex.Server.Infrastructure.Auth;

/// <summary>What a scoped API key may do, derived in one place from the endpoint's route: the resource
/// segment after <c>/api/v1/</c> and whether the method reads or writes.</summary>
public static class ApiScopes
{
    public const string ExportsRead = "exports.read";
    public const string ExportsCreate = "exports.create";

    /// <summary>Every scope a key may be given.</summary>
    public static readonly IReadOnlySet<string> All = new SortedSet<string>(StringComparer.Ordinal)
    {
        ExportsRead, ExportsCreate,
        "datasets.read", "datasets.write",
        "projects.read", "projects.write",
        "slices.read", "slices.write",
        "webhooks.read", "webhooks.write",
        "organizations.read",
    };

    /// <summary>Resources only a key with full organization access may use: a scoped key must not be
    /// able to mint itself a wider one.</summary>
    private static readonly HashSet<string> FullAccessOnly = new(StringComparer.Ordinal) { "api-keys" };

    /// <summary>The scope an endpoint needs; null when it needs full access.</summary>
    public static string? Required(RoutePattern pattern, string method)
    {
        var resource = Resource(pattern);
        if (resource is null || FullAccessOnly.Contains(resource))
        {
            return null;
        }

        var reads = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);
        return resource switch
        {
            // The list of formats is part of the exports API.
            "exports" or "formats" => reads ? ExportsRead : ExportsCreate,
            // Tasks are the results of projects; deliveries are the history of webhooks.
            "tasks" => reads ? "projects.read" : "projects.write",
            "webhook-deliveries" => reads ? "webhooks.read" : "webhooks.write",
            _ => $"{resource}.{(reads ? "read" : "write")}",
        };
    }

    public static bool Allows(IReadOnlySet<string> granted, string? required) =>
        granted.Count == 0 || (required is not null && granted.Contains(required));

    public static IReadOnlySet<string> Parse(string stored) =>
        new HashSet<string>(stored.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);

    public static string Format(IEnumerable<string> scopes) => string.Join(' ', scopes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    private static string? Resource(RoutePattern pattern)
    {
        var literals = pattern.PathSegments
            .Select(s => s.Parts is [RoutePatternLiteralPart literal] ? literal.Content : null)
            .ToList();
        for (var i = 0; i + 2 < literals.Count; i++)
        {
            if (literals[i] == "api" && literals[i + 1] == "v1")
            {
                // /users/me/<resource>/: the caller's own view of a resource needs that resource's scope.
                return literals[i + 2] == "users" && i + 4 < literals.Count && literals[i + 3] == "me" ? literals[i + 4] : literals[i + 2];
            }
        }

        return null;
    }

    /// <summary>Refuses, with 403, a request whose key lacks the scope of the endpoint it reached.</summary>
    public static TBuilder RequireApiScopes<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var caller = http.Caller();
            if (caller.Scopes.Count > 0)
            {
                var required = http.GetEndpoint() is RouteEndpoint endpoint ? Required(endpoint.RoutePattern, http.Request.Method) : null;
                if (!Allows(caller.Scopes, required))
                {
                    var detail = required is null
                        ? "This endpoint needs an API key with full organization access (no scopes)."
                        : $"This API key does not have the \"{required}\" scope.";
                    return Http.ApiErrors.Detail(StatusCodes.Status403Forbidden, detail);
                }
            }

            return await next(context);
        });
        return builder;
    }
}
