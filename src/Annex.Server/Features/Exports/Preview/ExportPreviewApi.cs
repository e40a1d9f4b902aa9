using Annex.Server.Features.Exports.Formats;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Idempotency;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Preview;

/// <summary>
/// <c>POST /api/v1/exports/preview/</c>: the body of <c>POST /api/v1/exports/</c>, checked the same way (same 400s,
/// 403 and 404), answered with how many items and tasks that export would hold, in all and per named source.
/// Nothing is written. It needs the <c>exports.create</c> scope like the create it previews (the scope follows from
/// the route and method, as for every endpoint): it is the step before a create, and a key that may only read
/// exports has no create to check.
/// </summary>
public static class ExportPreviewApi
{
    public static RouteGroupBuilder MapExportPreviewApi(this RouteGroupBuilder api)
    {
        api.MapPost("/exports/preview", Preview)
            .WithTags("Exports")
            .AcceptsBody<CreateExportBody>()
            .WithMetadata(ReadOnlyPost.Instance);
        return api;
    }

    private static async Task<Results<Ok<ExportPreviewResponse>, BadRequestError, ForbiddenError, NotFoundError>> Preview(
        HttpContext http, AnnexDbContext db, IDbContextFactory<AnnexDbContext> contexts, IOptions<ExportsOptions> options, ExportFormatRegistry formats, CancellationToken ct)
    {
        var caller = http.Caller();
        var (request, refusal) = await CreateExportRequest.ReadCheckedAsync(http.Request, db, formats, caller.OrganizationId, ct);
        if (refusal is not null)
        {
            return CreateExportRequest.Refuse<Ok<ExportPreviewResponse>>(refusal);
        }

        try
        {
            return TypedResults.Ok(await ExportPreview.CountAsync(db, caller.OrganizationId, request!, ExportPreview.Split.From(contexts, options.Value), ct));
        }
        catch (ExportFailedException)
        {
            // A source was deleted between the check above and the count.
            return NotFoundError.Instance;
        }
    }
}
