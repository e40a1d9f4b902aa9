using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>POST /api/v1/exports/preview/: the create body, refused exactly as the create refuses it, answered with
/// the counts the export would really have; nothing is written.</summary>
public sealed class ExportPreviewTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private const string Preview = "/api/v1/exports/preview/";

    [Theory]
    [MemberData(nameof(CreateExportValidationTests.InvalidBodies), MemberType = typeof(CreateExportValidationTests))]
    public async Task Invalid_bodies_get_the_same_answer_as_a_create(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, json) = await tenant.Http.PostJsonAsync(Preview, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson(expected, json);
    }

    [Theory]
    [InlineData("{\"name\": ")]
    [InlineData("label = ")]
    [InlineData("metadata.time = \"day\" AND (label = \"car\"")]
    [InlineData("labl = \"car\"")]
    public async Task A_malformed_body_or_filter_is_refused_word_for_word_as_by_create(string broken)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var body = broken.StartsWith('{')
            ? broken
            : Api.Compact(new { name = "x", format = "avala-json-external", datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>(), filter_query_string = broken });
        var (previewStatus, preview) = await tenant.Http.PostJsonAsync(Preview, body);
        var (createStatus, create) = await tenant.Http.PostJsonAsync("/api/v1/exports/", body);
        Assert.Equal(HttpStatusCode.BadRequest, previewStatus);
        Assert.Equal(createStatus, previewStatus);
        Assert.Equal(create!.ToJsonString(), preview!.ToJsonString());
        if (!broken.StartsWith('{'))
        {
            // The parser's message names where the filter went wrong.
            Assert.Contains("position", preview["filter_query_string"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Unknown_sources_are_404_and_another_organizations_are_403()
    {
        var owner = await fixture.Factory.CreateTenantAsync("Owner");
        var theirs = await Seed.DatasetAsync(owner.Http);
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (missing, _) = await tenant.Http.PostJsonAsync(Preview, new { dataset = Guid.NewGuid() });
        Assert.Equal(HttpStatusCode.NotFound, missing);
        var (forbidden, body) = await tenant.Http.PostJsonAsync(Preview, new { dataset = theirs });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        Assert.DoesNotContain(theirs, body!.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_preview_writes_nothing_even_with_an_idempotency_key()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var world = await World.CreateAsync(tenant.Http);
        var before = await DatabaseSnapshot.TakeAsync(fixture.Factory.Services);
        var body = Api.Compact(new { name = "p", format = "COCO", datasets = new[] { world.A }, projects = Array.Empty<string>(), slices = new[] { world.Slice }, filter_query_string = "label = \"car\"" });
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Preview) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", "same-key");
            using var response = await tenant.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("Idempotent-Replayed"));
        }

        Assert.Empty((await DatabaseSnapshot.TakeAsync(fixture.Factory.Services)).DifferencesFrom(before));
        var exports = await tenant.Http.GetOkAsync("/api/v1/exports/");
        Assert.Empty(exports["results"]!.AsArray());
    }

    [Fact]
    public async Task It_needs_the_scope_of_a_create()
    {
        var admin = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(admin.Http);
        async Task<HttpStatusCode> WithScopes(params string[] scopes)
        {
            var key = (await admin.Http.PostOkAsync("/api/v1/api-keys/", new { name = "k", scopes }))["key"]!.GetValue<string>();
            using var client = fixture.Factory.CreateClientWithKey(key);
            return (await client.PostJsonAsync(Preview, new { dataset })).Status;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await WithScopes("exports.read", "datasets.read"));
        Assert.Equal(HttpStatusCode.OK, await WithScopes("exports.create"));
    }

    public static TheoryData<string, string, string, string?> Scopes => new()
    {
        // datasets, projects, slices (names from the world below), filter
        { "A", "", "", null },
        { "A B", "", "", null },
        { "", "P1", "", null },
        { "", "P1 P2", "", null },
        { "", "", "S", null },
        { "A", "", "S", null },
        { "B", "", "S T", null },
        { "A", "P2", "", null },
        { "A B", "P1 P2", "S", null },
        { "", "P2", "S", null },
        { "A", "", "", "label = \"car\"" },
        { "A B", "P1 P2", "S", "metadata.time = \"day\"" },
        { "", "P1 P2", "", "label = \"truck\" OR metadata.index < 3" },
        { "B", "P1", "S T", "NOT label = \"car\"" },
        { "A", "", "", "label = \"nothing-has-this\"" },
        // One project and no slice: counted in one pass, with labels and types read from result_labels.
        { "A", "P1", "", "label = \"car\"" },
        { "A B", "P2", "", "type = \"bounding_box\" AND metadata.index < 3" },
        { "A B", "P1", "", "label ~ \"tr*\" OR NOT label IN (\"car\", \"pedestrian\")" },
        { "", "P1", "", "label = \"truck\"" },
        { "", "P2", "", "metadata.time = \"day\" AND NOT label = \"car\"" },
        { "", "P1", "", "dataset = \"{B}\" OR annotation_count > 1" },
    };

    /// <summary>Each preview's totals are what the export then holds (its archive's items and results and its
    /// total_task_count), and each source's counts are the totals of an export of that source alone.</summary>
    [Theory]
    [MemberData(nameof(Scopes))]
    public Task Counts_are_what_the_export_holds(string datasets, string projects, string slices, string? filter) =>
        AssertCountsAreWhatTheExportHoldsAsync(fixture.Factory, datasets, projects, slices, filter);

    internal static async Task AssertCountsAreWhatTheExportHoldsAsync(AnnexFactory factory, string datasets, string projects, string slices, string? filter)
    {
        var tenant = await factory.CreateTenantAsync();
        var world = await World.CreateAsync(tenant.Http);
        var body = world.Body(datasets, projects, slices, filter);
        var preview = await tenant.Http.PostOkAsync(Preview, body, HttpStatusCode.OK);

        var created = await tenant.Http.PostOkAsync("/api/v1/exports/", body);
        var done = await Seed.WaitForAsync(tenant.Http, created["uid"]!.GetValue<string>(), ["exported", "failed"]);
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());
        using var archive = Archives.ReadSingleJson(await Archives.DownloadAsync(factory, done["download_url"]!.GetValue<string>()));
        var items = archive.RootElement.GetProperty("datasets").EnumerateArray().Sum(d => d.GetProperty("items").GetArrayLength());
        var tasks = archive.RootElement.GetProperty("results").GetArrayLength();
        Assert.Equal(items, preview["total_item_count"]!.GetValue<long>());
        Assert.Equal(tasks, preview["total_task_count"]!.GetValue<long>());
        Assert.Equal(done["total_task_count"]!.GetValue<long>(), preview["total_task_count"]!.GetValue<long>());

        var sources = preview["sources"]!.AsArray();
        var named = Names(datasets).Select(n => ("dataset", n)).Concat(Names(projects).Select(n => ("project", n))).Concat(Names(slices).Select(n => ("slice", n))).ToList();
        Assert.Equal(named.Count, sources.Count);
        for (var i = 0; i < named.Count; i++)
        {
            var (type, name) = named[i];
            var source = sources[i]!;
            Assert.Equal(type, source["type"]!.GetValue<string>());
            Assert.Equal(world.Uids[name], source["uid"]!.GetValue<string>());
            Assert.Equal(World.NameOf(name), source["name"]!.GetValue<string>());

            // The same export narrowed to this one source: a dataset or slice with the same projects, a project with
            // the same datasets and slices.
            var alone = type switch
            {
                "dataset" => world.Body(name, projects, "", filter),
                "slice" => world.Body("", projects, name, filter),
                _ => world.Body(datasets, name, slices, filter),
            };
            var narrowed = await tenant.Http.PostOkAsync(Preview, alone, HttpStatusCode.OK);
            Assert.True(
                narrowed["total_task_count"]!.GetValue<long>() == source["task_count"]!.GetValue<long>()
                    // A project's items are those its tasks are on (one each); the export of it alone still lists
                    // every item of the datasets and slices it names, tasks or not.
                    && (type == "project" ? source["task_count"]! : narrowed["total_item_count"]!).GetValue<long>() == source["item_count"]!.GetValue<long>(),
                $"{type} {name}: {source.ToJsonString()} but alone {narrowed.ToJsonString()}");
        }
    }

    /// <summary>The label and type conditions read a copy of each result's labels that the database keeps on every write:
    /// a rewritten result is counted by its new labels, by the preview and by the export alike.</summary>
    [Fact]
    public async Task Label_counts_follow_results_as_they_are_rewritten()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 4);
        var project = await Seed.ProjectAsync(tenant.Http);

        async Task WriteAsync(string label, IEnumerable<string> on) =>
            await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/", new
            {
                results = on.Select(item => new { dataset_item_uid = item, annotations = new[] { Seed.Box(label, 1, 2, 3, 4), Seed.Box("pedestrian", 5, 6, 7, 8) } }).ToArray(),
            }, HttpStatusCode.Created);

        async Task<long> CountAsync(string filter)
        {
            var body = new JsonObject
            {
                ["name"] = "p", ["format"] = "avala-json-external", ["datasets"] = new JsonArray(dataset), ["projects"] = new JsonArray(project),
                ["slices"] = new JsonArray(), ["filter_query_string"] = filter,
            };
            var preview = await tenant.Http.PostOkAsync(Preview, body, HttpStatusCode.OK);
            var created = await tenant.Http.PostOkAsync("/api/v1/exports/", body);
            var done = await Seed.WaitForAsync(tenant.Http, created["uid"]!.GetValue<string>(), ["exported", "failed"]);
            Assert.Equal(done["total_task_count"]!.GetValue<long>(), preview["total_task_count"]!.GetValue<long>());
            return preview["total_task_count"]!.GetValue<long>();
        }

        await WriteAsync("car", items);
        Assert.Equal(4, await CountAsync("label = \"car\""));
        Assert.Equal(0, await CountAsync("label = \"truck\""));
        Assert.Equal(4, await CountAsync("attributes.occluded = false"));
        Assert.Equal(0, await CountAsync("attributes.occluded = true OR attributes.occluded != false"));

        // Two results rewritten with another label: the old one is gone from them, the label they keep stays.
        using (var rewrite = await tenant.Http.PostAsync($"/api/v1/projects/{project}/results/", BodyOf(new
        {
            results = items.Take(2).Select(item => new { dataset_item_uid = item, annotations = new[] { Seed.Box("truck", 1, 2, 3, 4), Seed.Box("pedestrian", 5, 6, 7, 8) } }).ToArray(),
        })))
        {
            Assert.Equal(HttpStatusCode.OK, rewrite.StatusCode);
        }

        Assert.Equal(2, await CountAsync("label = \"car\""));
        Assert.Equal(2, await CountAsync("label = \"truck\""));
        Assert.Equal(4, await CountAsync("label = \"pedestrian\" AND type = \"bounding_box\""));

        // Deleting the dataset takes its results' labels with them.
        using (var deleted = await tenant.Http.DeleteAsync($"/api/v1/datasets/{dataset}/"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var scope = fixture.Factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<Annex.Server.Infrastructure.Data.AnnexDbContext>();
        var orphans = await db.Database.SqlQueryRaw<long>("SELECT COUNT(*) AS \"Value\" FROM result_labels AS l WHERE NOT EXISTS (SELECT 1 FROM results AS r WHERE r.\"Id\" = l.\"ResultId\")").SingleAsync();
        Assert.Equal(0, orphans);
        var attributeOrphans = await db.Database.SqlQueryRaw<long>("SELECT COUNT(*) AS \"Value\" FROM result_attributes AS t WHERE NOT EXISTS (SELECT 1 FROM results AS r WHERE r.\"Id\" = t.\"ResultId\")").SingleAsync();
        Assert.Equal(0, attributeOrphans);
    }

    private static StringContent BodyOf(object body) => new(Api.Compact(body), Encoding.UTF8, "application/json");

    private static string[] Names(string list) => list.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Datasets A (8 items) and B (5), an empty dataset E; project P1 with results on A's first 6 items
    /// and B's first 3, P2 on A's items 4 to 8; slices S (A's items 1, 2 and 7, B's 4 and 5) and T (B's 1 and 5,
    /// overlapping S).</summary>
    private sealed record World(Dictionary<string, string> Uids)
    {
        public string A => Uids["A"];

        public string Slice => Uids["S"];

        public static string NameOf(string key) => "Source " + key;

        public static async Task<World> CreateAsync(HttpClient http)
        {
            var uids = new Dictionary<string, string>(StringComparer.Ordinal);
            var a = await Seed.DatasetAsync(http, NameOf("A"));
            var b = await Seed.DatasetAsync(http, NameOf("B"));
            uids["E"] = await Seed.DatasetAsync(http, NameOf("E"));
            var aItems = await Seed.ItemsAsync(http, a, 8);
            var bItems = await Seed.ItemsAsync(http, b, 5, prefix: "b_");
            var p1 = await Seed.ProjectAsync(http, NameOf("P1"));
            var p2 = await Seed.ProjectAsync(http, NameOf("P2"));
            await Seed.ResultsAsync(http, p1, [.. aItems.Take(6), .. bItems.Take(3)], perItem: 2);
            await Seed.ResultsAsync(http, p2, [.. aItems.Skip(3)], perItem: 1);
            var s = (await http.PostOkAsync("/api/v1/slices/", new { name = NameOf("S"), items = new[] { aItems[0], aItems[1], aItems[6], bItems[3], bItems[4] } }))["uid"]!.GetValue<string>();
            var t = (await http.PostOkAsync("/api/v1/slices/", new { name = NameOf("T"), items = new[] { bItems[0], bItems[4] } }))["uid"]!.GetValue<string>();
            uids["A"] = a;
            uids["B"] = b;
            uids["P1"] = p1;
            uids["P2"] = p2;
            uids["S"] = s;
            uids["T"] = t;
            return new World(uids);
        }

        public JsonObject Body(string datasets, string projects, string slices, string? filter) => new()
        {
            ["name"] = "preview",
            ["format"] = "avala-json-external",
            ["datasets"] = new JsonArray([.. Names(datasets).Select(n => (JsonNode)Uids[n])]),
            ["projects"] = new JsonArray([.. Names(projects).Select(n => (JsonNode)Uids[n])]),
            ["slices"] = new JsonArray([.. Names(slices).Select(n => (JsonNode)Uids[n])]),
            ["filter_query_string"] = filter?.Replace("{B}", Uids["B"], StringComparison.Ordinal),
        };
    }
}

/// <summary>A preview on SQLite cuts a big source into id ranges counted on several connections; here every source is cut
/// (ranges of one id, three connections), and the counts must still be what the export holds. PostgreSQL counts in one
/// query whatever these settings say, so there the same cases check that they change nothing.</summary>
public sealed class ExportPreviewSplitTests(ExportPreviewSplitTests.SplitFixture fixture) : IClassFixture<ExportPreviewSplitTests.SplitFixture>
{
    public sealed class SplitFixture : IDisposable
    {
        public AnnexFactory Factory { get; } = new(settings: new Dictionary<string, string?>
        {
            ["Exports:PreviewParallelism"] = "3",
            ["Exports:PreviewPartSize"] = "1",
        });

        public void Dispose() => Factory.Dispose();
    }

    // One project and no slice: the counts that are cut into ranges (by the datasets' items, or by the project's tasks).
    public static TheoryData<string, string, string, string?> Scopes => new()
    {
        { "A", "P1", "", "label = \"car\"" },
        { "A B", "P2", "", "type = \"bounding_box\" AND metadata.index < 3" },
        { "A B", "P1", "", "label ~ \"tr*\" OR NOT label IN (\"car\", \"pedestrian\")" },
        { "A B E", "P1", "", "metadata.time = \"day\"" },
        { "", "P1", "", "label = \"truck\"" },
        { "", "P2", "", "metadata.time = \"day\" AND NOT label = \"car\"" },
        { "", "P1", "", "dataset = \"{B}\" OR annotation_count > 1" },
    };

    [Theory]
    [MemberData(nameof(Scopes))]
    public Task Counts_split_into_ranges_are_what_the_export_holds(string datasets, string projects, string slices, string? filter) =>
        ExportPreviewTests.AssertCountsAreWhatTheExportHoldsAsync(fixture.Factory, datasets, projects, slices, filter);
}
