using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Annex.Bench;

public sealed record ExportSettings(string Folder, string Format, string? Filter, int Runs, IReadOnlyList<string> HostSettings, bool Profile, bool Memory = false);

/// <summary>Starts the real server in this process (HTTP pipeline, queue, worker, SQLite, local blobs)
/// and times exports the way a client sees them: POST, then poll until the archive is ready.</summary>
public static class ExportBenchmark
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    public static async Task<List<Measurement>> RunAsync(ExportSettings settings, TextWriter log, CancellationToken ct)
    {
        using var profile = settings.Profile ? new DatabaseProfile() : null;
        await using var server = await BenchServer.StartAsync(settings.Folder, settings.HostSettings, ct);
        var workload = server.Workload;
        using var http = server.CreateClient();
        http.Timeout = TimeSpan.FromMinutes(5);

        var measurements = new List<Measurement>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            profile?.Reset();
            var sampler = settings.Memory ? MemorySampler.TryStart() : null;
            var measurement = await RunOnceAsync(http, settings, workload, run, sampler, ct);
            log.WriteLine($"run {run}: {measurement.Tasks} tasks in {measurement.WallSeconds:F2} s");
            if (sampler is not null)
            {
                sampler.Dispose();
                log.WriteLine(sampler.Peak is { } peak ? $"  {MemorySampler.Describe(peak)}" : "  no memory sample");
                log.WriteLine($"  whole run: {sampler.GcSummary}");
            }

            if (profile is not null)
            {
                WriteProfile(log, profile, measurement);
            }
            measurements.Add(measurement);
        }

        return measurements;
    }

    private static async Task<Measurement> RunOnceAsync(HttpClient http, ExportSettings settings, Workload workload, int run, MemorySampler? sampler, CancellationToken ct)
    {
        var request = new JsonObject
        {
            ["name"] = $"bench {settings.Format} run {run}",
            ["format"] = settings.Format,
            ["datasets"] = new JsonArray([.. workload.Datasets.Select(d => JsonValue.Create(d.ToString("D")))]),
            ["projects"] = new JsonArray(),
            ["slices"] = new JsonArray(),
            ["filter_query_string"] = settings.Filter,
        };

        return (await TimeAsync(http, settings.Folder, request, run.ToString(CultureInfo.InvariantCulture), workload.AnnotationsPerTask, inspect: null, ct, peakReset: sampler is null ? null : sampler.Restart)).Measurement;
    }

    /// <summary>Creates the export <paramref name="request"/> describes and polls it until its archive is ready; the
    /// archive is handed to <paramref name="inspect"/> (when given), then deleted. <paramref name="create"/>, when
    /// given, creates the export instead of the POST and returns its uid (for a body the API would refuse).</summary>
    public static async Task<(Measurement Measurement, string Uid, JsonNode Export)> TimeAsync(
        HttpClient http, string folder, JsonObject request, string run, int annotationsPerTask, Func<string, CancellationToken, Task>? inspect, CancellationToken ct,
        Func<CancellationToken, Task<string>>? create = null, Action? peakReset = null)
    {
        // Let the previous run's garbage go first, so it is neither charged to this run nor in its peak.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var peakWasReset = PeakMemory.TryReset();
        peakReset?.Invoke();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var gen2Before = GC.CollectionCount(2);

        var clock = Stopwatch.StartNew();
        var uid = create is null ? await PostAsync(http, request, ct) : await create(ct);
        double? queueLatencyMs = null;
        JsonNode export;
        while (true)
        {
            await Task.Delay(PollInterval, ct);
            export = (await http.GetFromJsonAsync<JsonNode>($"/api/v1/exports/{uid}/", ct))!;
            var status = export["status"]!.GetValue<string>();
            if (status != "requested" && queueLatencyMs is null)
            {
                // The first poll that sees the export picked up (counting is done by then); an export that
                // finishes between two polls is charged the whole interval.
                queueLatencyMs = clock.Elapsed.TotalMilliseconds;
            }

            if (status == "exported")
            {
                break;
            }

            if (status is "failed" or "aborted")
            {
                throw new BenchException($"Export {uid} {status}: {export["error"]?.GetValue<string>() ?? "(no error given)"}");
            }
        }

        clock.Stop();
        var peakRssBytes = PeakMemory.Read();
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        var gen2 = GC.CollectionCount(2) - gen2Before;

        var totalTasks = export["total_task_count"]?.GetValue<long>() ?? 0;
        // The archive's key carries the attempt's claim token after the export's uid.
        var archivePath = Directory.GetFiles(Path.Combine(folder, "blobs", "exports"), $"{uid}.*zip").Single();
        var archiveBytes = new FileInfo(archivePath).Length;
        var uncompressedBytes = ZipSizes.TotalUncompressed(archivePath);
        if (inspect is not null)
        {
            await inspect(archivePath, ct);
        }

        File.Delete(archivePath);

        var wall = clock.Elapsed.TotalSeconds;
        var format = request["format"]?.GetValue<string>() ?? "";
        var filter = request["filter_query_string"]?.GetValue<string>();
        var measurement = new Measurement(
            run,
            format,
            filter,
            totalTasks,
            // Every generated result holds exactly K annotations, so this is exact for any task filter.
            totalTasks * annotationsPerTask,
            archiveBytes,
            uncompressedBytes,
            wall,
            totalTasks / wall,
            uncompressedBytes / 1_000_000.0 / wall,
            peakRssBytes is { } peak ? peak / 1_000_000.0 : null,
            peakWasReset,
            queueLatencyMs ?? wall * 1000,
            allocated / 1_000_000.0,
            gen2);
        return (measurement, uid, export);
    }

    private static async Task<string> PostAsync(HttpClient http, JsonObject request, CancellationToken ct)
    {
        using var created = await http.PostAsJsonAsync("/api/v1/exports/", request, ct);
        var createdBody = await created.Content.ReadAsStringAsync(ct);
        if (!created.IsSuccessStatusCode)
        {
            throw new BenchException($"POST /api/v1/exports/ answered {(int)created.StatusCode}: {createdBody}");
        }

        return JsonNode.Parse(createdBody)!["uid"]!.GetValue<string>();
    }

    private static void WriteProfile(TextWriter log, DatabaseProfile profile, Measurement measurement)
    {
        var totals = profile.Snapshot();
        var reads = totals.Where(p => p.Key is "count" or "item batches" or "result batches").Sum(p => p.Value.Time.TotalSeconds);
        foreach (var (kind, (time, count)) in totals.OrderByDescending(p => p.Value.Time))
        {
            log.WriteLine($"  {kind,-15} {time.TotalSeconds,8:F2} s  {count,7} commands");
        }

        // What is not a database read of the export itself: JSON writing, compression, disk, and polling gaps.
        log.WriteLine($"  {"not export reads",-15} {measurement.WallSeconds - reads,8:F2} s");
    }

    internal static JsonSerializerOptions Json { get; } = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
