using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Filtering;

/// <summary>A small, hand-made dataset where each filter's answer is known by reading it.</summary>
public sealed class FilterWorld : IAsyncLifetime
{
    public AnnexFactory Factory { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public Dictionary<string, string> Uids { get; } = [];

    public Dictionary<string, string> RefIdOfItem { get; } = [];

    private static readonly (string Dataset, string RefId, string Metadata)[] Items =
    [
        ("D1", "frame_001", """{"time": "night", "weather": "rain", "speed": 80, "camera": {"model": "front-left"}}"""),
        ("D1", "frame_002", """{"time": "day", "weather": "clear", "speed": 30.5}"""),
        ("D1", "frame_003", """{"time": "night", "reviewer": null}"""),
        ("D1", "frame_004", """{"time": "day", "flag": true}"""),
        ("D1", "frame_005", """{}"""),
        ("D1", "frame_006", """{"time": "dusk", "weather": "fog", "flag": false}"""),
        ("D2", "img_01", """{"time": "night", "split": "test"}"""),
        ("D2", "img_02", """{"time": "day", "split": "train"}"""),
        ("D2", "img_[3]", """{"split": "val"}"""),
    ];

    private static string Box(string label, string attributes) =>
        $$"""{"label": "{{label}}", "type": "bounding_box", "coordinates": {"x": 1, "y": 2, "width": 3, "height": 4}, "attributes": {{attributes}}}""";

    private static readonly Dictionary<string, string> Annotations = new()
    {
        ["frame_001"] = $"[{Box("car", """{"occluded": true}""")}, {Box("pedestrian", """{"occluded": false}""")}]",
        ["frame_002"] = """[{"label": "car", "type": "polygon", "coordinates": {"vertices": [[0, 0], [4, 0], [4, 4]]}, "attributes": {}}]""",
        ["frame_003"] = $"[{Box("truck", """{"confidence": 0.9}""")}]",
        ["frame_004"] = $"[{Box("pedestrian", """{"confidence": 0.5}""")}]",
        ["frame_005"] = "[]",
        ["frame_006"] = $$$"""[{{{Box("car", """{"occluded": false}""")}}}, {{{Box("car", """{"occluded": false}""")}}}, {"label": "truck", "type": "polygon", "coordinates": {"vertices": [[0, 0], [4, 0], [4, 4]]}, "attributes": {}}]""",
        ["img_01"] = $"[{Box("pedestrian", """{"occluded": true}""")}]",
        ["img_02"] = """[{"label": "car", "type": "classification", "coordinates": null, "attributes": {"weather": "rain"}}]""",
        ["img_[3]"] = """[{"label": "truck", "type": "polyline", "coordinates": {"vertices": [[0, 0], [5, 5]]}, "attributes": {}}]""",
    };

    public async Task InitializeAsync()
    {
        var tenant = await Factory.CreateTenantAsync("Filters");
        Client = tenant.Http;
        Uids["D1"] = await Seed.DatasetAsync(Client, "D1");
        Uids["D2"] = await Seed.DatasetAsync(Client, "D2");
        Uids["P"] = await Seed.ProjectAsync(Client, "P");
        Uids["P2"] = await Seed.ProjectAsync(Client, "P2");
        foreach (var (dataset, refId, metadata) in Items)
        {
            var created = await Client.PostOkAsync($"/api/v1/datasets/{Uids[dataset]}/items/", JsonNode.Parse($$"""{"items": [{"ref_id": "{{refId.Replace("\"", "\\\"", StringComparison.Ordinal)}}", "metadata": {{metadata}}}]}""")!);
            var uid = created["items"]![0]!["uid"]!.GetValue<string>();
            Uids[refId] = uid;
            RefIdOfItem[uid] = refId;
            await Client.PostOkAsync($"/api/v1/projects/{Uids["P"]}/results/", JsonNode.Parse($$"""{"results": [{"dataset_item_uid": "{{uid}}", "annotations": {{Annotations[refId]}}}]}""")!);
        }

        await Client.PostOkAsync($"/api/v1/projects/{Uids["P2"]}/results/", JsonNode.Parse($$"""{"results": [{"dataset_item_uid": "{{Uids["frame_001"]}}", "annotations": [{{Box("car", "{}")}}]}]}""")!);
        Uids["S"] = (await Client.PostOkAsync("/api/v1/slices/", new { name = "S", items = new[] { Uids["frame_002"], Uids["img_01"] } }))["uid"]!.GetValue<string>();
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        Factory.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class FilterExportTests(FilterWorld world) : IClassFixture<FilterWorld>
{
    private const string All = "frame_001 frame_002 frame_003 frame_004 frame_005 frame_006 img_01 img_02 img_[3]";

    public static TheoryData<string, string> Filters => new()
    {
        { "label = \"car\"", "frame_001 frame_002 frame_006 img_02" },
        { "label != \"car\"", "frame_003 frame_004 frame_005 img_01 img_[3]" },
        { "label = \"car\" AND metadata.time = \"night\"", "frame_001" },
        { "NOT attributes.occluded = true", "frame_002 frame_003 frame_004 frame_005 frame_006 img_02 img_[3]" },
        { "attributes.occluded = false", "frame_001 frame_006" },
        { "type = \"polygon\"", "frame_002 frame_006" },
        { "type IN (\"polyline\", \"classification\")", "img_02 img_[3]" },
        { "annotation_count > 2", "frame_006" },
        { "annotation_count = 0", "frame_005" },
        { "annotation_count >= 1 AND annotation_count <= 1", "frame_002 frame_003 frame_004 img_01 img_02 img_[3]" },
        { "ref_id ~ \"frame_00*\"", "frame_001 frame_002 frame_003 frame_004 frame_005 frame_006" },
        { "ref_id ~ \"img_??\"", "img_01 img_02" },
        { "ref_id ~ \"img_[3]\"", "img_[3]" },
        { "ref_id ~ \"*_0?\"", "img_01 img_02" },
        { "ref_id IN (\"frame_001\", \"img_02\", \"nope\")", "frame_001 img_02" },
        { "ref_id = \"frame_004\"", "frame_004" },
        { "metadata.weather EXISTS", "frame_001 frame_002 frame_006" },
        { "metadata.reviewer EXISTS", "frame_003" },
        { "metadata.reviewer = null", All },
        { "metadata.reviewer != null", "" },
        { "metadata.speed >= 30.5", "frame_001 frame_002" },
        { "metadata.speed < 50", "frame_002" },
        { "metadata.speed = 80", "frame_001" },
        { "metadata.speed = \"80\"", "" },
        { "metadata.flag = true", "frame_004" },
        { "metadata.flag = false", "frame_006" },
        { "metadata.flag != true", "frame_001 frame_002 frame_003 frame_005 frame_006 img_01 img_02 img_[3]" },
        { "metadata.camera.model = \"front-left\"", "frame_001" },
        { "metadata.camera EXISTS AND NOT metadata.camera.lens EXISTS", "frame_001" },
        { "metadata.time IN (\"dusk\", \"day\")", "frame_002 frame_004 frame_006 img_02" },
        { "metadata.split ~ \"t*\"", "img_01 img_02" },
        { "attributes.confidence >= 0.8", "frame_003" },
        { "attributes.weather = \"rain\"", "img_02" },
        { "label = \"car\" OR label = \"truck\" AND metadata.time = \"night\"", "frame_001 frame_002 frame_003 frame_006 img_02" },
        { "(label = \"car\" OR label = \"truck\") AND metadata.time = \"night\"", "frame_001 frame_003" },
        { "NOT NOT label = \"truck\"", "frame_003 frame_006 img_[3]" },
        { "label = \"car\" and not metadata.time = \"night\"", "frame_002 frame_006 img_02" },
        { "created_at > \"2000-01-01\"", All },
        { "created_at < \"2000-01-01T00:00:00Z\" OR updated_at < \"2000-01-01T00:00:00+02:00\"", "" },
        { "label ~ \"*uc*\"", "frame_003 frame_006 img_[3]" },
    };

    private async Task<(List<string> Tasks, List<string> Items, JsonNode Export)> ExportAsync(string filter, string[]? projects = null)
    {
        var created = await world.Client.PostOkAsync("/api/v1/exports/", new
        {
            name = "filtered",
            format = "avala-json-external",
            datasets = new[] { world.Uids["D1"], world.Uids["D2"] },
            projects = projects ?? [world.Uids["P"]],
            slices = Array.Empty<string>(),
            filter_query_string = filter,
        });
        Assert.Equal(filter, created["filter_query_string"]!.GetValue<string>());
        var done = await Seed.WaitForAsync(world.Client, created["uid"]!.GetValue<string>(), ["exported", "failed"]);
        Assert.True(done["status"]!.GetValue<string>() == "exported", done.ToJsonString());
        using var document = Archives.ReadSingleJson(await Archives.DownloadAsync(world.Factory, done["download_url"]!.GetValue<string>()));
        var root = document.RootElement;
        Assert.Equal(filter, root.GetProperty("export_info").GetProperty("filter_query_string").GetString());
        var tasks = root.GetProperty("results").EnumerateArray().Select(r => world.RefIdOfItem[r.GetProperty("dataset_item_uid").GetString()!]).ToList();
        var items = root.GetProperty("datasets").EnumerateArray().SelectMany(d => d.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("ref_id").GetString()!).ToList();
        Assert.Equal(tasks.Count, done["total_task_count"]!.GetValue<long>());
        return (tasks, items, done);
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Each_construct_selects_the_expected_tasks(string filter, string expected)
    {
        var (tasks, items, _) = await ExportAsync(filter);
        var wanted = expected.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(wanted, tasks.Order(StringComparer.Ordinal).ToList());
        // The archive lists exactly the items of the kept tasks.
        Assert.Equal(wanted, items.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Uid_fields_select_by_dataset_project_and_slice()
    {
        var (byDataset, _, _) = await ExportAsync($"dataset = \"{world.Uids["D2"]}\"");
        Assert.Equal(["img_01", "img_02", "img_[3]"], byDataset.Order(StringComparer.Ordinal));

        var (bySlice, _, _) = await ExportAsync($"slice = \"{world.Uids["S"]}\"");
        Assert.Equal(["frame_002", "img_01"], bySlice.Order(StringComparer.Ordinal));

        var (notSlice, _, _) = await ExportAsync($"NOT slice IN (\"{world.Uids["S"]}\") AND dataset != \"{world.Uids["D1"]}\"");
        Assert.Equal(["img_02", "img_[3]"], notSlice.Order(StringComparer.Ordinal));

        var (byProject, _, export) = await ExportAsync($"project = \"{world.Uids["P2"]}\"", projects: []);
        Assert.Equal(["frame_001"], byProject);
        Assert.Equal(1, export["total_task_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task The_longest_filters_the_parser_accepts_still_export()
    {
        // 1,000 IN values, and a chain of several hundred conditions: both deeper than SQLite's
        // expression limit if they were sent to it as one flat chain.
        var values = string.Join(",", Enumerable.Range(0, 999).Select(n => $"\"x{n}\"").Append("\"frame_004\""));
        var (inList, _, _) = await ExportAsync($"ref_id IN ({values})");
        Assert.Equal(["frame_004"], inList);

        var chain = string.Join(" OR ", Enumerable.Range(0, 500).Select(n => n == 250 ? "ref_id = \"img_02\"" : $"ref_id = \"{n}\""));
        Assert.True(chain.Length <= 10_000);
        var (longChain, _, _) = await ExportAsync(chain);
        Assert.Equal(["img_02"], longChain);
    }

    [Theory]
    [InlineData("lable = \"car\"", "Unknown field \"lable\" at position 1; did you mean \"label\"?")]
    [InlineData("label =", "Expected a value after \"=\" at position 8, found end of input.")]
    [InlineData("label = \"car", "Unterminated string starting at position 9.")]
    [InlineData("metadata.time = \"ni\\u0000ght\"", "A string cannot hold the NUL character (U+0000), found at position 20.")]
    [InlineData("created_at > \"yesterday\"", "\"created_at\" needs an ISO 8601 timestamp such as \"2025-01-01T00:00:00Z\", got \"yesterday\" at position 14.")]
    public async Task A_bad_filter_is_a_400_at_creation(string filter, string message)
    {
        var (status, body) = await world.Client.PostJsonAsync("/api/v1/exports/", new
        {
            name = "bad filter",
            format = "avala-json-external",
            datasets = new[] { world.Uids["D1"] },
            projects = Array.Empty<string>(),
            slices = Array.Empty<string>(),
            filter_query_string = filter,
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson(new JsonObject { ["filter_query_string"] = new JsonArray(message) }.ToJsonString(), body);
    }
}
