using System.Text.Json;
using Annex.Server.Features.Exports.Filtering;
using Annex.Server.Features.Exports.Formats;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Exports;

/// <summary>A validated <c>POST /api/v1/exports/</c> body. <see cref="Name"/> is null when the body left
/// it to the server (see <see cref="Read"/>).</summary>
public sealed record CreateExportRequest(string? Name, string Format, List<Guid> Datasets, List<Guid> Projects, List<Guid> Slices, string? FilterQueryString)
{
    /// <summary>Dataset versions to export (each as it was when the version was made).</summary>
    public List<Guid> Versions { get; init; } = [];

    /// <summary>The base of a delta export: only what changed since it is exported, plus what was removed.</summary>
    public Guid? SinceVersion { get; init; }

    public Guid? SinceExport { get; init; }

    public const int MaxFilterLength = FilterParser.MaxLength;

    /// <summary>The format of an export whose body names none (the Avala SDKs' form).</summary>
    public const string DefaultFormat = "avala-json-external";

    /// <summary>Reads a create body from the request and checks that its sources are the caller's: the one way
    /// both <c>POST /api/v1/exports/</c> and <c>POST /api/v1/exports/preview/</c> take it, so the two refuse the
    /// same bodies with the same answers. The refusal is a <see cref="BadRequestError"/> (malformed body or
    /// fields), a <see cref="NotFoundError"/> (a named source does not exist) or a <see cref="ForbiddenError"/>
    /// (it belongs to another organization); null when the request is accepted.</summary>
    public static async Task<(CreateExportRequest? Request, IResult? Refusal)> ReadCheckedAsync(
        HttpRequest httpRequest, AnnexDbContext db, ExportFormatRegistry formats, long organizationId, CancellationToken ct)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(httpRequest, ct);
        if (error is not null)
        {
            return (null, error);
        }

        using var _ = document;
        var errors = new ValidationErrors();
        var request = Read(document!.RootElement, formats.Names, errors);
        if (request is null)
        {
            return (null, errors.ToBadRequest());
        }

        var refusal = await CheckAccessAsync(db, organizationId, request, ct);
        return refusal is null ? (request, null) : (null, refusal);
    }

    /// <summary>A refusal from <see cref="ReadCheckedAsync"/> as the answer of a handler whose success is
    /// <typeparamref name="TSuccess"/>: create and preview refuse alike.</summary>
    public static Results<TSuccess, BadRequestError, ForbiddenError, NotFoundError> Refuse<TSuccess>(IResult refusal)
        where TSuccess : IResult => refusal switch
        {
            BadRequestError badRequest => badRequest,
            NotFoundError notFound => notFound,
            ForbiddenError forbidden => forbidden,
            _ => throw new System.Diagnostics.UnreachableException($"Unexpected refusal {refusal.GetType().Name}."),
        };

    /// <summary>404 when a named dataset, project or slice does not exist at all; 403 when it belongs to
    /// another organization.</summary>
    private static async Task<DetailError?> CheckAccessAsync(AnnexDbContext db, long organizationId, CreateExportRequest request, CancellationToken ct)
    {
        var owners = new List<long>();
        owners.AddRange(await db.Datasets.Where(d => request.Datasets.Contains(d.Uid)).Select(d => d.OrganizationId).ToListAsync(ct));
        owners.AddRange(await db.Projects.Where(p => request.Projects.Contains(p.Uid)).Select(p => p.OrganizationId).ToListAsync(ct));
        owners.AddRange(await db.Slices.Where(s => request.Slices.Contains(s.Uid)).Select(s => s.OrganizationId).ToListAsync(ct));
        owners.AddRange(await db.DatasetVersions.Where(v => request.Versions.Contains(v.Uid)).Select(v => v.OrganizationId).ToListAsync(ct));
        if (owners.Count != request.Datasets.Count + request.Projects.Count + request.Slices.Count + request.Versions.Count)
        {
            return NotFoundError.Instance;
        }

        return owners.Any(o => o != organizationId) ? new ForbiddenError() : null;
    }

    /// <summary>Reads the body with DRF's rules: each of datasets/projects/slices is required unless a
    /// singular dataset/project/slice key is present, in which case missing lists count as empty. A body
    /// that names its sources only with the singular keys (as the Avala SDKs send
    /// <c>{"dataset": "&lt;uid&gt;"}</c>) may leave out <c>name</c> and <c>format</c>: the format is then
    /// <see cref="DefaultFormat"/> and the name is left to the caller (null).</summary>
    public static CreateExportRequest? Read(JsonElement body, IReadOnlyCollection<string> formats, ValidationErrors errors)
    {
        var singular = body.TryGetProperty("dataset", out _) || body.TryGetProperty("project", out _) || body.TryGetProperty("slice", out _);
        // A body naming versions needs none of the plural lists, like one naming a singular source.
        var listsOptional = singular || body.TryGetProperty("versions", out _);
        var singularOnly = singular && !body.TryGetProperty("datasets", out _) && !body.TryGetProperty("projects", out _) && !body.TryGetProperty("slices", out _);
        var name = Fields.Text(body, "name", errors, required: !singularOnly, maxLength: 255);

        string? format = null;
        if (!body.TryGetProperty("format", out var formatValue))
        {
            if (singularOnly)
            {
                format = DefaultFormat;
            }
            else
            {
                errors.Add("format", Fields.Required);
            }
        }
        else if (formatValue.ValueKind == JsonValueKind.Null)
        {
            errors.Add("format", Fields.NotNull);
        }
        else
        {
            var text = formatValue.ValueKind == JsonValueKind.String ? formatValue.GetString()! : formatValue.GetRawText();
            if (formatValue.ValueKind is JsonValueKind.String or JsonValueKind.Number && formats.Contains(text))
            {
                format = text;
            }
            else
            {
                errors.Add("format", $"\"{text}\" is not a valid choice.");
            }
        }

        var datasets = Fields.UuidList(body, "datasets", errors, required: !listsOptional);
        var projects = Fields.UuidList(body, "projects", errors, required: !listsOptional);
        var slices = Fields.UuidList(body, "slices", errors, required: !listsOptional);
        var dataset = Fields.OptionalUuid(body, "dataset", errors);
        var project = Fields.OptionalUuid(body, "project", errors);
        var slice = Fields.OptionalUuid(body, "slice", errors);
        var versions = Fields.UuidList(body, "versions", errors, required: false) ?? [];
        var sinceVersion = Fields.OptionalUuid(body, "since_version", errors);
        var sinceExport = Fields.OptionalUuid(body, "since_export", errors);
        if (sinceVersion is not null && sinceExport is not null)
        {
            errors.Add("non_field_errors", "Name at most one base: since_version or since_export.");
        }

        string? filter = null;
        if (body.TryGetProperty("filter_query_string", out var filterValue))
        {
            filter = Fields.StringValue(filterValue, ["filter_query_string"], errors, allowNull: true, allowBlank: true, maxLength: MaxFilterLength, trim: false);
            if (string.IsNullOrWhiteSpace(filter))
            {
                filter = null;
            }
            else if (!FilterParser.TryParse(filter, out _, out var filterError))
            {
                // Refused now, so a mistake never becomes a failed export later.
                errors.Add("filter_query_string", filterError!.Message);
            }
        }

        if (errors.Any)
        {
            return null;
        }

        datasets = Join(datasets, dataset);
        projects = Join(projects, project);
        slices = Join(slices, slice);
        versions = [.. versions.Distinct()];
        if (datasets.Count == 0 && projects.Count == 0 && slices.Count == 0 && versions.Count == 0)
        {
            errors.Add("non_field_errors", "Name at least one dataset, project or slice to export.");
            return null;
        }

        if (versions.Count > 0 && (datasets.Count > 0 || slices.Count > 0))
        {
            errors.Add("versions", "Versions cannot be exported together with datasets or slices; name the datasets' versions instead.");
            return null;
        }

        if ((sinceVersion ?? sinceExport) is not null && datasets.Count + versions.Count != 1)
        {
            errors.Add(sinceVersion is null ? "since_export" : "since_version", "A delta export covers exactly one dataset or one version.");
            return null;
        }

        if ((sinceVersion ?? sinceExport) is not null && filter is not null)
        {
            // A filter would hide an item that stopped matching it, and the base would keep its old state.
            errors.Add("filter_query_string", "A delta export cannot have a filter.");
            return null;
        }

        if ((sinceVersion ?? sinceExport) is not null && slices.Count > 0)
        {
            errors.Add("slices", "A delta export cannot name slices.");
            return null;
        }

        return new CreateExportRequest(name, format!, datasets, projects, slices, filter)
        {
            Versions = versions,
            SinceVersion = sinceVersion,
            SinceExport = sinceExport,
        };
    }

    private static List<Guid> Join(List<Guid>? list, Guid? single)
    {
        var all = list ?? [];
        if (single is { } uid)
        {
            all.Add(uid);
        }

        return [.. all.Distinct()];
    }
}
