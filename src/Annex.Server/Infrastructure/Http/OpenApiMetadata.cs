using System.Text.Json;
using Microsoft.OpenApi;

namespace Annex.Server.Infrastructure.Http;

/// <summary>OpenAPI metadata for request bodies and for the error bodies an endpoint answers with, so the
/// document shows them beside the success body.</summary>
public static class OpenApiMetadata
{
    /// <summary>Statuses every <c>/api/v1</c> endpoint may answer: no or a bad key, a key without the scope,
    /// the rate limit.</summary>
    private static readonly int[] Always = [StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status429TooManyRequests];

    /// <summary>Declares <c>{"detail": "..."}</c> for each status, and for 400 Django REST Framework's field
    /// errors (a message list per field, nested objects for list positions), which may also be a detail.</summary>
    public static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses.Concat(Always).Distinct())
        {
            builder = status == StatusCodes.Status400BadRequest
                ? builder.Produces<Dictionary<string, JsonElement>>(status, "application/json")
                : builder.Produces<ErrorDetail>(status, "application/json");
        }

        return builder;
    }

    /// <summary>Documents a JSON request body of <typeparamref name="TBody"/>'s shape. Unlike <c>Accepts</c>,
    /// it does not make routing refuse other content types: handlers read the body themselves and answer a
    /// body that is not JSON with a DRF-shaped 400.</summary>
    public static RouteHandlerBuilder AcceptsJson<TBody>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(TBody), null, cancellationToken) },
                },
            };
        });
}
