using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Annex.Server.Infrastructure.Http;

/// <summary>The OpenAPI schemas of DRF's error shapes. <see cref="ErrorDetail"/> describes itself
/// (<c>{"detail": string}</c>); <see cref="ValidationErrors"/> is a map built at run time, so its schema is
/// written here: field names (or <c>non_field_errors</c>, or <c>detail</c>) to message lists, nested for list
/// elements and sub-fields.</summary>
public static class ErrorSchemas
{
    public static OpenApiOptions AddDrfErrorSchemas(this OpenApiOptions options) =>
        options.AddOperationTransformer(LeaveOutAnyContentType).AddSchemaTransformer(DescribeErrors);

    /// <summary>The wildcard only keeps routing from answering 415 (see <see cref="ApiResultMetadata.AcceptsBody{TBody}"/>).</summary>
    private static Task LeaveOutAnyContentType(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.RequestBody?.Content is { Count: > 1 } content)
        {
            content.Remove(ApiResultMetadata.AnyContentType);
        }

        return Task.CompletedTask;
    }

    private static Task DescribeErrors(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type == typeof(ValidationErrors))
        {
            schema.Type = JsonSchemaType.Object;
            schema.Properties?.Clear();
            schema.Required?.Clear();
            schema.Description = "Field errors: each field's messages, e.g. {\"name\": [\"This field is required.\"]}; errors of list "
                + "elements and sub-fields nest under their index or name, e.g. {\"datasets\": {\"0\": [\"Must be a valid UUID.\"]}}. "
                + "Errors of the whole body stand under non_field_errors; a body that cannot be read gets {\"detail\": \"...\"}.";
            schema.AdditionalProperties = new OpenApiSchema
            {
                AnyOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                    new OpenApiSchema { Type = JsonSchemaType.Object },
                    new OpenApiSchema { Type = JsonSchemaType.String },
                ],
            };
        }
        else if (context.JsonTypeInfo.Type == typeof(ErrorDetail))
        {
            schema.Required ??= new HashSet<string>(StringComparer.Ordinal);
            schema.Required.Add("detail");
        }

        return Task.CompletedTask;
    }
}
