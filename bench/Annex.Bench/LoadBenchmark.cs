using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Annex.Bench;

public sealed record LoadSettings(string Folder, int ExportsInDb, int Seconds, int Connections, IReadOnlyList<string> HostSettings);

/// <summary>One endpoint under load. Latency percentiles cover the requests answered 200.</summary>
public sealed record EndpointResult(string Endpoint, long Requests, long Errors, double Seconds, LatencyStats Latency)
{
    public double RequestsPerSecond => Requests / Seconds;
}

/// <summary><c>load</c>: latency of the exports API while an export runs. Half the connections list
/// exports (default page), half fetch single bulk exports by uid, for a fixed time.</summary>
public static class LoadBenchmark
{
    private const string ListEndpoint = "GET /api/v1/exports/";
    private const string DetailEndpoint = "GET /api/v1/exports/{uid}/";

    public static async Task<List<EndpointResult>> RunAsync(LoadSettings settings, TextWriter log, CancellationToken ct)
    {
        BulkExports.Ensure(settings.Folder, settings.ExportsInDb, log);
        var uids = BulkExports.SampleUids(settings.Folder, 4000);
        if (uids.Count == 0)
        {
            throw new BenchException("No bulk exports to fetch; use --exports-in-db of at least 1.");
        }

        await using var server = await BenchServer.StartAsync(settings.Folder, settings.HostSettings, ct);
        using var http = server.CreateClient(settings.Connections + 2);

        // A few requests of each kind first, not counted: JIT and the first EF queries.
        for (var i = 0; i < 20; i++)
        {
            (await http.GetAsync("/api/v1/exports/", ct)).Dispose();
            (await http.GetAsync($"/api/v1/exports/{uids[i % uids.Count]:D}/", ct)).Dispose();
        }

        // The export that runs during the load: the whole workload.
        var export = new JsonObject
        {
            ["name"] = "load background export",
            ["format"] = "avala-json-external",
            ["datasets"] = new JsonArray([.. server.Workload.Datasets.Select(d => JsonValue.Create(d.ToString("D")))]),
            ["projects"] = new JsonArray(),
            ["slices"] = new JsonArray(),
        };
        var exportUid = (await LatencyBenchmark.PostAsync(http, "/api/v1/exports/", export, ct))["uid"]!.GetValue<string>();
        log.WriteLine($"Background export {exportUid} of {server.Workload.Tasks} tasks created; waiting until it is exporting.");
        await WaitForStatusAsync(http, exportUid, s => s != "requested", ct);

        log.WriteLine($"Load: {settings.Connections} connections for {settings.Seconds} s against {server.Address}.");
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(settings.Seconds);
        var loops = Enumerable.Range(0, settings.Connections).Select(i => Task.Run(
            () => i % 2 == 0
                ? LoopAsync(http, _ => "/api/v1/exports/", clock, deadline, ct)
                : LoopAsync(http, r => $"/api/v1/exports/{uids[r.Next(uids.Count)]:D}/", clock, deadline, ct),
            ct)).ToArray();
        var outcomes = await Task.WhenAll(loops);
        var elapsed = clock.Elapsed.TotalSeconds;

        var progress = await http.GetFromJsonAsync<JsonNode>($"/api/v1/exports/{exportUid}/", ct);
        var status = progress!["status"]!.GetValue<string>();
        log.WriteLine($"Background export after the load: {status}, {progress["exported_task_count"]} of {progress["total_task_count"]} tasks.");
        if (status is "requested" or "exporting")
        {
            // Leave no export behind for the next server start to take over.
            (await http.PostAsync($"/api/v1/exports/{exportUid}/abort/", null, ct)).Dispose();
            await WaitForStatusAsync(http, exportUid, s => s is not ("requested" or "exporting"), ct);
            log.WriteLine("Background export aborted.");
        }

        return
        [
            Merge(ListEndpoint, outcomes.Where((_, i) => i % 2 == 0), elapsed),
            Merge(DetailEndpoint, outcomes.Where((_, i) => i % 2 == 1), elapsed),
        ];
    }

    private sealed record LoopOutcome(List<double> Latencies, long Requests, long Errors);

    private static async Task<LoopOutcome> LoopAsync(HttpClient http, Func<Random, string> path, Stopwatch clock, TimeSpan deadline, CancellationToken ct)
    {
        var random = new Random();
        var latencies = new List<double>(1 << 14);
        long requests = 0, errors = 0;
        while (clock.Elapsed < deadline)
        {
            var start = Stopwatch.GetTimestamp();
            requests++;
            try
            {
                using var response = await http.GetAsync(path(random), HttpCompletionOption.ResponseContentRead, ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                else
                {
                    errors++;
                }
            }
            catch (HttpRequestException)
            {
                errors++;
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // The client's timeout.
                errors++;
            }
        }

        return new LoopOutcome(latencies, requests, errors);
    }

    private static EndpointResult Merge(string endpoint, IEnumerable<LoopOutcome> outcomes, double seconds)
    {
        var list = outcomes.ToList();
        return new EndpointResult(endpoint, list.Sum(o => o.Requests), list.Sum(o => o.Errors), seconds, LatencyStats.From(list.SelectMany(o => o.Latencies)));
    }

    private static async Task WaitForStatusAsync(HttpClient http, string uid, Func<string, bool> done, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var export = await http.GetFromJsonAsync<JsonNode>($"/api/v1/exports/{uid}/", ct);
            var status = export!["status"]!.GetValue<string>();
            if (done(status))
            {
                return;
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new BenchException($"Export {uid} still {status} after 2 minutes.");
            }

            await Task.Delay(20, ct);
        }
    }

    public static string Table(IReadOnlyList<EndpointResult> rows) => MarkdownTable.Render(
        ["endpoint", "requests", "errors", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        [.. rows.Select(r => (IReadOnlyList<string>)
        [
            r.Endpoint,
            MarkdownTable.N(r.Requests),
            MarkdownTable.N(r.Errors),
            MarkdownTable.N((long)Math.Round(r.RequestsPerSecond)),
            MarkdownTable.Ms(r.Latency.P50),
            MarkdownTable.Ms(r.Latency.P90),
            MarkdownTable.Ms(r.Latency.P99),
            MarkdownTable.Ms(r.Latency.Max),
        ])]);

    public static string Json(IReadOnlyList<EndpointResult> rows) => string.Concat(rows.Select(r => MarkdownTable.JsonLine(new
    {
        endpoint = r.Endpoint,
        requests = r.Requests,
        errors = r.Errors,
        seconds = Math.Round(r.Seconds, 2),
        requests_per_s = Math.Round(r.RequestsPerSecond, 1),
        p50_ms = MarkdownTable.Round(r.Latency.P50),
        p90_ms = MarkdownTable.Round(r.Latency.P90),
        p99_ms = MarkdownTable.Round(r.Latency.P99),
        max_ms = MarkdownTable.Round(r.Latency.Max),
    })));
}
