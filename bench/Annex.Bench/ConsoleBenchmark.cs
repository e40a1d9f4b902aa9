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
        yield return Preview($"{datasets.Length} datasets, filter label = \"person\"", datasets, [], "label = \"person\"");
    }

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
