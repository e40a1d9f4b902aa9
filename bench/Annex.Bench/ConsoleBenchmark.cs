using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Annex.Bench;

/// <summary><c>console</c>: the latency of the routes a browser console calls on a generated workload, each request
/// timed from send to the last byte of the answer, after one warm-up request that is not counted.</summary>
public static class ConsoleBenchmark
{
    public sealed record Row(string Request, string Answer, LatencyStats Stats);

    private sealed record Case(string Name, Func<HttpClient, CancellationToken, Task<HttpRequestMessage>> Request);

    public static async Task<List<Row>> RunAsync(string folder, int runs, IReadOnlyList<string> hostSettings, TextWriter log, CancellationToken ct)
    {
        await using var server = await BenchServer.StartAsync(folder, hostSettings, ct);
        using var http = server.CreateClient();
        var workload = server.Workload;
        var rows = new List<Row>();
        foreach (var test in Cases(workload))
        {
            var times = new List<double>(runs);
            string answer = string.Empty;
            for (var run = 0; run <= runs; run++)
            {
                using var request = await test.Request(http, ct);
                var clock = Stopwatch.StartNew();
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                clock.Stop();
                if (!response.IsSuccessStatusCode)
                {
                    throw new BenchException($"{test.Name} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
                }

                answer = Summary(response, body);
                if (run > 0)
                {
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
            }

            var stats = LatencyStats.From(times);
            log.WriteLine($"{test.Name}: p50 {stats.P50:F1} ms ({answer})");
            rows.Add(new Row(test.Name, answer, stats));
        }

        return rows;
    }

    private static IEnumerable<Case> Cases(Workload workload)
    {
        var datasets = workload.Datasets.Select(d => d.ToString("D")).ToArray();
        var project = workload.Project.ToString("D");
        Case Preview(string name, string[] sets, string[] projects, string? filter) => new(
            "preview: " + name,
            (_, _) => Task.FromResult(Post("/api/v1/exports/preview/", new JsonObject
            {
                ["name"] = "bench preview",
                ["format"] = "avala-json-external",
                ["datasets"] = new JsonArray([.. sets.Select(d => (JsonNode)d)]),
                ["projects"] = new JsonArray([.. projects.Select(p => (JsonNode)p)]),
                ["slices"] = new JsonArray(),
                ["filter_query_string"] = filter,
            })));

        yield return Preview($"{datasets.Length} datasets", datasets, [], null);
        yield return Preview("1 dataset", datasets[..1], [], null);
        yield return Preview("the project", [], [project], null);
        yield return Preview($"{datasets.Length} datasets and the project", datasets, [project], null);
        yield return Preview("1 dataset, filter metadata.weather = \"rain\"", datasets[..1], [], "metadata.weather = \"rain\"");

        // One filter of each kind the language has, on every task (no slice: the workload has none).
        var middle = (workload.GeneratedAt - TimeSpan.FromSeconds(workload.Tasks / 2)).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        string[] filters =
        [
            "label = \"person\"",
            "label ~ \"traffic_*\"",
            "type = \"polygon\"",
            "attributes.occluded = true",
            "attributes.truncated != false",
            "attributes.occluded EXISTS",
            "metadata.weather = \"rain\"",
            "ref_id ~ \"frame_0000*\"",
            $"dataset = \"{datasets[0]}\"",
            $"project = \"{project}\"",
            $"created_at >= \"{middle}\"",
            "annotation_count > 3",
            "label = \"person\" AND metadata.weather = \"rain\"",
        ];
        foreach (var filter in filters)
        {
            yield return Preview($"{datasets.Length} datasets, filter {filter.Replace(middle, "<middle>", StringComparison.Ordinal).Replace(datasets[0], "<uid>", StringComparison.Ordinal).Replace(project, "<uid>", StringComparison.Ordinal)}", datasets, [], filter);
        }

        yield return Preview("the project, filter label = \"person\"", [], [project], "label = \"person\"");
        yield return Preview("the project, filter attributes.occluded = true", [], [project], "attributes.occluded = true");
        yield return Preview("the project, filter label = \"person\" AND attributes.occluded = true", [], [project], "label = \"person\" AND attributes.occluded = true");

        var last = datasets[^1];
        var deep = Annex.Server.Infrastructure.Http.Paging.Encode(new Annex.Server.Infrastructure.Http.IdCursor(workload.Tasks - (workload.Tasks / datasets.Length / 2), false));
        yield return new("gallery: first page of 50", (_, _) => Task.FromResult(Get($"/api/v1/datasets/{last}/gallery/?limit=50")));
        yield return new("gallery: page of 50 in the middle", (_, _) => Task.FromResult(Get($"/api/v1/datasets/{last}/gallery/?limit=50&cursor={deep}")));
        yield return new("gallery: page of 50, filter metadata.weather = \"rain\"", (_, _) => Task.FromResult(Get($"/api/v1/datasets/{last}/gallery/?limit=50&cursor={deep}&filter={Uri.EscapeDataString("metadata.weather = \"rain\"")}")));
        yield return new("gallery: page of 50, filter label = \"person\"", (_, _) => Task.FromResult(Get($"/api/v1/datasets/{last}/gallery/?limit=50&cursor={deep}&filter={Uri.EscapeDataString("label = \"person\"")}")));
        yield return new("gallery: one item", async (http, ct) =>
        {
            var page = JsonNode.Parse(await http.GetStringAsync($"/api/v1/datasets/{last}/gallery/?limit=1&cursor={deep}", ct))!;
            return Get($"/api/v1/datasets/{last}/gallery/{page["results"]![0]!["uid"]!.GetValue<string>()}/");
        });
    }

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Post(string path, JsonObject body) =>
        new(HttpMethod.Post, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };

    /// <summary>What came back, in a few words: the counts of a preview, the size of anything else.</summary>
    private static string Summary(HttpResponseMessage response, byte[] body)
    {
        if (response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            var json = JsonNode.Parse(body);
            if (json?["total_task_count"] is { } tasks)
            {
                return $"{MarkdownTable.N(json["total_item_count"]!.GetValue<long>())} items, {MarkdownTable.N(tasks.GetValue<long>())} tasks";
            }

            if (json?["results"] is JsonArray results)
            {
                return $"{results.Count} items, {MarkdownTable.N(body.Length)} bytes";
            }
        }

        return $"{MarkdownTable.N(body.Length)} bytes";
    }

    public static string Table(IReadOnlyList<Row> rows) => MarkdownTable.Render(
        ["request", "answer", "runs", "min ms", "p50 ms", "max ms"],
        [.. rows.Select(r => (IReadOnlyList<string>)[r.Request, r.Answer, MarkdownTable.N(r.Stats.Count), MarkdownTable.Ms(r.Stats.Min), MarkdownTable.Ms(r.Stats.P50), MarkdownTable.Ms(r.Stats.Max)])]);
}
