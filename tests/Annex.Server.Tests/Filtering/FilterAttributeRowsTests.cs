using System.Globalization;
using System.Net;
using System.Text.Json;
using Annex.Server.Features.Exports;
using Annex.Server.Features.Exports.Filtering;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Filtering;

/// <summary><c>attributes.&lt;key&gt;</c> conditions on live results read <c>result_attributes</c>, which database triggers
/// keep from each result's annotations; whatever the attributes hold and however often the results are rewritten, the
/// answer is the in-memory evaluator's.</summary>
public sealed class FilterAttributeRowsTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    /// <summary>Top-level attribute keys written; "a.b" holds a dot, so <c>attributes.a.b</c> must not see it.</summary>
    private static readonly string[] TopKeys = ["occluded", "score", "note", "a", "a.b", "deep", "list", "e-1", "0", "x_y"];

    private static readonly string[] InnerKeys = ["b", "c", "x", "0", "d", "b.c"];

    private static readonly string[] FilterKeys =
    [
        "occluded", "score", "note", "a", "a.b", "a.b.c", "a.b.c.d", "a.c", "a.0", "deep", "deep.x", "deep.0", "deep.b.x", "deep.d.c",
        "list", "list.0", "list.b", "e-1", "0", "0.x", "x_y", "missing",
    ];

    [Fact]
    public async Task Attribute_conditions_answer_as_the_annotations_do_after_writes_and_rewrites()
    {
        var random = new Random(271828);
        var tenant = await fixture.Factory.CreateTenantAsync("Attribute rows");
        var dataset = await Seed.DatasetAsync(tenant.Http, "Attributes");
        var project = await Seed.ProjectAsync(tenant.Http, "Attribute project");
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 160);

        await WriteAsync(tenant.Http, project, items, random);
        await CompareAsync(tenant.Key.OrganizationUid, random, rounds: 250, "written");

        // Half the results rewritten through the API (some to no annotation at all), a few by a plain UPDATE: the rows
        // follow whatever writes the result.
        await WriteAsync(tenant.Http, project, items.Where(_ => random.Next(2) == 0), random);
        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var organizationId = await db.Organizations.Where(o => o.Uid == tenant.Key.OrganizationUid).Select(o => o.Id).SingleAsync();
            var ids = await db.Results.Where(r => r.Project.OrganizationId == organizationId).OrderBy(r => r.Id).Select(r => r.Id).Take(6).ToListAsync();
            foreach (var id in ids)
            {
                var annotations = JsonSerializer.Serialize(Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomAnnotation(random)).ToArray());
                var count = JsonDocument.Parse(annotations).RootElement.GetArrayLength();
                await db.Database.ExecuteSqlRawAsync("UPDATE results SET \"Annotations\" = {0}, \"AnnotationCount\" = {1} WHERE \"Id\" = {2}", annotations, count, id);
            }
        }

        await CompareAsync(tenant.Key.OrganizationUid, random, rounds: 250, "rewritten");
    }

    /// <summary>Which conditions read the rows: all on an attribute but <c>= null</c> and <c>!= null</c> (the rows say which
    /// values some annotation has, not whether one lacks the key), and only on live results.</summary>
    [Theory]
    [InlineData("attributes.occluded = true", true, true)]
    [InlineData("attributes.a.b != 2.5", true, true)]
    [InlineData("attributes.note ~ \"n*\"", true, true)]
    [InlineData("attributes.score >= 0.5", true, true)]
    [InlineData("attributes.note EXISTS", true, true)]
    [InlineData("attributes.note IN (\"a\", 1, false)", true, true)]
    [InlineData("attributes.note = null", true, false)]
    [InlineData("NOT attributes.note != null", true, false)]
    [InlineData("attributes.occluded = true", false, false)]
    [InlineData("metadata.occluded = true", true, false)]
    public void Attribute_rows_answer_what_they_can(string text, bool liveResults, bool readsRows)
    {
        Assert.True(FilterParser.TryParse(text, out var filter, out _));
        foreach (var postgres in new[] { false, true })
        {
            var (sql, _) = FilterSql.For(filter!, postgres, liveResults: liveResults);
            Assert.Equal(readsRows, sql.Contains("result_attributes", StringComparison.Ordinal));
            if (readsRows)
            {
                Assert.DoesNotContain("\"Annotations\"", sql, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>A path longer than the rows hold (500 characters) is answered from the annotations, and right.</summary>
    [Fact]
    public async Task A_path_longer_than_the_rows_hold_reads_the_annotations()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Long path");
        var dataset = await Seed.DatasetAsync(tenant.Http, "Long");
        var project = await Seed.ProjectAsync(tenant.Http, "Long project");
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 3);
        var key = new string('k', 300);
        var nested = new Dictionary<string, object?> { [key] = new Dictionary<string, object?> { [key] = "deep" } };
        var annotation = new Dictionary<string, object?> { ["label"] = "car", ["type"] = "classification", ["coordinates"] = null, ["attributes"] = nested };
        await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/", new { results = new[] { new { dataset_item_uid = items[0], annotations = new[] { annotation } } } });

        var filter = $"attributes.{key}.{key} = \"deep\"";
        Assert.True(FilterParser.TryParse(filter, out var parsed, out _));
        Assert.DoesNotContain("result_attributes", FilterSql.For(parsed!, postgres: false, liveResults: true).Sql, StringComparison.Ordinal);
        var preview = await tenant.Http.PostOkAsync("/api/v1/exports/preview/", new
        {
            name = "long", format = "avala-json-external", datasets = new[] { dataset }, projects = new[] { project }, slices = Array.Empty<string>(), filter_query_string = filter,
        }, HttpStatusCode.OK);
        Assert.Equal(1, preview["total_task_count"]!.GetValue<long>());
    }

    /// <summary>An attributes object that names a key twice (which the API refuses, but another writer may store) counts by
    /// its last value, as the evaluator reads it.</summary>
    [Fact]
    public async Task A_key_written_twice_counts_by_its_last_value()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Twice");
        var dataset = await Seed.DatasetAsync(tenant.Http, "Twice");
        var project = await Seed.ProjectAsync(tenant.Http, "Twice project");
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 2);
        await WriteAsync(tenant.Http, project, items, new Random(3));
        string[] annotations =
        [
            "[{\"label\": \"car\", \"type\": \"classification\", \"coordinates\": null, \"attributes\": {\"dup\": 1, \"nested\": {\"dup\": \"first\", \"dup\": \"last\"}, \"dup\": 2}}]",
            "[{\"label\": \"car\", \"type\": \"classification\", \"coordinates\": null, \"attributes\": {\"dup\": 3, \"nested\": {\"dup\": \"lost\"}}}]",
        ];
        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var organizationId = await db.Organizations.Where(o => o.Uid == tenant.Key.OrganizationUid).Select(o => o.Id).SingleAsync();
            var ids = await db.Results.Where(r => r.Project.OrganizationId == organizationId).OrderBy(r => r.Id).Select(r => r.Id).ToListAsync();
            Assert.Equal(2, ids.Count);
            for (var k = 0; k < ids.Count; k++)
            {
                await db.Database.ExecuteSqlRawAsync("UPDATE results SET \"Annotations\" = {0}, \"AnnotationCount\" = 1 WHERE \"Id\" = {1}", annotations[k], ids[k]);
            }
        }

        var random = new Random(5);
        await CompareAsync(tenant.Key.OrganizationUid, random, rounds: 0, "twice", minimumTasks: 2, filters:
        [
            "attributes.dup = 1", "attributes.dup = 2", "attributes.dup > 1.5", "attributes.dup IN (1, 3)", "attributes.nested.dup = \"first\"",
            "attributes.nested.dup ~ \"l*\"", "NOT attributes.dup = 2", "attributes.dup EXISTS",
        ]);
    }

    private static async Task WriteAsync(HttpClient http, string project, IEnumerable<string> items, Random random)
    {
        var results = items.Select(uid => new { dataset_item_uid = uid, annotations = Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomAnnotation(random)).ToArray() }).ToArray();
        var (status, body) = await http.PostJsonAsync($"/api/v1/projects/{project}/results/", new { results });
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Created, $"{(int)status}: {body?.ToJsonString()}");
    }

    /// <summary>Runs <paramref name="rounds"/> random filters of attribute conditions over every task of the organization
    /// and asserts the database keeps the tasks the evaluator keeps.</summary>
    private async Task CompareAsync(Guid organizationUid, Random random, int rounds, string stage, int minimumTasks = 150, string[]? filters = null)
    {
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var organizationId = await db.Organizations.Where(o => o.Uid == organizationUid).Select(o => o.Id).SingleAsync();
        var datasetIds = await db.Datasets.Where(d => d.OrganizationId == organizationId).Select(d => d.Id).ToListAsync();
        var projectIds = await db.Projects.Where(p => p.OrganizationId == organizationId).Select(p => p.Id).ToListAsync();
        var tasks = await db.Results.AsNoTracking().Where(r => projectIds.Contains(r.ProjectId))
            .Select(r => new { r.Id, r.DatasetItem.RefId, r.DatasetItem.Metadata, DatasetUid = r.DatasetItem.Dataset.Uid, ProjectUid = r.Project.Uid, r.CreatedAt, r.UpdatedAt, r.AnnotationCount, r.Annotations })
            .ToListAsync();
        var facts = tasks.Select(t => (t.Id, Facts: new TaskFacts(
            t.RefId, JsonDocument.Parse(t.Metadata).RootElement, t.DatasetUid, t.ProjectUid, new HashSet<Guid>(), t.CreatedAt, t.UpdatedAt, t.AnnotationCount,
            JsonDocument.Parse(t.Annotations).RootElement))).ToList();
        Assert.True(facts.Count >= minimumTasks);

        var nonTrivial = 0;
        var fixedFilters = filters ?? [];
        for (var round = 0; round < rounds + fixedFilters.Length; round++)
        {
            var text = round < fixedFilters.Length ? fixedFilters[round] : RandomFilter(random, depth: 0);
            Assert.True(FilterParser.TryParse(text, out var filter, out var error), $"generated filter did not parse: {text}: {error?.Message}");
            var expected = facts.Where(f => FilterEvaluator.Matches(filter!, f.Facts)).Select(f => f.Id).Order().ToList();
            var exportScope = new ExportScope(organizationId, datasetIds, [], projectIds, false, filter);
            var actual = await exportScope.Results(db).Select(r => r.Id).OrderBy(id => id).ToListAsync();
            Assert.True(expected.SequenceEqual(actual), $"{stage}: filter {text}: in memory {expected.Count} tasks, database {actual.Count}");
            if (expected.Count > 0 && expected.Count < facts.Count)
            {
                nonTrivial++;
            }
        }

        // The filters tell tasks apart, so a table that answered wrongly could not pass by answering "all" or "none".
        Assert.True(nonTrivial > (rounds + fixedFilters.Length) / 5, $"{stage}: only {nonTrivial} of {rounds} filters kept some but not all tasks");
    }

    private static string RandomFilter(Random random, int depth)
    {
        if (depth < 3 && random.Next(3) == 0)
        {
            return random.Next(3) switch
            {
                0 => $"NOT {RandomFilter(random, depth + 1)}",
                1 => $"({RandomFilter(random, depth + 1)} OR {RandomFilter(random, depth + 1)})",
                _ => $"{RandomFilter(random, depth + 1)} AND {RandomFilter(random, depth + 1)}",
            };
        }

        var field = "attributes." + FilterKeys[random.Next(FilterKeys.Length)];
        string Number() => random.Next(3) == 0
            ? FilterPropertyTests.ExtremeLiterals[random.Next(FilterPropertyTests.ExtremeLiterals.Length)]
            : (random.Next(-5, 100) / (random.Next(2) == 0 ? 1.0 : 4.0)).ToString(CultureInfo.InvariantCulture);
        return random.Next(8) switch
        {
            0 or 1 => $"{field} {(random.Next(2) == 0 ? "=" : "!=")} {FilterPropertyTests.RandomLiteral(random)}",
            2 => $"{field} {new[] { "<", "<=", ">", ">=" }[random.Next(4)]} {Number()}",
            3 => $"{field} EXISTS",
            4 => $"{field} ~ {FilterPropertyTests.Quote(new[] { "n*", "*a*", "[x]", "a*b", "?ight", "*", "" }[random.Next(7)])}",
            5 => $"{field} IN ({FilterPropertyTests.RandomLiteral(random, allowNull: false)}, {FilterPropertyTests.RandomLiteral(random, allowNull: false)}, {Number()})",
            6 => $"label = \"{new[] { "car", "truck" }[random.Next(2)]}\"",
            _ => $"{field} = {Number()}",
        };
    }

    private static Dictionary<string, object?> RandomAnnotation(Random random)
    {
        var annotation = new Dictionary<string, object?>
        {
            ["label"] = new[] { "car", "pedestrian", "truck" }[random.Next(3)],
            ["type"] = "classification",
            ["coordinates"] = null,
        };
        if (random.Next(8) != 0)
        {
            var attributes = new Dictionary<string, object?>();
            foreach (var key in TopKeys)
            {
                if (random.Next(2) == 0)
                {
                    attributes[key] = RandomValue(random, 0);
                }
            }

            annotation["attributes"] = attributes;
        }

        return annotation;
    }

    /// <summary>Every JSON type: null, booleans, numbers (some at and beyond double's edges), strings, and objects and
    /// arrays up to three levels deep (objects with keys that look like positions or hold dots).</summary>
    private static object? RandomValue(Random random, int depth) => random.Next(depth < 3 ? 6 : 4) switch
    {
        < 4 => FilterPropertyTests.RandomValue(random),
        4 => InnerKeys.Where(_ => random.Next(3) == 0).ToDictionary(k => k, _ => RandomValue(random, depth + 1)),
        _ => Enumerable.Range(0, random.Next(0, 3)).Select(_ => RandomValue(random, depth + 1)).ToArray(),
    };
}
