using System.Text.Json;
using System.Text.RegularExpressions;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Projects;

/// <summary>A project. Annex projects always take results, so <c>status</c> is <c>active</c>; the project
/// itself never changes after it is created, so <c>updated_at</c> is <c>created_at</c>.</summary>
public sealed record ProjectResponse(Guid Uid, string Name, string Status, RawJson Labels, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>The body of a create.</summary>
public sealed record CreateProjectRequest(string Name, IReadOnlyList<ProjectLabel> Labels);

/// <summary>One label of the taxonomy; <c>skeleton</c> edges join keypoint numbers (1-based).</summary>
public sealed record ProjectLabel(string Name, string Color, IReadOnlyList<JsonElement>? Attributes, IReadOnlyList<string>? Keypoints, IReadOnlyList<int[]>? Skeleton);

public static partial class ProjectsApi
{
    public static RouteGroupBuilder MapProjectsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/projects").WithTags("Projects");
        group.MapGet("", ListProjects).Produces<Page<ProjectResponse>>().ProducesErrors(400);
        group.MapPost("", CreateProject).AcceptsBody<CreateProjectRequest>()
            .Produces<ProjectResponse>(StatusCodes.Status201Created).ProducesErrors(400, 409);
        group.MapGet("/{uid}", GetProject).Produces<ProjectResponse>().ProducesErrors(404);
        group.MapDelete("/{uid}", DeleteProject).Produces(StatusCodes.Status204NoContent).ProducesErrors(404);

        // Avala's SDKs read the key owner's projects here; every user of an Annex organization sees all of its projects.
        var mine = api.MapGroup("/users/me/projects").WithTags("Projects");
        mine.MapGet("", ListProjects).Produces<Page<ProjectResponse>>().ProducesErrors(400);
        mine.MapGet("/{uid}", GetProject).Produces<ProjectResponse>().ProducesErrors(404);
        return api;
    }

    public const string Active = "active";

    public static ProjectResponse ToResponse(Project p) => new(p.Uid, p.Name, Active, new RawJson(p.Labels), p.CreatedAt, p.CreatedAt);

    public static async Task<Project?> FindAsync(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (!Guid.TryParse(uid, out var parsed))
        {
            return null;
        }

        var organizationId = http.Caller().OrganizationId;
        return await db.Projects.AsNoTracking().SingleOrDefaultAsync(p => p.Uid == parsed && p.OrganizationId == organizationId, ct);
    }

    private static Task<IResult> ListProjects(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        return IdPaging.PageAsync<Project, ProjectResponse>(
            http.Request,
            db.Projects.AsNoTracking().Where(p => p.OrganizationId == caller.OrganizationId),
            (rows, _) => Task.FromResult<IReadOnlyList<ProjectResponse>>([.. rows.Select(ToResponse)]),
            ct);
    }

    private static async Task<IResult> GetProject(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var project = await FindAsync(uid, http, db, ct);
        return project is null ? ApiErrors.NotFound() : Results.Json(ToResponse(project), ApiJson.Options);
    }

    /// <summary>Deletes a project with its label taxonomy and every result annotated in it; the datasets and
    /// their items stay. Exports that name the project and still wait or run fail with a reason.</summary>
    private static async Task<IResult> DeleteProject(string uid, HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        var project = await FindAsync(uid, http, db, ct);
        if (project is null)
        {
            return ApiErrors.NotFound();
        }

        await DeletedSources.DeleteAsync(db, project.OrganizationId, ExportSourceKind.Project, project.Uid, project.Name, Clock.UtcNow(time), async token =>
        {
            await db.Results.Where(r => r.ProjectId == project.Id).ExecuteDeleteAsync(token);
            await db.Projects.Where(p => p.Id == project.Id).ExecuteDeleteAsync(token);
        }, ct);
        return Results.NoContent();
    }

    private static async Task<IResult> CreateProject(HttpContext http, AnnexDbContext db, TimeProvider time, CancellationToken ct)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var body = document!.RootElement;
        var errors = new ValidationErrors();
        var name = Fields.Text(body, "name", errors, maxLength: 255);
        var labels = ReadTaxonomy(body, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var project = new Project { Uid = Guid.CreateVersion7(), OrganizationId = http.Caller().OrganizationId, Name = name!, Labels = labels!, CreatedAt = Clock.UtcNow(time) };
        db.Projects.Add(project);
        await db.SaveChangesAsync(ct);
        return Results.Json(ToResponse(project), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>Validates the ordered label taxonomy and returns it as canonical JSON.</summary>
    internal static string? ReadTaxonomy(JsonElement body, ValidationErrors errors)
    {
        if (!body.TryGetProperty("labels", out var labels))
        {
            errors.Add("labels", Fields.Required);
            return null;
        }

        if (Fields.ListValue(labels, ["labels"], errors) is null)
        {
            return null;
        }

        var countBefore = errors.Count;
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            var index = 0;
            foreach (var label in labels.EnumerateArray())
            {
                WriteLabel(label, ["labels", Fields.Index(index)], names, writer, errors);
                index++;
            }

            writer.WriteEndArray();
        }

        return errors.Count == countBefore ? System.Text.Encoding.UTF8.GetString(buffer.ToArray()) : null;
    }

    private static void WriteLabel(JsonElement label, string[] path, HashSet<string> names, Utf8JsonWriter writer, ValidationErrors errors)
    {
        if (label.ValueKind != JsonValueKind.Object)
        {
            errors.Add([.. path, "non_field_errors"], $"Invalid data. Expected a dictionary, but got {JsonBody.PythonTypeName(label)}.");
            return;
        }

        var name = label.TryGetProperty("name", out var nameValue)
            ? Fields.StringValue(nameValue, [.. path, "name"], errors, maxLength: 255)
            : Missing([.. path, "name"], errors);
        if (name is not null && !names.Add(name))
        {
            errors.Add([.. path, "name"], $"Label \"{name}\" appears more than once; names are unique in a project.");
        }

        var color = label.TryGetProperty("color", out var colorValue)
            ? Fields.StringValue(colorValue, [.. path, "color"], errors)
            : Missing([.. path, "color"], errors);
        if (color is not null && !ColorPattern().IsMatch(color))
        {
            errors.Add([.. path, "color"], "Enter a color as #RRGGBB.");
        }

        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("color", color?.ToUpperInvariant());

        if (label.TryGetProperty("attributes", out var attributes) && attributes.ValueKind != JsonValueKind.Null)
        {
            if (attributes.ValueKind != JsonValueKind.Array || attributes.EnumerateArray().Any(a => a.ValueKind != JsonValueKind.Object || !a.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String))
            {
                errors.Add([.. path, "attributes"], "Expected a list of attribute definitions, each an object with a \"name\".");
            }
            else
            {
                writer.WritePropertyName("attributes");
                attributes.WriteTo(writer);
            }
        }

        var keypointCount = 0;
        if (label.TryGetProperty("keypoints", out var keypoints) && keypoints.ValueKind != JsonValueKind.Null)
        {
            var keypointNames = keypoints.ValueKind == JsonValueKind.Array ? keypoints.EnumerateArray().Select(k => k.ValueKind == JsonValueKind.String ? k.GetString() : null).ToList() : null;
            if (keypointNames is null || keypointNames.Count == 0 || keypointNames.Any(string.IsNullOrWhiteSpace) || keypointNames.Distinct(StringComparer.Ordinal).Count() != keypointNames.Count)
            {
                errors.Add([.. path, "keypoints"], "Expected a non-empty list of distinct keypoint names.");
            }
            else
            {
                keypointCount = keypointNames.Count;
                writer.WritePropertyName("keypoints");
                keypoints.WriteTo(writer);
            }
        }

        if (label.TryGetProperty("skeleton", out var skeleton) && skeleton.ValueKind != JsonValueKind.Null)
        {
            if (keypointCount == 0)
            {
                errors.Add([.. path, "skeleton"], "A skeleton needs keypoints.");
            }
            else if (skeleton.ValueKind != JsonValueKind.Array || !skeleton.EnumerateArray().All(edge => IsEdge(edge, keypointCount)))
            {
                errors.Add([.. path, "skeleton"], $"Expected a list of [a, b] edges between keypoint numbers 1 to {keypointCount} (1-based, as COCO numbers them).");
            }
            else
            {
                writer.WritePropertyName("skeleton");
                skeleton.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }

    private static bool IsEdge(JsonElement edge, int keypointCount) =>
        edge.ValueKind == JsonValueKind.Array
        && edge.GetArrayLength() == 2
        && edge.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i >= 1 && i <= keypointCount);

    private static string? Missing(string[] path, ValidationErrors errors)
    {
        errors.Add(path, Fields.Required);
        return null;
    }

    /// <summary>The label names of a stored taxonomy, in order.</summary>
    public static List<string> LabelNames(string labelsJson)
    {
        using var document = JsonDocument.Parse(labelsJson);
        return [.. document.RootElement.EnumerateArray().Select(l => l.GetProperty("name").GetString()!)];
    }

    [GeneratedRegex("^#[0-9A-Fa-f]{6}$")]
    private static partial Regex ColorPattern();
}
