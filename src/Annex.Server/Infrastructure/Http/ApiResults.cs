using System.Diagnostics;
using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;

namespace Annex.Server.Infrastructure.Http;

/// <summary>
/// Typed error answers in Django REST Framework's shapes, for handlers that return
/// <c>Results&lt;Ok&lt;T&gt;, NotFoundError, ...&gt;</c>: each writes exactly what <see cref="ApiErrors"/> and
/// <see cref="ValidationErrors.ToResult"/> write, and also tells the OpenAPI document its status and schema.
/// </summary>
public abstract class DetailError : IResult, IStatusCodeHttpResult, IValueHttpResult<ErrorDetail>
{
    protected DetailError(int statusCode, string detail)
    {
        StatusCode = statusCode;
        Value = new ErrorDetail(detail);
    }

    public int StatusCode { get; }

    public ErrorDetail Value { get; }

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public Task ExecuteAsync(HttpContext httpContext) => ApiErrors.Detail(StatusCode, Value.Detail).ExecuteAsync(httpContext);

    /// <summary>Declares a <c>{"detail": string}</c> answer with this status on an endpoint.</summary>
    protected static void Describe(EndpointBuilder builder, int statusCode) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(statusCode, typeof(ErrorDetail), ["application/json"]));
}

/// <summary>404 <c>{"detail": "Not found."}</c>.</summary>
public sealed class NotFoundError() : DetailError(StatusCodes.Status404NotFound, ApiErrors.NotFoundMessage), IEndpointMetadataProvider
{
    public static readonly NotFoundError Instance = new();

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status404NotFound);
}

/// <summary>403 with a detail; by default DRF's "You do not have permission to perform this action.".</summary>
public sealed class ForbiddenError(string detail = ApiErrors.PermissionDenied) : DetailError(StatusCodes.Status403Forbidden, detail), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status403Forbidden);
}

/// <summary>409 with a detail.</summary>
public sealed class ConflictError(string detail) : DetailError(StatusCodes.Status409Conflict, detail), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status409Conflict);
}

/// <summary>422 with a detail: the request is well formed, but what it points at cannot be processed.</summary>
public sealed class UnprocessableError(string detail) : DetailError(StatusCodes.Status422UnprocessableEntity, detail), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status422UnprocessableEntity);
}

/// <summary>410 with a detail: the thing existed and is gone for good.</summary>
public sealed class GoneError(string detail) : DetailError(StatusCodes.Status410Gone, detail), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status410Gone);
}

/// <summary>
/// 400 in either of DRF's shapes: field errors (<see cref="ValidationErrors"/>, e.g.
/// <c>{"name": ["This field is required."]}</c>) or one detail (<c>{"detail": "JSON parse error - ..."}</c>).
/// The OpenAPI document describes it as the <c>ValidationErrors</c> schema, which allows both.
/// </summary>
public sealed class BadRequestError : IResult, IStatusCodeHttpResult, IValueHttpResult, IEndpointMetadataProvider
{
    private BadRequestError(object body) => Value = body;

    public object Value { get; }

    public int StatusCode => StatusCodes.Status400BadRequest;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public static BadRequestError Detail(string detail) => new(new ErrorDetail(detail));

    public static BadRequestError Fields(ValidationErrors errors) => new(errors.Body);

    public Task ExecuteAsync(HttpContext httpContext) =>
        Results.Json(Value, ApiJson.Options, statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(httpContext);

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(ValidationErrors), ["application/json"]));
}

public static class ApiResultMetadata
{
    /// <summary>Content type that keeps routing from answering 415 (see <see cref="AcceptsBody{TBody}"/>); the
    /// OpenAPI document leaves it out (<see cref="ErrorSchemas"/>).</summary>
    public const string AnyContentType = "*/*";

    /// <summary>Shows <typeparamref name="TBody"/> as the request body in the OpenAPI document, for handlers
    /// that read the body by hand. Routing refuses a request whose Content-Type an endpoint does not accept
    /// with a bare 415; accepting <c>*/*</c> too keeps the handler's own answer (a DRF 400) for every request,
    /// as before the body was documented.</summary>
    public static RouteHandlerBuilder AcceptsBody<TBody>(this RouteHandlerBuilder builder, string contentType = "application/json")
        where TBody : notnull => builder.Accepts<TBody>(contentType, AnyContentType);

    /// <summary>Widens a typed answer (e.g. a page or its 400 from <see cref="IdPaging.TypedPageAsync"/>) to one
    /// that can also be a 404, for handlers that first look up a parent.</summary>
    public static Results<TResult1, TResult2, NotFoundError> OrNotFound<TResult1, TResult2>(this Results<TResult1, TResult2> result)
        where TResult1 : IResult
        where TResult2 : IResult => result.Result switch
        {
            TResult1 first => first,
            TResult2 second => second,
            _ => throw new UnreachableException(),
        };

    /// <summary>Declares the error bodies of a handler that writes them itself (rather than returning the typed
    /// errors above): 400 as DRF's field errors (<see cref="ValidationErrors"/>), every other status as
    /// <c>{"detail": string}</c>.</summary>
    public static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder builder, params int[] statusCodes)
    {
        foreach (var statusCode in statusCodes)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(
                statusCode, statusCode == StatusCodes.Status400BadRequest ? typeof(ValidationErrors) : typeof(ErrorDetail), ["application/json"]));
        }

        return builder;
    }

    /// <summary>Declares <c>{"detail": string}</c> answers with these statuses, for errors that middleware
    /// or filters send rather than the handler (401 from authentication, 403 from scopes, 429 from the rate limit).</summary>
    public static TBuilder ProducesErrorDetail<TBuilder>(this TBuilder builder, params int[] statusCodes)
        where TBuilder : IEndpointConventionBuilder
    {
        foreach (var statusCode in statusCodes)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(statusCode, typeof(ErrorDetail), ["application/json"]));
        }

        return builder;
    }
}

/// <summary>413 with a detail: the request carries more than the endpoint accepts.</summary>
public sealed class PayloadTooLargeError(string detail) : DetailError(StatusCodes.Status413PayloadTooLarge, detail), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status413PayloadTooLarge);
}
