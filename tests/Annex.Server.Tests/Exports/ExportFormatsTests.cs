using System.Net;
using Annex.Formats;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>The formats endpoint, and the item-with-results reading the training formats stream from.</summary>
public sealed class ExportFormatsTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Formats_are_listed_with_a_description_and_their_annotation_types()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Formats");
        var (status, body) = await tenant.Http.GetJsonAsync("/api/v1/exports/formats/");
        Assert.Equal(HttpStatusCode.OK, status);
        var formats = body!.AsArray();
        var avala = Assert.Single(formats, f => f!["name"]!.GetValue<string>() == "avala-json-external")!;
        Assert.Equal(["name", "description", "annotation_types"], avala.AsObject().Select(p => p.Key));
        Assert.False(string.IsNullOrWhiteSpace(avala["description"]!.GetValue<string>()));
        Assert.Equal(AnnotationTypes.All, avala["annotation_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.All(formats, f => Assert.NotEmpty(f!["annotation_types"]!.AsArray()));

        // The older list keeps answering with every name.
        var (oldStatus, oldBody) = await tenant.Http.GetJsonAsync("/api/v1/formats/");
        Assert.Equal(HttpStatusCode.OK, oldStatus);
        Assert.Equal(
            formats.Select(f => f!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal),
            oldBody!.AsArray().Select(f => f!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_formats_list_needs_a_key()
    {
        using var anonymous = fixture.Factory.CreateClientWithKey(null);
        var (status, _) = await anonymous.GetJsonAsync("/api/v1/exports/formats/");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task Items_come_dataset_by_dataset_with_all_their_results_and_every_task_once()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("ItemsWithResults");
        var a = await Seed.DatasetAsync(tenant.Http, "A");
        var b = await Seed.DatasetAsync(tenant.Http, "B");
        var aItems = await Seed.ItemsAsync(tenant.Http, a, 5, prefix: "a_");
        var bItems = await Seed.ItemsAsync(tenant.Http, b, 3, prefix: "b_");
        var p1 = await Seed.ProjectAsync(tenant.Http, "P1");
        var p2 = await Seed.ProjectAsync(tenant.Http, "P2");
        await Seed.ResultsAsync(tenant.Http, p1, [aItems[0], aItems[2], aItems[3], bItems[1]], perItem: 2);
        await Seed.ResultsAsync(tenant.Http, p2, [aItems[2], aItems[4], bItems[1], bItems[2]], perItem: 1);
        var slice = (await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "S", items = new[] { bItems[1] } }))["uid"]!.GetValue<string>();
        var created = await tenant.Http.PostOkAsync("/api/v1/exports/", new { name = "scope", format = "avala-json-external", datasets = new[] { a }, projects = Array.Empty<string>(), slices = new[] { slice } });
        await Seed.WaitForAsync(tenant.Http, created["uid"]!.GetValue<string>(), ["exported"]);

        var contexts = fixture.Factory.Services.GetRequiredService<IDbContextFactory<AnnexDbContext>>();
        Export export;
        await using (var db = await contexts.CreateDbContextAsync())
        {
            var uid = Guid.Parse(created["uid"]!.GetValue<string>());
            export = await db.Exports.AsNoTracking().SingleAsync(e => e.Uid == uid);
        }

        await using var source = await ExportSource.OpenAsync(contexts, export, batchSize: 2, CancellationToken.None);
        var seen = new List<(string Dataset, string Item, string[] Projects)>();
        var tasks = 0L;
        var batches = 0;
        await foreach (var batch in source.ItemsWithResultsAsync(CancellationToken.None))
        {
            batches++;
            Assert.InRange(batch.Items.Count, 1, 2);
            tasks += batch.TaskCount;
            foreach (var entry in batch.Items)
            {
                Assert.All(entry.Results, r => Assert.Equal(entry.Item.Uid, r.ItemUid));
                Assert.Equal(entry.Results.Select(r => r.Id).Order(), entry.Results.Select(r => r.Id));
                var projects = await ProjectUidsAsync(contexts, entry.Results.Select(r => r.ProjectId));
                seen.Add((batch.Dataset.Uid.ToString(), entry.Item.Uid.ToString(), [.. entry.Results.Select(r => projects[r.ProjectId])]));
            }
        }

        Assert.Equal(await source.CountTasksAsync(CancellationToken.None), tasks);
        Assert.Equal(7, tasks);
        Assert.Equal(4, batches);
        Assert.Equal(
            [
                (a, aItems[0], [p1]), (a, aItems[1], []), (a, aItems[2], [p1, p2]), (a, aItems[3], [p1]), (a, aItems[4], [p2]),
                (b, bItems[1], [p1, p2]),
            ],
            seen.Select(s => (s.Dataset, s.Item, s.Projects)).ToList(),
            new SeenComparer());
    }

    private static async Task<Dictionary<long, string>> ProjectUidsAsync(IDbContextFactory<AnnexDbContext> contexts, IEnumerable<long> ids)
    {
        var wanted = ids.Distinct().ToList();
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Projects.Where(p => wanted.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.Uid.ToString());
    }

    private sealed class SeenComparer : IEqualityComparer<(string Dataset, string Item, string[] Projects)>
    {
        public bool Equals((string Dataset, string Item, string[] Projects) x, (string Dataset, string Item, string[] Projects) y) =>
            x.Dataset == y.Dataset && x.Item == y.Item && x.Projects.SequenceEqual(y.Projects);

        public int GetHashCode((string Dataset, string Item, string[] Projects) obj) => HashCode.Combine(obj.Dataset, obj.Item);
    }
}
