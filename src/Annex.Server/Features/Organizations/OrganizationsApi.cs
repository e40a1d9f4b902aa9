using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Organizations;

/// <summary>An organization as Avala's <c>Organization</c> type reads it. <c>role</c> is the caller's own.</summary>
public sealed record OrganizationResponse(
    Guid Uid, string Name, string Slug, string Role, bool IsActive, int MemberCount, int DatasetCount, int ProjectCount, int SliceCount, DateTime CreatedAt);

/// <summary>A user of the organization as Avala's <c>OrganizationMember</c> type reads it.</summary>
public sealed record OrganizationMemberResponse(Guid UserUid, string Email, string Role, DateTime CreatedAt);

/// <summary>
/// <c>GET /api/v1/organizations/</c>, <c>/organizations/{slug}/</c> and <c>/organizations/{slug}/members/</c>.
/// A key belongs to one organization, so the list holds that one and any other slug is a 404.
/// </summary>
public static class OrganizationsApi
{
    public const string Admin = "admin";
    public const string Member = "member";

    public static RouteGroupBuilder MapOrganizationsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/organizations").WithTags("Organizations");
        group.MapGet("", ListOrganizations)
            .Produces<Page<OrganizationResponse>>()
            .ProducesErrors(StatusCodes.Status400BadRequest);
        group.MapGet("/{slug}", GetOrganization)
            .Produces<OrganizationResponse>()
            .ProducesErrors(StatusCodes.Status404NotFound);
        group.MapGet("/{slug}/members", ListMembers)
            .Produces<Page<OrganizationMemberResponse>>()
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return api;
    }

    private static string RoleOf(bool isAdmin) => isAdmin ? Admin : Member;

    private static async Task<IResult> ListOrganizations(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        return await IdPaging.PageAsync<Organization, OrganizationResponse>(
            http.Request,
            db.Organizations.AsNoTracking().Where(o => o.Id == caller.OrganizationId),
            async (rows, token) =>
            {
                var answers = new List<OrganizationResponse>(rows.Count);
                foreach (var row in rows)
                {
                    answers.Add(await RespondAsync(row, caller, db, token));
                }

                return answers;
            },
            ct);
    }

    private static async Task<IResult> GetOrganization(string slug, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        var organization = await FindAsync(slug, caller, db, ct);
        return organization is null ? ApiErrors.NotFound() : Results.Json(await RespondAsync(organization, caller, db, ct), ApiJson.Options);
    }

    private static async Task<IResult> ListMembers(string slug, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        var organization = await FindAsync(slug, caller, db, ct);
        if (organization is null)
        {
            return ApiErrors.NotFound();
        }

        var users = db.Users.AsNoTracking().Where(u => u.OrganizationId == organization.Id);
        if (http.Request.Query.TryGetValue("role", out var roleValues))
        {
            var role = roleValues.ToString();
            if (role is not (Admin or Member))
            {
                var errors = new ValidationErrors();
                errors.Add("role", $"Select a valid choice. {role} is not one of the available choices ({Admin}, {Member}).");
                return errors.ToResult();
            }

            var admins = role == Admin;
            users = users.Where(u => u.IsAdmin == admins);
        }

        if (http.Request.Query.TryGetValue("search", out var searchValues) && searchValues.ToString().Trim() is { Length: > 0 } search)
        {
            var lowered = search.ToLowerInvariant();
            // Lower() on both sides is what translates to SQL on every provider; the StringComparison overload does not.
#pragma warning disable CA1862
            users = users.Where(u => u.Email.ToLower().Contains(lowered));
#pragma warning restore CA1862
        }

        return await IdPaging.PageAsync<User, OrganizationMemberResponse>(
            http.Request,
            users,
            (rows, _) => Task.FromResult<IReadOnlyList<OrganizationMemberResponse>>([.. rows.Select(u => new OrganizationMemberResponse(u.Uid, u.Email, RoleOf(u.IsAdmin), u.CreatedAt))]),
            ct);
    }

    private static async Task<OrganizationResponse> RespondAsync(Organization organization, Caller caller, AnnexDbContext db, CancellationToken ct)
    {
        var id = organization.Id;
        var members = await db.Users.CountAsync(u => u.OrganizationId == id, ct);
        var datasets = await db.Datasets.CountAsync(d => d.OrganizationId == id, ct);
        var projects = await db.Projects.CountAsync(p => p.OrganizationId == id, ct);
        var slices = await db.Slices.CountAsync(s => s.OrganizationId == id, ct);
        return new OrganizationResponse(
            organization.Uid, organization.Name, organization.Slug, RoleOf(caller.IsAdmin), IsActive: true, members, datasets, projects, slices, organization.CreatedAt);
    }

    /// <summary>The caller's organization when <paramref name="slug"/> names it; any other slug is not found.</summary>
    private static async Task<Organization?> FindAsync(string slug, Caller caller, AnnexDbContext db, CancellationToken ct) =>
        string.Equals(slug, caller.OrganizationSlug, StringComparison.Ordinal)
            ? await db.Organizations.AsNoTracking().SingleOrDefaultAsync(o => o.Id == caller.OrganizationId, ct)
            : null;
}
