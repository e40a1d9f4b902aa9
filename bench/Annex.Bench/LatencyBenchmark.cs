using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Annex.Bench;

/// <summary><c>latency</c>: how long a new export waits in the queue when the worker is idle. Exports of a
/// tiny dedicated dataset are created one at a time; each is timed from its POST to the first poll that
/// sees it past <c>requested</c>, and the next is created only once it is <c>exported</c>.</summary>
public static class LatencyBenchmark
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);
    private const int ProbeItems = 10;

    public static async Task<LatencyStats> RunAsync(string folder, int exports, IReadOnlyList<string> hostSettings, TextWriter log, CancellationToken ct)
    {
        await using var server = await BenchServer.StartAsync(folder, hostSettings, ct);
        using var http = server.CreateClient();
        var dataset = await CreateProbeDatasetAsync(http, server.Workload.Project, ct);
        log.WriteLine($"Probe dataset {dataset}: {ProbeItems} items, one result each in project {server.Workload.Project}.");

        // Warm-up, not counted: JIT, the first EF queries and the first claim.
        var warmUp = await TimeOneAsync(http, dataset, "latency warm-up", ct);
        log.WriteLine($"warm-up: {warmUp:F1} ms (not counted)");

        var latencies = new List<double>(exports);
        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= exports; i++)
        {
            latencies.Add(await TimeOneAsync(http, dataset, $"latency {i}", ct));
            if (i % 50 == 0 || i == exports)
            {
                var so = LatencyStats.From(latencies);
                log.WriteLine($"{i}/{exports} exports ({clock.Elapsed.TotalSeconds:F0} s): p50 {so.P50:F1} ms, p90 {so.P90:F1} ms, p99 {so.P99:F1} ms, max {so.Max:F1} ms");
            }
        }

        return LatencyStats.From(latencies);
    }

    private static async Task<Guid> CreateProbeDatasetAsync(HttpClient http, Guid project, CancellationToken ct)
    {
        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var dataset = await PostAsync(http, "/api/v1/datasets/", new JsonObject { ["name"] = $"latency probe {stamp}" }, ct);
        var datasetUid = dataset["uid"]!.GetValue<Guid>();

        var items = new JsonArray();
        for (var i = 1; i <= ProbeItems; i++)
        {
            items.Add(new JsonObject { ["ref_id"] = $"probe_{stamp}_{i:D2}", ["width"] = 100, ["height"] = 100 });
        }

        var created = await PostAsync(http, $"/api/v1/datasets/{datasetUid:D}/items/", new JsonObject { ["items"] = items }, ct);
        var results = new JsonArray();
        foreach (var item in created["items"]!.AsArray())
        {
            results.Add(new JsonObject { ["dataset_item_uid"] = item!["uid"]!.GetValue<string>(), ["annotations"] = new JsonArray() });
        }

        await PostAsync(http, $"/api/v1/projects/{project:D}/results/", new JsonObject { ["results"] = results }, ct);
        return datasetUid;
    }

    private static async Task<double> TimeOneAsync(HttpClient http, Guid dataset, string name, CancellationToken ct)
    {
        var request = new JsonObject
        {
            ["name"] = name,
            ["format"] = "avala-json-external",
            ["datasets"] = new JsonArray(JsonValue.Create(dataset.ToString("D"))),
            ["projects"] = new JsonArray(),
            ["slices"] = new JsonArray(),
        };

        var clock = Stopwatch.StartNew();
        var uid = (await PostAsync(http, "/api/v1/exports/", request, ct))["uid"]!.GetValue<string>();
        double? latency = null;
        while (true)
        {
            var export = (await http.GetFromJsonAsync<JsonNode>($"/api/v1/exports/{uid}/", ct))!;
            var status = export["status"]!.GetValue<string>();
            if (status != "requested")
            {
                latency ??= clock.Elapsed.TotalMilliseconds;
            }

            if (status == "exported")
            {
                return latency!.Value;
            }

            if (status is "failed" or "aborted")
            {
                throw new BenchException($"Export {uid} {status}: {export["error"]?.GetValue<string>() ?? "(no error given)"}");
            }

            await Task.Delay(PollInterval, ct);
        }
    }

    internal static async Task<JsonNode> PostAsync(HttpClient http, string path, JsonObject body, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(path, body, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchException($"POST {path} answered {(int)response.StatusCode}: {text}");
        }

        return JsonNode.Parse(text)!;
    }

    public static string Table(LatencyStats s) => MarkdownTable.Render(
        ["exports", "min ms", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        [[MarkdownTable.N(s.Count), MarkdownTable.Ms(s.Min), MarkdownTable.Ms(s.P50), MarkdownTable.Ms(s.P90), MarkdownTable.Ms(s.P99), MarkdownTable.Ms(s.Max)]]);

    public static string Json(LatencyStats s) => MarkdownTable.JsonLine(new
    {
        exports = s.Count,
        min_ms = MarkdownTable.Round(s.Min),
        p50_ms = MarkdownTable.Round(s.P50),
        p90_ms = MarkdownTable.Round(s.P90),
        p99_ms = MarkdownTable.Round(s.P99),
        max_ms = MarkdownTable.Round(s.Max),
    });
}
