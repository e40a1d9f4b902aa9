using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Annex.Server.Features.Exports;
using Annex.Server.Features.Exports.Filtering;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Filtering;

/// <summary>On random data and random filters, the database's answer equals the in-memory evaluator's.</summary>
public sealed class FilterPropertyTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private static readonly string[] Labels = ["car", "pedestrian", "truck"];
    internal static readonly string[] Words = ["night", "day", "rain", "clear", "", "Night", "front-left", "a*b", "[x]"];
    private static readonly string[] MetadataKeys = ["time", "weather", "speed", "flag", "reviewer", "camera.model", "tags", "tags.0", "tags.1", "tags.0.x", "deep.a.b", "deep.a", "deep.-1"];
    private static readonly string[] AttributeKeys = ["occluded", "confidence", "note", "parts", "parts.0", "parts.1.x"];

    /// <summary>Stored numbers at and beyond the edges of double: infinity, 0, rounded, and on PostgreSQL exact
    /// (jsonb keeps them as they are written).</summary>
    private static readonly string[] ExtremeNumbers =
    [
        "1e400", "-1e400", "1e-400", "-1e-400", "1.7976931348623157e308", "-1.7976931348623157e308", "1.7976931348623159e308",
        "5e-324", "2.4703282292062328e-324", "-0", "0.0", "9007199254740993", "123456789012345678901234567890", "1E+2", "1e308",
    ];

    /// <summary>Numbers a filter can compare them with (a filter's own number must fit a double).</summary>
    internal static readonly string[] ExtremeLiterals =
    [
        "1.7976931348623157e308", "-1.7976931348623157e308", "5e-324", "0", "-0", "9007199254740992", "9007199254740994",
        "1.2345678901234568e29", "100", "1e308", "-1e308",
    ];

    [Fact]
    public async Task Database_and_in_memory_evaluation_select_the_same_tasks()
    {
        var random = new Random(424242);
        var tenant = await fixture.Factory.CreateTenantAsync("Property");
        var datasets = new[] { await Seed.DatasetAsync(tenant.Http, "R1"), await Seed.DatasetAsync(tenant.Http, "R2") };
        var projects = new[] { await Seed.ProjectAsync(tenant.Http, "RP1"), await Seed.ProjectAsync(tenant.Http, "RP2") };
        var itemUids = new List<string>();
        for (var d = 0; d < datasets.Length; d++)
        {
            var items = Enumerable.Range(0, 120).Select(n => new Dictionary<string, object?>
            {
                ["ref_id"] = $"r{d}_{n:D3}" + (n % 7 == 0 ? "_x" : ""),
                ["metadata"] = RandomMetadata(random),
            }).ToArray();
            var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{datasets[d]}/items/", new { items });
            itemUids.AddRange(created["items"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()));
        }

        foreach (var project in projects)
        {
            var results = itemUids.Where(_ => random.Next(4) != 0).Select(uid => new { dataset_item_uid = uid, annotations = Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomAnnotation(random)).ToArray() }).ToArray();
            await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/", new { results });
        }

        var slice = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "random", items = itemUids.Where(_ => random.Next(3) == 0).ToArray() }))["uid"]!.GetValue<string>();
        string[] uids = [.. datasets, .. projects, slice, Guid.NewGuid().ToString()];

        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var organizationId = await db.Organizations.Where(o => o.Uid == tenant.Key.OrganizationUid).Select(o => o.Id).SingleAsync();
        var datasetIds = await db.Datasets.Where(d => d.OrganizationId == organizationId).Select(d => d.Id).ToListAsync();
        var projectIds = await db.Projects.Where(p => p.OrganizationId == organizationId).Select(p => p.Id).ToListAsync();
        var sliceUid = Guid.Parse(slice);
        var sliceMembers = (await db.SliceItems.Where(si => db.Slices.Any(s => s.Id == si.SliceId && s.Uid == sliceUid)).Select(si => si.DatasetItemId).ToListAsync()).ToHashSet();
        var tasks = await db.Results.AsNoTracking().Where(r => projectIds.Contains(r.ProjectId))
            .Select(r => new { r.Id, r.DatasetItem.RefId, r.DatasetItem.Metadata, DatasetUid = r.DatasetItem.Dataset.Uid, ProjectUid = r.Project.Uid, r.DatasetItemId, r.CreatedAt, r.UpdatedAt, r.AnnotationCount, r.Annotations })
            .ToListAsync();
        var facts = tasks.Select(t => (t.Id, Facts: new TaskFacts(
            t.RefId,
            JsonDocument.Parse(t.Metadata).RootElement,
            t.DatasetUid,
            t.ProjectUid,
            sliceMembers.Contains(t.DatasetItemId) ? new HashSet<Guid> { sliceUid } : [],
            t.CreatedAt,
            t.UpdatedAt,
            t.AnnotationCount,
            JsonDocument.Parse(t.Annotations).RootElement))).ToList();
        Assert.True(facts.Count > 150);

        var checkedFilters = 0;
        for (var round = 0; round < 400; round++)
        {
            var text = RandomFilter(random, uids, depth: 0);
            Assert.True(FilterParser.TryParse(text, out var filter, out var error), $"generated filter did not parse: {text}: {error?.Message}");
            var expected = facts.Where(f => FilterEvaluator.Matches(filter!, f.Facts)).Select(f => f.Id).Order().ToList();
            var exportScope = new ExportScope(organizationId, datasetIds, [], projectIds, false, filter);
            var inline = await exportScope.Results(db).Select(r => r.Id).OrderBy(id => id).ToListAsync();
            Assert.True(expected.SequenceEqual(inline), $"filter {text}: in memory {expected.Count} tasks, database {inline.Count}");

            // The worker's path: the kept tasks materialised once in a temporary table.
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                var materialized = await exportScope.MaterializeFilterAsync(db, $"kept_tasks_test_{round}", CancellationToken.None);
                var viaTable = await materialized.Results(db).Select(r => r.Id).OrderBy(id => id).ToListAsync();
                Assert.True(expected.SequenceEqual(viaTable), $"filter {text}: in memory {expected.Count} tasks, temporary table {viaTable.Count}");
                await transaction.RollbackAsync();
            }

            checkedFilters++;
        }

        Assert.Equal(400, checkedFilters);
    }

    private static Dictionary<string, object?> RandomMetadata(Random random)
    {
        var metadata = new Dictionary<string, object?>();
        foreach (var key in new[] { "time", "weather", "speed", "flag", "reviewer" })
        {
            metadata[key] = RandomValue(random);
            if (random.Next(6) == 0)
            {
                metadata.Remove(key);
            }
        }

        if (random.Next(2) == 0)
        {
            metadata["camera"] = random.Next(3) == 0 ? "flat" : new Dictionary<string, object?> { ["model"] = Words[random.Next(Words.Length)] };
        }

        // Arrays, and objects whose keys look like array positions: a key always names an object member.
        if (random.Next(4) != 0)
        {
            metadata["tags"] = RandomContainer(random);
        }

        if (random.Next(3) != 0)
        {
            metadata["deep"] = random.Next(3) == 0
                ? RandomContainer(random)
                : new Dictionary<string, object?> { ["a"] = random.Next(3) == 0 ? RandomValue(random) : new Dictionary<string, object?> { ["b"] = RandomValue(random) }, ["-1"] = RandomValue(random) };
        }

        return metadata;
    }

    internal static JsonNode? RandomValue(Random random) => random.Next(7) switch
    {
        0 => null,
        1 => random.Next(2) == 0,
        2 => random.Next(-5, 100) / (random.Next(2) == 0 ? 1.0 : 4.0),
        3 => JsonNode.Parse(ExtremeNumbers[random.Next(ExtremeNumbers.Length)]),
        _ => Words[random.Next(Words.Length)],
    };

    private static object? RandomContainer(Random random) => random.Next(4) switch
    {
        0 => Enumerable.Range(0, random.Next(0, 3)).Select(_ => RandomValue(random)).ToArray(),
        1 => new object?[] { new Dictionary<string, object?> { ["x"] = RandomValue(random) }, RandomValue(random) },
        2 => new Dictionary<string, object?> { ["0"] = RandomValue(random), ["1"] = new Dictionary<string, object?> { ["x"] = RandomValue(random) } },
        _ => RandomValue(random),
    };

    private static Dictionary<string, object?> RandomAnnotation(Random random)
    {
        var attributes = new Dictionary<string, object?>();
        if (random.Next(2) == 0)
        {
            attributes["occluded"] = random.Next(2) == 0;
        }

        if (random.Next(2) == 0)
        {
            attributes["confidence"] = random.Next(0, 101) / 100.0;
        }

        if (random.Next(3) == 0)
        {
            attributes["note"] = random.Next(4) == 0 ? null : Words[random.Next(Words.Length)];
        }

        if (random.Next(3) == 0)
        {
            attributes["parts"] = RandomContainer(random);
        }

        var label = Labels[random.Next(Labels.Length)];
        var (type, coordinates) = random.Next(3) switch
        {
            0 => ("polygon", (object?)new { vertices = new[] { new[] { 0, 0 }, new[] { 5, 0 }, new[] { 5, 5 } } }),
            1 => ("classification", null),
            _ => ("bounding_box", new { x = 1, y = 2, width = 3, height = 4 }),
        };
        return new Dictionary<string, object?> { ["label"] = label, ["type"] = type, ["coordinates"] = coordinates, ["attributes"] = attributes };
    }

    internal static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    internal static string RandomLiteral(Random random, bool allowNull = true) => random.Next(7) switch
    {
        0 when allowNull => "null",
        1 => random.Next(2) == 0 ? "true" : "FALSE",
        2 => (random.Next(-5, 100) / (random.Next(2) == 0 ? 1.0 : 4.0)).ToString(CultureInfo.InvariantCulture),
        3 => ExtremeLiterals[random.Next(ExtremeLiterals.Length)],
        _ => Quote(Words[random.Next(Words.Length)]),
    };

    private static string RandomFilter(Random random, string[] uids, int depth)
    {
        if (depth < 4 && random.Next(3) != 0)
        {
            return random.Next(4) switch
            {
                0 => $"NOT {RandomFilter(random, uids, depth + 1)}",
                1 => $"({RandomFilter(random, uids, depth + 1)} OR {RandomFilter(random, uids, depth + 1)})",
                2 => $"{RandomFilter(random, uids, depth + 1)} or {RandomFilter(random, uids, depth + 1)}",
                _ => $"{RandomFilter(random, uids, depth + 1)} AND {RandomFilter(random, uids, depth + 1)}",
            };
        }

        string JsonField() => random.Next(2) == 0
            ? "metadata." + MetadataKeys[random.Next(MetadataKeys.Length)]
            : "attributes." + AttributeKeys[random.Next(AttributeKeys.Length)];
        string Number() => random.Next(4) == 0
            ? ExtremeLiterals[random.Next(ExtremeLiterals.Length)]
            : (random.Next(-5, 100) / (random.Next(2) == 0 ? 1.0 : 4.0)).ToString(CultureInfo.InvariantCulture);
        string Ordered() => new[] { "<", "<=", ">", ">=" }[random.Next(4)];
        string Equality() => random.Next(2) == 0 ? "=" : "!=";

        return random.Next(14) switch
        {
            0 => $"label {Equality()} {Quote(Labels[random.Next(Labels.Length)])}",
            1 => $"label ~ {Quote(new[] { "c*", "*r*", "?ar", "truck", "*" }[random.Next(5)])}",
            2 => $"type IN ({Quote("polygon")}, {Quote(new[] { "bounding_box", "classification", "cuboid" }[random.Next(3)])})",
            3 => $"{JsonField()} {Equality()} {RandomLiteral(random)}",
            4 => $"{JsonField()} {Ordered()} {Number()}",
            5 => $"{JsonField()} EXISTS",
            6 => $"{JsonField()} ~ {Quote(new[] { "n*", "*a*", "[x]", "a*b", "?ight" }[random.Next(5)])}",
            7 => $"{JsonField()} IN ({RandomLiteral(random, allowNull: false)}, {RandomLiteral(random, allowNull: false)})",
            8 => $"ref_id ~ {Quote(new[] { "r0_*", "*_x", "r1_0?5", "r?_1*" }[random.Next(4)])}",
            9 => $"annotation_count {Ordered()} {random.Next(0, 4)}",
            10 => $"{new[] { "dataset", "project", "slice" }[random.Next(3)]} {Equality()} {Quote(uids[random.Next(uids.Length)])}",
            11 => $"created_at {Ordered()} {Quote(DateTime.UtcNow.AddMinutes(random.Next(-10, 10)).ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture))}",
            12 => $"annotation_count IN ({random.Next(0, 4)}, {random.Next(0, 4)})",
            _ => $"ref_id {Equality()} {Quote($"r{random.Next(2)}_{random.Next(120):D3}")}",
        };
    }
}
