using Microsoft.OpenApi;

namespace Annex.Server.Infrastructure.Http;

/// <summary>OpenAPI metadata for endpoints that read their own bodies and write DRF-shaped errors.</summary>
public static class ErrorBodies
{
    /// <summary>Declares the bodies of the listed statuses: field messages for 400, <c>{"detail": ...}</c> for the rest.</summary>
    public static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            if (status == StatusCodes.Status400BadRequest)
            {
                // Field name to messages; list positions and sub-fields nest as objects.
                builder.Produces<Dictionary<string, string[]>>(status, "application/json");
            }
            else
            {
                builder.Produces<ErrorDetail>(status, "application/json");
            }
        }

        return builder;
    }

    /// <summary>Describes the request body in the API document only. <c>Accepts</c> would also make routing
    /// answer another content type with a bare 415, before the handler can give its DRF-shaped error.</summary>
    public static RouteHandlerBuilder DescribesBody<T>(this RouteHandlerBuilder builder, string contentType = "application/json") =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new OpenApiMediaType { Schema = schema } },
            };
        });
}
