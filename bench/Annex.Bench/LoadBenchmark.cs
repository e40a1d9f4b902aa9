using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Annex.Bench;

/// <summary><see cref="Rps"/> above 0 sends at that fixed rate (open loop) instead of keeping
/// <see cref="Connections"/> requests outstanding (closed loop).</summary>
public sealed record LoadSettings(string Folder, int ExportsInDb, int Seconds, int Connections, IReadOnlyList<string> HostSettings, int Rps = 0, bool RateLimiting = true, bool Breakdown = true,
    LoadServer Server = LoadServer.InProcess, int WorkerNice = 10, bool BackgroundExport = true, int WarmupSeconds = 15);

/// <summary>Where the server runs: in the bench's process (its layers can be timed), as the server program in a
/// process of its own (<c>--role all</c>), or as two: the API (<c>--role api</c>) and the export worker
/// (<c>--role worker</c>, under <c>nice</c>), as a deployment that keeps exports from slowing the API would.</summary>
public enum LoadServer
{
    InProcess,
    Process,
    ApiAndWorker,
}

/// <summary>One endpoint under load. Latency percentiles cover the requests answered 200.</summary>
public sealed record EndpointResult(string Endpoint, long Requests, long Errors, double Seconds, LatencyStats Latency)
{
    public double RequestsPerSecond => Requests / Seconds;
}

/// <summary>Where an endpoint's time went: per layer the mean, p50 and p99 over the requests matched to the server's
/// timing, and the mean over the slowest 1% of them (by client latency).</summary>
public sealed record LayerBreakdown(string Endpoint, int Matched, long Answered, IReadOnlyList<(string Layer, double Mean, double P50, double P99, double SlowestMean)> Rows, double KeyLookupMean);

/// <summary>How a run went, besides the endpoints: the mode, how late an open loop sent, and the layers.</summary>
public sealed record LoadRun(string Mode, IReadOnlyList<EndpointResult> Endpoints, LatencyStats? SendLag, IReadOnlyList<LayerBreakdown> Breakdown, CpuUse? Cpu = null);

/// <summary>CPU seconds each process used during the load (the server's processes run on their own).</summary>
public sealed record CpuUse(double Bench, double Api, double? Worker, long Requests)
{
    /// <summary>The API process's CPU per answered request, in ms.</summary>
    public double ApiMsPerRequest => Requests == 0 ? double.NaN : Api * 1000 / Requests;
}

/// <summary><c>load</c>: latency of the exports API while an export runs. Half the requests list exports (default
/// page), half fetch single bulk exports by uid, for a fixed time: from a fixed number of connections each sending
/// its next request when the last is answered (closed loop), or at a fixed rate whatever the answers do (open loop,
/// <c>--rps</c>). With the breakdown on, each request's server-side time is split by layer (<see cref="ServerTiming"/>).</summary>
public static class LoadBenchmark
{
    private const string ListEndpoint = "GET /api/v1/exports/";
    private const string DetailEndpoint = "GET /api/v1/exports/{uid}/";

    /// <summary>Limits far above any rate this bench reaches, so the limiter runs (and is timed) but never refuses.</summary>
    private static readonly string[] GenerousRateLimits =
    [
        "RateLimiting:Enabled=true",
        "RateLimiting:Reads:PermitLimit=100000000",
        "RateLimiting:Reads:BurstLimit=10000000",
    ];

    public static async Task<LoadRun> RunAsync(LoadSettings settings, TextWriter log, CancellationToken ct)
    {
        BulkExports.Ensure(settings.Folder, settings.ExportsInDb, log);
        var uids = BulkExports.SampleUids(settings.Folder, 4000);
        if (uids.Count == 0)
        {
            throw new BenchException("No bulk exports to fetch; use --exports-in-db of at least 1.");
        }

        var inProcess = settings.Server == LoadServer.InProcess;
        using var timing = settings.Breakdown && inProcess ? new ServerTiming() : null;
        IReadOnlyList<string> hostSettings = settings.RateLimiting ? [.. GenerousRateLimits, .. settings.HostSettings] : settings.HostSettings;
        var workload = Workload.TryRead(settings.Folder)
            ?? throw new BenchException($"{settings.Folder} holds no complete workload; run `generate` first.");
        await using var running = await RunningServer.StartAsync(settings, hostSettings, timing, ct);
        using var http = CreateClient(running.Address, workload.ApiKey, settings.Rps > 0 ? 512 : settings.Connections + 2);

        // Load that is not counted first: the runtime compiles the request path's methods again, optimized, only once
        // they have run for a while, and with both cores busy that takes seconds; a server that has been up for a
        // while answers with the optimized code.
        log.WriteLine($"Warm-up: {settings.WarmupSeconds} s of requests, not counted.");
        var warmUntil = Stopwatch.StartNew();
        var warmLoops = Enumerable.Range(0, Math.Max(2, Math.Min(settings.Connections, 16))).Select(i => Task.Run(async () =>
        {
            var random = new Random(i);
            do
            {
                var path = i % 2 == 0 ? "/api/v1/exports/" : $"/api/v1/exports/{uids[random.Next(uids.Count)]:D}/";
                (await http.GetAsync(path, ct)).Dispose();
            }
            while (warmUntil.Elapsed < TimeSpan.FromSeconds(settings.WarmupSeconds));
        }, ct));
        await Task.WhenAll(warmLoops);

        // The export that runs during the load: the whole workload.
        var export = new JsonObject
        {
            ["name"] = "load background export",
            ["format"] = "avala-json-external",
            ["datasets"] = new JsonArray([.. workload.Datasets.Select(d => JsonValue.Create(d.ToString("D")))]),
            ["projects"] = new JsonArray(),
            ["slices"] = new JsonArray(),
        };
        string? exportUid = null;
        if (settings.BackgroundExport)
        {
            exportUid = (await LatencyBenchmark.PostAsync(http, "/api/v1/exports/", export, ct))["uid"]!.GetValue<string>();
            log.WriteLine($"Background export {exportUid} of {workload.Tasks} tasks created; waiting until it is exporting.");
            await WaitForStatusAsync(http, exportUid, s => s != "requested", ct);
        }

        var mode = settings.Rps > 0
            ? $"open loop, {settings.Rps} requests/s"
            : $"closed loop, {settings.Connections} connections";
        log.WriteLine($"Load: {mode} for {settings.Seconds} s against {running.Address} ({running.Description}); rate limiting {(settings.RateLimiting ? "on (limits raised)" : "off")}, breakdown {(timing is not null ? "on" : "off")}.");
        string PathOf(int endpoint, Random random) => endpoint == 0 ? "/api/v1/exports/" : $"/api/v1/exports/{uids[random.Next(uids.Count)]:D}/";
        var cpuBefore = running.Cpu();
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(settings.Seconds);
        List<Sample> samples;
        LatencyStats? lag = null;
        if (settings.Rps > 0)
        {
            var (sent, lateness) = await OpenLoopAsync(http, PathOf, settings.Rps, deadline, ct);
            samples = sent;
            lag = LatencyStats.From(lateness);
        }
        else
        {
            var nextId = 0L;
            var loops = Enumerable.Range(0, settings.Connections).Select(i => Task.Run(
                () => ClosedLoopAsync(http, i % 2, PathOf, () => Interlocked.Increment(ref nextId), clock, deadline, ct), ct)).ToArray();
            samples = [.. (await Task.WhenAll(loops)).SelectMany(s => s)];
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        var cpuAfter = running.Cpu();
        if (exportUid is not null)
        {
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
        }

        string[] names = [ListEndpoint, DetailEndpoint];
        var endpoints = names.Select((name, e) =>
        {
            var mine = samples.Where(s => s.Endpoint == e).ToList();
            return new EndpointResult(name, mine.Count, mine.Count(s => !s.Ok), elapsed, LatencyStats.From(mine.Where(s => s.Ok).Select(s => s.Ms)));
        }).ToList();
        List<LayerBreakdown> breakdown = timing is null ? [] : names.Select((name, e) => Breakdown(name, samples.Where(s => s.Endpoint == e && s.Ok).ToList(), timing)).ToList();
        var cpu = inProcess ? null : new CpuUse(
            cpuAfter.Bench - cpuBefore.Bench,
            cpuAfter.Api - cpuBefore.Api,
            cpuAfter.Worker - cpuBefore.Worker,
            samples.Count(s => s.Ok));
        return new LoadRun(mode, endpoints, lag, breakdown, cpu);
    }

    private static HttpClient CreateClient(Uri address, string apiKey, int connections)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Add("X-Avala-Api-Key", apiKey);
        return http;
    }

    /// <summary>The server under load, wherever <see cref="LoadSettings.Server"/> puts it.</summary>
    private sealed class RunningServer : IAsyncDisposable
    {
        private BenchServer? _inProcess;
        private ServerProcess? _api;
        private ServerProcess? _worker;

        public Uri Address { get; private init; } = null!;

        public string Description { get; private init; } = "";

        public static async Task<RunningServer> StartAsync(LoadSettings settings, IReadOnlyList<string> hostSettings, ServerTiming? timing, CancellationToken ct)
        {
            if (settings.Server == LoadServer.InProcess)
            {
                var server = await BenchServer.StartAsync(settings.Folder, hostSettings, timing is null ? null : ServerTiming.Install, ct);
                return new RunningServer { _inProcess = server, Address = server.Address, Description = "server in the bench's process" };
            }

            // As BenchServer sets it up, on the command line of the server program.
            List<string> arguments =
            [
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:Microsoft.EntityFrameworkCore=Warning",
                "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
                "--RateLimiting:Enabled=false",
                .. hostSettings.Select(s => $"--{s}"),
            ];
            if (settings.Server == LoadServer.Process)
            {
                var all = await ServerProcess.StartAsync(settings.Folder, arguments, nice: 0, waitForKey: false, ct);
                return new RunningServer { _api = all, Address = all.Address, Description = "server program in its own process" };
            }

            var api = await ServerProcess.StartAsync(settings.Folder, [.. arguments, "--role", "api"], nice: 0, waitForKey: false, ct);
            try
            {
                var worker = await ServerProcess.StartAsync(settings.Folder, [.. arguments, "--role", "worker"], settings.WorkerNice, waitForKey: false, ct);
                return new RunningServer
                {
                    _api = api,
                    _worker = worker,
                    Address = api.Address,
                    Description = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"API process, and the worker in another under nice {settings.WorkerNice}"),
                };
            }
            catch
            {
                await api.DisposeAsync();
                throw;
            }
        }

        /// <summary>CPU seconds used so far by the bench's process, the API's (or the whole server's) and the worker's.</summary>
        public (double Bench, double Api, double? Worker) Cpu() =>
            (Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, _api?.CpuTime().TotalSeconds ?? double.NaN, _worker?.CpuTime().TotalSeconds);

        public async ValueTask DisposeAsync()
        {
            if (_inProcess is not null)
            {
                await _inProcess.DisposeAsync();
            }

            if (_worker is not null)
            {
                await _worker.DisposeAsync();
            }

            if (_api is not null)
            {
                await _api.DisposeAsync();
            }
        }
    }

    /// <summary>One request as the client saw it, under the id it sent in <see cref="ServerTiming.RequestHeader"/>.</summary>
    private sealed record Sample(long Id, int Endpoint, double Ms, bool Ok);

    private static async Task<Sample> SendAsync(HttpClient http, long id, int endpoint, string path, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add(ServerTiming.RequestHeader, id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            return new Sample(id, endpoint, Stopwatch.GetElapsedTime(start).TotalMilliseconds, response.StatusCode == HttpStatusCode.OK);
        }
        catch (HttpRequestException)
        {
            return new Sample(id, endpoint, Stopwatch.GetElapsedTime(start).TotalMilliseconds, false);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            // The client's timeout.
            return new Sample(id, endpoint, Stopwatch.GetElapsedTime(start).TotalMilliseconds, false);
        }
    }

    private static async Task<List<Sample>> ClosedLoopAsync(HttpClient http, int endpoint, Func<int, Random, string> path, Func<long> nextId, Stopwatch clock, TimeSpan deadline, CancellationToken ct)
    {
        var random = new Random();
        var samples = new List<Sample>(1 << 14);
        while (clock.Elapsed < deadline)
        {
            samples.Add(await SendAsync(http, nextId(), endpoint, path(endpoint, random), ct));
        }

        return samples;
    }

    /// <summary>Sends request n at n / rate seconds, alternating the endpoints, without waiting for answers; each
    /// request is timed from when it was really sent, and how late that was (the timer, a busy core) is returned too.</summary>
    private static async Task<(List<Sample> Samples, List<double> LagMs)> OpenLoopAsync(HttpClient http, Func<int, Random, string> path, int rps, TimeSpan duration, CancellationToken ct)
    {
        var random = new Random();
        var total = (long)(rps * duration.TotalSeconds);
        var ticksPerRequest = Stopwatch.Frequency / (double)rps;
        var pending = new List<Task<Sample>>((int)Math.Min(total, int.MaxValue));
        var lag = new List<double>(pending.Capacity);
        var start = Stopwatch.GetTimestamp();
        for (long n = 0; n < total; n++)
        {
            var due = start + (long)(n * ticksPerRequest);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                // Timers fire about a millisecond late at best; whatever is due by then goes out at once.
                await Task.Delay(TimeSpan.FromTicks(Math.Max(1, wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency)), ct);
            }

            lag.Add(Math.Max(0, Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency);
            var endpoint = (int)(n % 2);
            var id = n;
            var target = path(endpoint, random);
            pending.Add(Task.Run(() => SendAsync(http, id, endpoint, target, ct), ct));
        }

        return ([.. await Task.WhenAll(pending)], lag);
    }

    private static LayerBreakdown Breakdown(string endpoint, List<Sample> answered, ServerTiming timing)
    {
        var matched = answered
            .Select(s => timing.Take(s.Id) is { } t ? ServerTiming.Layers(t, s.Ms) : null)
            .OfType<LayerTimes>()
            .ToList();
        var slowest = matched.OrderByDescending(l => l.Client).Take(Math.Max(1, matched.Count / 100)).ToList();
        var rows = new List<(string, double, double, double, double)>();
        for (var i = 0; i < LayerTimes.Names.Length; i++)
        {
            var values = matched.Select(l => l.Parts[i]).ToList();
            var stats = LatencyStats.From(values);
            rows.Add((LayerTimes.Names[i], values.Count == 0 ? double.NaN : values.Average(), stats.P50, stats.P99, slowest.Count == 0 ? double.NaN : slowest.Average(l => l.Parts[i])));
        }

        var clientStats = LatencyStats.From(matched.Select(l => l.Client));
        rows.Add(("total as the client saw it", matched.Count == 0 ? double.NaN : matched.Average(l => l.Client), clientStats.P50, clientStats.P99, slowest.Count == 0 ? double.NaN : slowest.Average(l => l.Client)));
        return new LayerBreakdown(endpoint, matched.Count, answered.Count, rows, matched.Count == 0 ? double.NaN : matched.Average(l => l.KeyLookup));
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

    public static string Table(LoadRun run)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"{run.Mode}:");
        text.AppendLine();
        text.Append(MarkdownTable.Render(
            ["endpoint", "requests", "errors", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms"],
            [.. run.Endpoints.Select(r => (IReadOnlyList<string>)
            [
                r.Endpoint,
                MarkdownTable.N(r.Requests),
                MarkdownTable.N(r.Errors),
                MarkdownTable.N((long)Math.Round(r.RequestsPerSecond)),
                MarkdownTable.Ms(r.Latency.P50),
                MarkdownTable.Ms(r.Latency.P90),
                MarkdownTable.Ms(r.Latency.P99),
                MarkdownTable.Ms(r.Latency.Max),
            ])]));
        if (run.Cpu is { } cpu)
        {
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture,
                $"CPU during the load: server (API) {cpu.Api:F2} s, {cpu.ApiMsPerRequest:F3} ms per answered request; {(cpu.Worker is { } w ? $"worker {w:F2} s; " : "")}bench (load generator) {cpu.Bench:F2} s.");
        }

        if (run.SendLag is { } lag)
        {
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"Requests sent late by p50 {MarkdownTable.Ms(lag.P50)} ms, p99 {MarkdownTable.Ms(lag.P99)} ms, max {MarkdownTable.Ms(lag.Max)} ms (latencies above count from the real send).");
        }

        foreach (var b in run.Breakdown)
        {
            text.AppendLine();
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"Where the time goes, {b.Endpoint} ({MarkdownTable.N(b.Matched)} of {MarkdownTable.N(b.Answered)} answered requests matched to the server's timing; the key lookup query is {MarkdownTable.Ms(b.KeyLookupMean)} ms of the database's mean):");
            text.AppendLine();
            text.Append(MarkdownTable.Render(
                ["layer", "mean ms", "p50 ms", "p99 ms", "mean ms, slowest 1%"],
                [.. b.Rows.Select(r => (IReadOnlyList<string>)[r.Layer, Ms2(r.Mean), Ms2(r.P50), Ms2(r.P99), Ms2(r.SlowestMean)])]));
        }

        return text.ToString();
    }

    private static string Ms2(double value) => double.IsNaN(value) ? "-" : value.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);

    public static string Json(LoadRun run) => string.Concat(run.Endpoints.Select(r => MarkdownTable.JsonLine(new
    {
        mode = run.Mode,
        endpoint = r.Endpoint,
        requests = r.Requests,
        errors = r.Errors,
        seconds = Math.Round(r.Seconds, 2),
        requests_per_s = Math.Round(r.RequestsPerSecond, 1),
        p50_ms = MarkdownTable.Round(r.Latency.P50),
        p90_ms = MarkdownTable.Round(r.Latency.P90),
        p99_ms = MarkdownTable.Round(r.Latency.P99),
        max_ms = MarkdownTable.Round(r.Latency.Max),
        api_cpu_s = run.Cpu is { } cpu ? Math.Round(cpu.Api, 2) : (double?)null,
        api_cpu_ms_per_request = run.Cpu is { } perRequest ? MarkdownTable.Round(perRequest.ApiMsPerRequest) : (double?)null,
        worker_cpu_s = run.Cpu?.Worker is { } worker ? Math.Round(worker, 2) : (double?)null,
        layers = run.Breakdown.FirstOrDefault(b => b.Endpoint == r.Endpoint)?.Rows.Select(l => new
        {
            layer = l.Layer,
            mean_ms = MarkdownTable.Round(l.Mean),
            p50_ms = MarkdownTable.Round(l.P50),
            p99_ms = MarkdownTable.Round(l.P99),
            slowest_mean_ms = MarkdownTable.Round(l.SlowestMean),
        }),
    })));
}
