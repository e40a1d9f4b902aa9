using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Tasks;

/// <summary>A task as Avala clients read it. In Annex a task is the annotation of one item in one project,
/// and it exists once its result is stored: its uid is the result's, its name the item's <c>ref_id</c>,
/// and it is <c>completed</c>.</summary>
public sealed record TaskResponse(
    Guid Uid, string Type, string Name, string Status, Guid Project, Guid DatasetItem, int AnnotationCount, DateTime CreatedAt, DateTime UpdatedAt);

public static class TasksApi
{
    public const string AnnotationType = "annotation";
    public const string Completed = "completed";

    public static RouteGroupBuilder MapTasksApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/tasks").WithTags("Tasks");
        group.MapGet("", ListTasks).Produces<Page<TaskResponse>>().ProducesErrors(400);
        group.MapGet("/{uid}", GetTask).Produces<TaskResponse>().ProducesErrors(404);
        return api;
    }

    /// <summary>What a task needs of its result, without the annotations themselves.</summary>
    private sealed class TaskRow : IHasId
    {
        public long Id { get; init; }
        public Guid Uid { get; init; }
        public Guid ProjectUid { get; init; }
        public Guid ItemUid { get; init; }
        public required string RefId { get; init; }
        public int AnnotationCount { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }
    }

    private static TaskResponse ToResponse(TaskRow r) => new(
        r.Uid, AnnotationType, r.RefId, Completed, r.ProjectUid, r.ItemUid, r.AnnotationCount, r.CreatedAt, r.UpdatedAt);

    private static IQueryable<TaskRow> OrganizationTasks(AnnexDbContext db, HttpContext http)
    {
        var organizationId = http.Caller().OrganizationId;
        return db.Results.AsNoTracking()
            .Where(r => r.Project.OrganizationId == organizationId)
            .Select(r => new TaskRow
            {
                Id = r.Id,
                Uid = r.Uid,
                ProjectUid = r.Project.Uid,
                ItemUid = r.DatasetItem.Uid,
                RefId = r.DatasetItem.RefId,
                AnnotationCount = r.AnnotationCount,
                CreatedAt = r.CreatedAt,
                UpdatedAt = r.UpdatedAt,
            });
    }

    /// <summary>The organization's tasks in the order they were created. <c>project</c> (a uid) narrows them
    /// to one project; <c>status</c> to a state, and as every task here is <c>completed</c>, any other state
    /// lists none.</summary>
    private static async Task<IResult> ListTasks(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var query = OrganizationTasks(db, http);
        var parameters = http.Request.Query;
        if (parameters.TryGetValue("project", out var projectText))
        {
            if (!Guid.TryParse(projectText.ToString(), out var projectUid))
            {
                var errors = new ValidationErrors();
                errors.Add("project", Fields.InvalidUuid);
                return errors.ToResult();
            }

            query = query.Where(r => r.ProjectUid == projectUid);
        }

        if (parameters.TryGetValue("status", out var status) && status.ToString() != Completed)
        {
            query = query.Where(_ => false);
        }

        return await IdPaging.PageAsync<TaskRow, TaskResponse>(
            http.Request,
            query,
            (rows, _) => Task.FromResult<IReadOnlyList<TaskResponse>>([.. rows.Select(ToResponse)]),
            ct);
    }

    private static async Task<IResult> GetTask(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var result = Guid.TryParse(uid, out var parsed) ? await OrganizationTasks(db, http).SingleOrDefaultAsync(r => r.Uid == parsed, ct) : null;
        return result is null ? ApiErrors.NotFound() : Results.Json(ToResponse(result), ApiJson.Options);
    }
}
