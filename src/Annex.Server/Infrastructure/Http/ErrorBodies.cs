namespace Annex.Server.Infrastructure.Http;

/// <summary>OpenAPI metadata for the error answers an endpoint gives, in the DRF shapes the server writes.</summary>
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
}
