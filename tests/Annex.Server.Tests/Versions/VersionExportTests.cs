using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Annex.Server.Features.Exports;
using Annex.Server.Features.Exports.Worker;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Annex.Server.Tests.Ingest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Versions;

/// <summary>Exports of versions (the same archive whatever is edited afterwards) and delta exports (only what changed
/// since a base, plus what was removed; applied on the base they give the full export, in every format).</summary>
/// <remarks>Exports read two rows a batch here, so a version's live and history parts are merged across many batches.</remarks>
public sealed class VersionExportTests(VersionExportTests.SmallBatches fixture) : IClassFixture<VersionExportTests.SmallBatches>
{
    public sealed class SmallBatches : IDisposable
    {
        public AnnexFactory Factory { get; } = new(settings: new Dictionary<string, string?> { ["Exports:BatchSize"] = "2" });

        public void Dispose() => Factory.Dispose();
    }

    private sealed record Scenario(TenantClient Tenant, string Dataset, string Project, string A, string B, List<string> Items);

    private static async Task UpsertAsync(HttpClient http, string project, string item, params string[] labels)
    {
        var (status, body) = await http.PostJsonAsync($"/api/v1/projects/{project}/results/", new
        {
            results = new[] { new { dataset_item_uid = item, annotations = labels.Select((l, i) => Seed.Box(l, 5 + i, 6, 70, 80)).ToArray() } },
        });
        Assert.True((int)status < 300, body?.ToJsonString());
    }

    /// <summary>Deletes rows the way a client cannot yet (items and results have no DELETE route): straight in the
    /// database, where the triggers see them like any other write.</summary>
    private async Task DeleteAsync(string? itemUid = null, string? projectUid = null, string? resultItemUid = null)
    {
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        if (itemUid is not null)
        {
            var uid = Guid.Parse(itemUid);
            Assert.Equal(1, await db.DatasetItems.Where(i => i.Uid == uid).ExecuteDeleteAsync());
        }

        if (resultItemUid is not null)
        {
            var item = Guid.Parse(resultItemUid);
            var project = Guid.Parse(projectUid!);
            Assert.Equal(1, await db.Results.Where(r => r.DatasetItem.Uid == item && r.Project.Uid == project).ExecuteDeleteAsync());
        }
    }

    /// <summary>Version A; then an edited result, a result and an item removed, new items; version B; then more edits
    /// that neither version may show.</summary>
    private async Task<Scenario> BuildAsync()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 6);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items[..5], perItem: 2);
        var a = (await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "a" }))["uid"]!.GetValue<string>();

        await UpsertAsync(tenant.Http, project, items[1], "truck");
        await DeleteAsync(projectUid: project, resultItemUid: items[2]);
        await DeleteAsync(itemUid: items[3]);
        var added = await Seed.ItemsAsync(tenant.Http, dataset, 2, start: 50);
        await Seed.ResultsAsync(tenant.Http, project, added[..1], perItem: 1);
        await UpsertAsync(tenant.Http, project, items[5], "car", "pedestrian");
        var b = (await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "b" }))["uid"]!.GetValue<string>();

        await UpsertAsync(tenant.Http, project, items[0], "pedestrian");
        await UpsertAsync(tenant.Http, project, items[1], "car");
        await DeleteAsync(itemUid: items[4]);
        await Seed.ItemsAsync(tenant.Http, dataset, 1, start: 90);
        return new Scenario(tenant, dataset, project, a, b, [.. items, .. added]);
    }

    private async Task<(JsonNode Export, byte[] Archive)> ExportAsync(HttpClient http, object body)
    {
        var created = await http.PostOkAsync("/api/v1/exports/", body);
        var done = await Seed.WaitForAsync(http, created["uid"]!.GetValue<string>(), ["exported", "failed"]);
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());
        return (done, await Archives.DownloadAsync(fixture.Factory, done["download_url"]!.GetValue<string>()));
    }

    /// <summary>An export written straight into the table, as the API would not: versions and slices together.</summary>
    private async Task<(JsonNode Export, byte[] Archive)> ExportRowAsync(HttpClient http, string format, string version, string slice, string? filter)
    {
        Guid uid;
        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var versionUid = Guid.Parse(version);
            var organization = await db.DatasetVersions.Where(v => v.Uid == versionUid).Select(v => v.OrganizationId).SingleAsync();
            var export = new Export
            {
                Uid = Guid.CreateVersion7(),
                OrganizationId = organization,
                Name = "version and slice",
                Format = format,
                Status = ExportStatus.Requested,
                Datasets = "[]",
                Projects = "[]",
                Slices = UidList.Serialize([Guid.Parse(slice)]),
                Versions = UidList.Serialize([versionUid]),
                FilterQueryString = filter,
                CreatedAt = DateTime.UtcNow,
                UpdatedAt = DateTime.UtcNow,
            };
            db.Exports.Add(export);
            await db.SaveChangesAsync();
            scope.ServiceProvider.GetRequiredService<ExportSignal>().Notify();
            uid = export.Uid;
        }

        var done = await Seed.WaitForAsync(http, uid.ToString("D"), ["exported", "failed"]);
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());
        return (done, await Archives.DownloadAsync(fixture.Factory, done["download_url"]!.GetValue<string>()));
    }

    private static JsonObject Document(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        using var stream = Assert.Single(zip.Entries).Open();
        return JsonNode.Parse(stream)!.AsObject();
    }

    /// <summary>What an avala-json-external document holds, without what names the export itself.</summary>
    /// <remarks>Items and results are compared in uid order: a delta applied on its base keeps no row order.</remarks>
    private static string Content(JsonObject document)
    {
        static JsonArray Sorted(JsonNode array) =>
            new([.. array.AsArray().Select(n => n!.DeepClone()).OrderBy(n => n["uid"]!.GetValue<string>(), StringComparer.Ordinal)]);
        var datasets = new JsonArray([.. document["datasets"]!.AsArray().Select(d =>
        {
            var copy = d!.DeepClone().AsObject();
            copy["items"] = Sorted(copy["items"]!);
            return (JsonNode)copy;
        })]);
        return new JsonObject { ["datasets"] = datasets, ["projects"] = document["projects"]!.DeepClone(), ["results"] = Sorted(document["results"]!) }.ToJsonString();
    }

    [Fact]
    public async Task A_version_exports_the_same_content_whatever_is_edited_afterwards()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 5);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 2);
        var live = Document((await ExportAsync(tenant.Http, new { name = "live", format = "avala-json-external", datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>() })).Archive);
        var version = (await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "v" }))["uid"]!.GetValue<string>();
        var body = new { name = "frozen", format = "avala-json-external", versions = new[] { version } };
        var (first, firstArchive) = await ExportAsync(tenant.Http, body);
        Assert.Equal(version, Assert.Single(first["versions"]!.AsArray())!.GetValue<string>());
        Assert.Equal(Content(live), Content(Document(firstArchive)));

        await UpsertAsync(tenant.Http, project, items[0], "truck", "truck", "truck");
        await DeleteAsync(projectUid: project, resultItemUid: items[1]);
        await DeleteAsync(itemUid: items[2]);
        await Seed.ItemsAsync(tenant.Http, dataset, 3, start: 40);
        await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "later" });
        await UpsertAsync(tenant.Http, project, items[3], "car");

        var (again, againArchive) = await ExportAsync(tenant.Http, body);
        Assert.Equal(5, again["total_task_count"]!.GetValue<long>());
        Assert.Equal(Content(live), Content(Document(againArchive)));

        // With a filter too: evaluated on the version's rows.
        var filtered = Document((await ExportAsync(tenant.Http, new { name = "night", format = "avala-json-external", versions = new[] { version }, filter_query_string = "metadata.time = \"night\"" })).Archive);
        var nightItems = filtered["datasets"]![0]!["items"]!.AsArray().Select(i => i!["ref_id"]!.GetValue<string>()).ToList();
        Assert.Equal(["frame_00001", "frame_00003", "frame_00005"], nightItems);
        Assert.Equal(3, filtered["results"]!.AsArray().Count);
    }

    /// <summary>The API refuses versions with slices, but an export row may name both. The scope's datasets are then the
    /// versions' own, so a slice adds no item: the export is the version's, whether it reads history or not, filtered
    /// or not, and for formats that read items with their results too.</summary>
    [Fact]
    public async Task A_version_named_with_a_slice_exports_the_version()
    {
        var s = await BuildAsync();
        var http = s.Tenant.Http;
        var otherDataset = await Seed.DatasetAsync(http, "Other");
        var other = await Seed.ItemsAsync(http, otherDataset, 2, start: 70);
        await Seed.ResultsAsync(http, s.Project, other, perItem: 1);
        var slice = (await http.PostOkAsync("/api/v1/slices/", new { name = "some", items = new[] { s.Items[0], s.Items[5], other[0] } }))["uid"]!.GetValue<string>();
        var clean = (await http.PostOkAsync($"/api/v1/datasets/{s.Dataset}/versions/", new { name = "clean" }))["uid"]!.GetValue<string>();

        foreach (var (version, filter) in new[] { (s.A, (string?)null), (s.B, null), (clean, null), (s.A, "metadata.time = \"night\"") })
        {
            var (plain, plainArchive) = await ExportAsync(http, new { name = "plain", format = "avala-json-external", versions = new[] { version }, filter_query_string = filter });
            var (named, namedArchive) = await ExportRowAsync(http, "avala-json-external", version, slice, filter);
            Assert.Equal(plain["total_task_count"]!.GetValue<long>(), named["total_task_count"]!.GetValue<long>());
            Assert.Equal(Content(Document(plainArchive)), Content(Document(namedArchive)));
        }

        // Version A as it was made: its six items (two deleted since, read from the history) and its five tasks (one
        // deleted since among them); nothing of the other dataset, whose item is in the slice.
        var (a, aArchive) = await ExportRowAsync(http, "avala-json-external", s.A, slice, null);
        var document = Document(aArchive);
        Assert.Equal(5, a["total_task_count"]!.GetValue<long>());
        var dataset = Assert.Single(document["datasets"]!.AsArray())!;
        Assert.Equal(s.Items[..6].Order(StringComparer.Ordinal), dataset["items"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(s.Items[..5].Order(StringComparer.Ordinal), document["results"]!.AsArray().Select(r => r!["dataset_item_uid"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        var (_, cocoPlain) = await ExportAsync(http, new { name = "plain", format = "COCO", versions = new[] { s.A } });
        var (_, cocoNamed) = await ExportRowAsync(http, "COCO", s.A, slice, null);
        var expected = Entries(cocoPlain);
        var actual = Entries(cocoNamed);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, text) in expected.Where(e => e.Key != "export_report.json"))
        {
            Assert.True(Normalize(name, text) == Normalize(name, actual[name]), $"COCO: {name} differs");
        }
    }

    [Fact]
    public async Task Version_and_delta_requests_are_checked()
    {
        var s = await BuildAsync();
        var other = await fixture.Factory.CreateTenantAsync("Stranger");
        var otherDataset = await Seed.DatasetAsync(s.Tenant.Http, "Other");
        var otherVersion = (await s.Tenant.Http.PostOkAsync($"/api/v1/datasets/{otherDataset}/versions/", new { name = "o" }))["uid"]!.GetValue<string>();
        var http = s.Tenant.Http;
        await http.PostRejectedAsync("/api/v1/exports/", new { name = "x", format = "YOLO", versions = new[] { s.A }, datasets = new[] { s.Dataset } },
            """{"versions": ["Versions cannot be exported together with datasets or slices; name the datasets' versions instead."]}""");
        await http.PostRejectedAsync("/api/v1/exports/", new { name = "x", format = "YOLO", versions = new[] { s.B }, since_version = s.A, since_export = s.A },
            """{"non_field_errors": ["Name at most one base: since_version or since_export."]}""");
        await http.PostRejectedAsync("/api/v1/exports/", new { name = "x", format = "YOLO", versions = new[] { s.A }, since_version = s.B },
            """{"since_version": ["The base must be older than the version exported."]}""");
        await http.PostRejectedAsync("/api/v1/exports/", new { name = "x", format = "YOLO", versions = new[] { s.B }, since_version = otherVersion },
            """{"since_version": ["The base must be a version of the dataset this export covers."]}""");
        await http.PostRejectedAsync("/api/v1/exports/", new { name = "x", format = "YOLO", versions = new[] { s.B }, since_version = s.A, filter_query_string = "metadata.index > 1" },
            """{"filter_query_string": ["A delta export cannot have a filter."]}""");
        var missing = Guid.NewGuid();
        await http.PostRejectedAsync("/api/v1/exports/", new { name = "x", format = "YOLO", datasets = new[] { s.Dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>(), since_version = missing },
            $$"""{"since_version": ["Invalid pk \"{{missing}}\" - object does not exist."]}""");
        var live = (await Seed.ExportAsync(http, "live", datasets: [s.Dataset]))["uid"]!.GetValue<string>();
        await http.PostRejectedAsync("/api/v1/exports/", new { name = "x", format = "YOLO", versions = new[] { s.B }, since_export = live },
            """{"since_export": ["Only an export of exactly one version can be a base; export a version of the dataset and name that export or version."]}""");
        var (foreign, _) = await other.Http.PostJsonAsync("/api/v1/exports/", new { name = "x", format = "YOLO", versions = new[] { s.A } });
        Assert.Equal(HttpStatusCode.Forbidden, foreign);
        var (unknown, _) = await http.PostJsonAsync("/api/v1/exports/", new { name = "x", format = "YOLO", versions = new[] { missing } });
        Assert.Equal(HttpStatusCode.NotFound, unknown);
    }

    public static TheoryData<string> Formats => ["avala-json-external", "YOLO", "YOLO-SEG", "YOLO-OBB", "YOLO-POSE", "COCO", "VOC", "CSV"];

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task A_delta_applied_on_its_base_gives_the_full_export(string format)
    {
        var s = await BuildAsync();
        var http = s.Tenant.Http;
        var (baseExport, baseArchive) = await ExportAsync(http, new { name = "base", format, versions = new[] { s.A } });
        var (_, fullArchive) = await ExportAsync(http, new { name = "full", format, versions = new[] { s.B } });
        var (delta, deltaArchive) = await ExportAsync(http, new { name = "delta", format, versions = new[] { s.B }, since_version = s.A });
        var (byExport, byExportArchive) = await ExportAsync(http, new { name = "delta2", format, versions = new[] { s.B }, since_export = baseExport["uid"]!.GetValue<string>() });
        Assert.Equal(s.A, delta["since_version"]!.GetValue<string>());
        Assert.Equal(s.A, byExport["since_version"]!.GetValue<string>());

        var diff = await http.AllPagesAsync($"/api/v1/datasets/{s.Dataset}/versions/{s.A}/diff/{s.B}/");
        var affected = diff.Select(r => Guid.Parse(r["uid"]!.GetValue<string>())).ToHashSet();
        var removedItems = diff.Where(r => r["change"]!.GetValue<string>() == "removed").Select(r => Guid.Parse(r["uid"]!.GetValue<string>())).ToHashSet();
        // Items 1, 2, 3 (removed), 5 and the two new ones.
        Assert.Equal(6, affected.Count);
        Assert.Equal([Guid.Parse(s.Items[3])], removedItems);
        // Tasks (one result per item and project) of the changed and added items: items 1 and 5 and the first new one.
        Assert.Equal(3, delta["total_task_count"]!.GetValue<long>());

        if (format == "avala-json-external")
        {
            var deltaDocument = Document(deltaArchive);
            var removed = deltaDocument["removed"]!;
            Assert.Equal([Guid.Parse(s.Items[3])], removed["items"]!.AsArray().Select(u => Guid.Parse(u!.GetValue<string>())));
            // Item 2's result, and item 3's.
            Assert.Equal(2, removed["results"]!.AsArray().Count);
            Assert.Equal(Content(Document(fullArchive)), Content(ApplyDocument(Document(baseArchive), deltaDocument)));
            Assert.Equal(Content(deltaDocument), Content(Document(byExportArchive)));
            return;
        }

        var deltaEntries = Entries(deltaArchive);
        var removedJson = JsonNode.Parse(deltaEntries["removed.json"])!;
        Assert.Equal([Guid.Parse(s.Items[3])], removedJson["items"]!.AsArray().Select(u => Guid.Parse(u!.GetValue<string>())));
        Assert.Equal(2, removedJson["results"]!.AsArray().Count);
        var applied = ApplyEntries(Entries(baseArchive), deltaEntries, affected);
        var full = Entries(fullArchive);
        full.Remove("export_report.json");
        Assert.Equal(full.Keys.Order(StringComparer.Ordinal), applied.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, text) in full)
        {
            Assert.True(Normalize(name, text) == Normalize(name, applied[name]), $"{format}: {name} differs");
        }

        var again = Entries(byExportArchive);
        Assert.Equal(deltaEntries.Keys.Order(StringComparer.Ordinal), again.Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>Applies an avala-json-external delta: removed items and results go, every item of the delta replaces
    /// the base's (with all its results).</summary>
    private static JsonObject ApplyDocument(JsonObject baseDocument, JsonObject delta)
    {
        var removedItems = delta["removed"]!["items"]!.AsArray().Select(u => u!.GetValue<string>()).ToHashSet();
        var removedResults = delta["removed"]!["results"]!.AsArray().Select(u => u!.GetValue<string>()).ToHashSet();
        var deltaItems = delta["datasets"]!.AsArray().SelectMany(d => d!["items"]!.AsArray()).Select(i => i!["uid"]!.GetValue<string>()).ToHashSet();
        var result = (JsonObject)baseDocument.DeepClone();
        foreach (var dataset in result["datasets"]!.AsArray())
        {
            var fromDelta = delta["datasets"]!.AsArray().Where(d => d!["uid"]!.GetValue<string>() == dataset!["uid"]!.GetValue<string>()).SelectMany(d => d!["items"]!.AsArray());
            var items = dataset!["items"]!.AsArray()
                .Where(i => !removedItems.Contains(i!["uid"]!.GetValue<string>()) && !deltaItems.Contains(i!["uid"]!.GetValue<string>()))
                .Concat(fromDelta).Select(i => i!.DeepClone()).OrderBy(i => i["ref_id"]!.GetValue<string>(), StringComparer.Ordinal).ToArray();
            dataset["items"] = new JsonArray(items);
        }

        var results = result["results"]!.AsArray()
            .Where(r => !removedResults.Contains(r!["uid"]!.GetValue<string>()) && !deltaItems.Contains(r!["dataset_item_uid"]!.GetValue<string>()))
            .Concat(delta["results"]!.AsArray()).Select(r => r!.DeepClone()).OrderBy(r => r["uid"]!.GetValue<string>(), StringComparer.Ordinal).ToArray();
        result["results"] = new JsonArray(results);
        return result;
    }

    private static Dictionary<string, string> Entries(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
            entries[entry.FullName] = reader.ReadToEnd();
        }

        return entries;
    }

    private static bool Mentions(string text, IEnumerable<Guid> uids) => uids.Any(u => text.Contains(u.ToString("N"), StringComparison.OrdinalIgnoreCase) || text.Contains(u.ToString("D"), StringComparison.OrdinalIgnoreCase));

    /// <summary>Applies a training delta entry by entry: an item's own files come from the delta when it is affected;
    /// shared files merge their lines (CSV rows, split lists) or, for COCO, their images and annotations.</summary>
    private static Dictionary<string, string> ApplyEntries(Dictionary<string, string> baseEntries, Dictionary<string, string> delta, HashSet<Guid> affected)
    {
        var applied = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, text) in baseEntries)
        {
            if (name != "export_report.json" && !Mentions(name, affected))
            {
                applied[name] = text;
            }
        }

        foreach (var (name, text) in delta)
        {
            if (name is "export_report.json" or "removed.json")
            {
                continue;
            }

            if (Mentions(name, affected))
            {
                applied[name] = text;
            }
            else if (applied.TryGetValue(name, out var shared))
            {
                applied[name] = name.EndsWith(".json", StringComparison.Ordinal) ? MergeCoco(shared, text, affected) : MergeLines(shared, text, affected);
            }
            else
            {
                applied[name] = text;
            }
        }

        return applied;
    }

    private static string MergeLines(string baseText, string deltaText, HashSet<Guid> affected)
    {
        var lines = baseText.Split('\n').Where(l => !Mentions(l, affected)).ToList();
        lines.AddRange(deltaText.Split('\n').Where(l => Mentions(l, affected)));
        return string.Join('\n', lines);
    }

    private static string MergeCoco(string baseText, string deltaText, HashSet<Guid> affected)
    {
        var merged = JsonNode.Parse(baseText)!.AsObject();
        var delta = JsonNode.Parse(deltaText)!.AsObject();
        var baseImages = merged["images"]!.AsArray().ToDictionary(i => i!["id"]!.GetValue<long>(), i => i!["file_name"]!.GetValue<string>());
        var deltaImages = delta["images"]!.AsArray().ToDictionary(i => i!["id"]!.GetValue<long>(), i => i!["file_name"]!.GetValue<string>());
        JsonNode Keyed(JsonNode annotation, Dictionary<long, string> images)
        {
            var copy = annotation.DeepClone().AsObject();
            copy["image_id"] = images[copy["image_id"]!.GetValue<long>()];
            copy.Remove("id");
            return copy;
        }

        merged["images"] = new JsonArray([.. merged["images"]!.AsArray().Where(i => !Mentions(i!["file_name"]!.GetValue<string>(), affected)).Select(i => i!.DeepClone())
            .Concat(delta["images"]!.AsArray().Select(i => i!.DeepClone()))]);
        merged["annotations"] = new JsonArray([.. merged["annotations"]!.AsArray().Select(a => Keyed(a!, baseImages)).Where(a => !Mentions(a["image_id"]!.GetValue<string>(), affected))
            .Concat(delta["annotations"]!.AsArray().Select(a => Keyed(a!, deltaImages)))]);
        merged["keyed"] = true;
        return merged.ToJsonString();
    }

    /// <summary>Content to compare: lines as a sorted multiset; COCO without its own numbering.</summary>
    private static string Normalize(string name, string text)
    {
        if (!name.EndsWith(".json", StringComparison.Ordinal))
        {
            return string.Join('\n', text.Split('\n').Where(l => l.Length > 0).Order(StringComparer.Ordinal));
        }

        var document = JsonNode.Parse(text)!.AsObject();
        if (document["keyed"] is null)
        {
            var images = document["images"]!.AsArray().ToDictionary(i => i!["id"]!.GetValue<long>(), i => i!["file_name"]!.GetValue<string>());
            document["annotations"] = new JsonArray([.. document["annotations"]!.AsArray().Select(a =>
            {
                var copy = a!.DeepClone().AsObject();
                copy["image_id"] = images[copy["image_id"]!.GetValue<long>()];
                copy.Remove("id");
                return (JsonNode)copy;
            })]);
        }

        var imageRows = document["images"]!.AsArray().Select(i =>
        {
            var copy = i!.DeepClone().AsObject();
            copy.Remove("id");
            return copy.ToJsonString();
        }).Order(StringComparer.Ordinal);
        var annotationRows = document["annotations"]!.AsArray().Select(a => a!.ToJsonString()).Order(StringComparer.Ordinal);
        return string.Join('\n', [.. imageRows, "--", .. annotationRows, "--", document["categories"]!.ToJsonString()]);
    }
}
