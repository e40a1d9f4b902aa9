using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>An API-only server (no worker), so exports keep the status they were given.</summary>
public sealed class ApiOnlyFixture : IDisposable
{
    public AnnexFactory Factory { get; } = new(settings: new Dictionary<string, string?> { ["Server:Role"] = "Api" });

    public void Dispose() => Factory.Dispose();
}

public sealed class ListExportsTests(ApiOnlyFixture fixture) : IClassFixture<ApiOnlyFixture>
{
    private static readonly string[] Statuses = ["requested", "exporting", "exported", "failed", "aborted"];

    /// <summary>Inserts exports straight into the database: many rows, chosen names, statuses and times.</summary>
    private async Task InsertAsync(TenantClient tenant, IEnumerable<(string Name, string Status, DateTime CreatedAt)> rows)
    {
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var organizationId = await db.Organizations.Where(o => o.Uid == tenant.Key.OrganizationUid).Select(o => o.Id).SingleAsync();
        db.Exports.AddRange(rows.Select(r => new Export
        {
            Uid = Guid.NewGuid(),
            OrganizationId = organizationId,
            Name = r.Name,
            Format = "avala-json-external",
            Status = r.Status,
            Datasets = "[]",
            Projects = "[]",
            Slices = "[]",
            CreatedAt = r.CreatedAt,
            UpdatedAt = r.CreatedAt,
        }));
        await db.SaveChangesAsync();
    }

    private static async Task<List<JsonNode>> ReadAllAsync(HttpClient client, string url)
    {
        var all = new List<JsonNode>();
        string? next = url;
        while (next is not null)
        {
            var (status, page) = await client.GetJsonAsync(next);
            Assert.Equal(HttpStatusCode.OK, status);
            all.AddRange(page!["results"]!.AsArray().Select(n => n!));
            next = page["next"]?.GetValue<string>();
        }

        return all;
    }

    private static string Key(JsonNode export, string field) => export[field]!.GetValue<string>();

    [Fact]
    public async Task Newest_first_by_default_and_every_ordering_is_a_total_order()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var t0 = new DateTime(2025, 1, 21, 10, 0, 0, DateTimeKind.Utc);
        // Duplicate names and timestamps, names that differ by case and accents: ties must fall back to created_at, then uid.
        string[] names = ["beta", "Alpha", "alpha", "beta", "Éclair", "zeta", "Zeta", "alpha"];
        await InsertAsync(tenant, names.Select((name, i) => (name, Statuses[i % Statuses.Length], t0.AddSeconds(i % 3))));

        var byDefault = await ReadAllAsync(tenant.Http, "/api/v1/exports/?limit=3");
        Assert.Equal(names.Length, byDefault.Count);
        var expectedDefault = byDefault.OrderByDescending(e => Key(e, "created_at"), StringComparer.Ordinal).ThenByDescending(e => Key(e, "uid"), StringComparer.Ordinal).Select(e => Key(e, "uid"));
        Assert.Equal(expectedDefault, byDefault.Select(e => Key(e, "uid")));

        foreach (var field in new[] { "name", "status", "created_at" })
        {
            foreach (var descending in new[] { false, true })
            {
                var ordering = descending ? "-" + field : field;
                var listed = await ReadAllAsync(tenant.Http, $"/api/v1/exports/?ordering={ordering}&limit=2");
                var sorted = descending
                    ? listed.OrderByDescending(e => Key(e, field), StringComparer.Ordinal).ThenByDescending(e => Key(e, "created_at"), StringComparer.Ordinal).ThenByDescending(e => Key(e, "uid"), StringComparer.Ordinal)
                    : listed.OrderBy(e => Key(e, field), StringComparer.Ordinal).ThenBy(e => Key(e, "created_at"), StringComparer.Ordinal).ThenBy(e => Key(e, "uid"), StringComparer.Ordinal);
                Assert.Equal(names.Length, listed.Select(e => Key(e, "uid")).Distinct().Count());
                Assert.Equal(sorted.Select(e => Key(e, "uid")), listed.Select(e => Key(e, "uid")));
            }
        }
    }

    [Fact]
    public async Task Pages_stay_stable_while_new_exports_are_created()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var original = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            original.Add(Key(await Seed.ExportAsync(tenant.Http, $"export {i}", datasets: [dataset]), "uid"));
        }

        var (_, first) = await tenant.Http.GetJsonAsync("/api/v1/exports/?limit=3");
        var seen = first!["results"]!.AsArray().Select(e => Key(e!, "uid")).ToList();
        Assert.Null(first["previous"]);
        var next = first["next"]!.GetValue<string>();
        Assert.StartsWith("http://localhost/api/v1/exports/?", next, StringComparison.Ordinal);
        Assert.Contains("limit=3", next, StringComparison.Ordinal);

        // New exports arrive between page reads; they sort before the cursor and must not shift later pages.
        for (var i = 0; i < 4; i++)
        {
            await Seed.ExportAsync(tenant.Http, $"late {i}", datasets: [dataset]);
        }

        JsonNode? page = null;
        while (next is not null)
        {
            (_, page) = await tenant.Http.GetJsonAsync(next);
            seen.AddRange(page!["results"]!.AsArray().Select(e => Key(e!, "uid")));
            next = page["next"]?.GetValue<string>();
        }

        Assert.Equal(Enumerable.Reverse(original), seen);

        // The last page links back to the page before it.
        var previous = page!["previous"]!.GetValue<string>();
        var (_, back) = await tenant.Http.GetJsonAsync(previous);
        Assert.Equal(seen.Skip(3).Take(3), back!["results"]!.AsArray().Select(e => Key(e!, "uid")));
        Assert.NotNull(back["next"]);
    }

    [Theory]
    [InlineData("limit=0", """{"limit": ["Ensure this value is greater than or equal to 1."]}""")]
    [InlineData("limit=-5", """{"limit": ["Ensure this value is greater than or equal to 1."]}""")]
    [InlineData("limit=abc", """{"limit": ["A valid integer is required."]}""")]
    [InlineData("limit=1.5", """{"limit": ["A valid integer is required."]}""")]
    [InlineData("ordering=size", """{"ordering": ["Invalid ordering field \"size\". Allowed values: created_at, -created_at, name, -name, status, -status."]}""")]
    [InlineData("cursor=garbage", """{"detail": "Invalid cursor"}""")]
    [InlineData("cursor=eyJ4IjoxfQ", """{"detail": "Invalid cursor"}""")]
    public async Task Bad_query_parameters_are_400(string query, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, body) = await tenant.Http.GetJsonAsync($"/api/v1/exports/?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson(expected, body);
    }

    [Fact]
    public async Task A_cursor_from_another_ordering_is_refused()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        await InsertAsync(tenant, Enumerable.Range(0, 3).Select(i => ($"e{i}", "requested", DateTime.UtcNow.AddMinutes(-i))));
        var (_, page) = await tenant.Http.GetJsonAsync("/api/v1/exports/?limit=1&ordering=name");
        var cursor = new Uri(page!["next"]!.GetValue<string>()).Query.Split('&').Single(p => p.TrimStart('?').StartsWith("cursor=", StringComparison.Ordinal)).TrimStart('?');
        var (status, body) = await tenant.Http.GetJsonAsync($"/api/v1/exports/?ordering=-created_at&{cursor}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"detail": "Invalid cursor"}""", body);
    }

    [Fact]
    public async Task Limit_defaults_to_100_and_is_clamped_to_1000()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var t0 = DateTime.UtcNow.AddDays(-1);
        await InsertAsync(tenant, Enumerable.Range(0, 1005).Select(i => ($"bulk {i}", "exported", t0.AddSeconds(i))));
        var (_, byDefault) = await tenant.Http.GetJsonAsync("/api/v1/exports/");
        Assert.Equal(100, byDefault!["results"]!.AsArray().Count);
        var (_, clamped) = await tenant.Http.GetJsonAsync("/api/v1/exports/?limit=5000");
        Assert.Equal(1000, clamped!["results"]!.AsArray().Count);
        Assert.NotNull(clamped["next"]);
    }

    [Fact]
    public async Task Another_organizations_export_is_404_and_never_listed()
    {
        var owner = await fixture.Factory.CreateTenantAsync("Owner");
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var dataset = await Seed.DatasetAsync(owner.Http);
        var uid = Key(await Seed.ExportAsync(owner.Http, "private", datasets: [dataset]), "uid");

        foreach (var (method, url) in new[] { (HttpMethod.Get, $"/api/v1/exports/{uid}/"), (HttpMethod.Post, $"/api/v1/exports/{uid}/abort/"), (HttpMethod.Get, "/api/v1/exports/not-a-uid/") })
        {
            var (status, body) = await other.Http.SendAsync(method, url);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Api.AssertJson("""{"detail": "Not found."}""", body);
        }

        var (_, list) = await other.Http.GetJsonAsync("/api/v1/exports/");
        Assert.Empty(list!["results"]!.AsArray());
        var (_, mine) = await owner.Http.GetJsonAsync($"/api/v1/exports/{uid}");
        Assert.Equal("requested", Key(mine!, "status"));
    }

    [Fact]
    public async Task Aborting_a_requested_export_works_once_and_a_finished_one_is_400()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var uid = Key(await Seed.ExportAsync(tenant.Http, "to abort", datasets: [dataset]), "uid");

        var (status, aborted) = await tenant.Http.PostJsonAsync($"/api/v1/exports/{uid}/abort/", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("aborted", Key(aborted!, "status"));
        Assert.Equal(uid, Key(aborted!, "uid"));

        var (again, body) = await tenant.Http.PostJsonAsync($"/api/v1/exports/{uid}/abort/", null);
        Assert.Equal(HttpStatusCode.BadRequest, again);
        Api.AssertJson("""{"detail": "This export is already aborted; only a requested or exporting export can be aborted."}""", body);

        await InsertAsync(tenant, [("done", "exported", DateTime.UtcNow)]);
        var (_, list) = await tenant.Http.GetJsonAsync("/api/v1/exports/?ordering=-created_at&limit=1");
        var done = Key(list!["results"]![0]!, "uid");
        var (finished, finishedBody) = await tenant.Http.PostJsonAsync($"/api/v1/exports/{done}/abort/", null);
        Assert.Equal(HttpStatusCode.BadRequest, finished);
        Assert.Contains("already exported", finishedBody!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var (_, unchanged) = await tenant.Http.GetJsonAsync($"/api/v1/exports/{done}/");
        Assert.Equal("exported", Key(unchanged!, "status"));
    }
}
