using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Annex.Server.Infrastructure.Http;

public static class ApiJson
{
    /// <summary>The wire convention: snake_case names, nulls written out, UTC timestamps with a Z.</summary>
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;

        // Responses are application/json, never embedded in HTML, so '&' in URLs can stay as it is.
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        return options;
    }
}

public sealed record ErrorDetail(string Detail);

public static class ApiErrors
{
    public const string PermissionDenied = "You do not have permission to perform this action.";
    public const string NotFoundMessage = "Not found.";

    public static IResult Detail(int status, string detail) => Results.Json(new ErrorDetail(detail), ApiJson.Options, statusCode: status);

    public static IResult NotFound() => Detail(StatusCodes.Status404NotFound, NotFoundMessage);

    public static IResult Forbidden() => Detail(StatusCodes.Status403Forbidden, PermissionDenied);

    public static IResult BadRequest(string detail) => Detail(StatusCodes.Status400BadRequest, detail);
}
