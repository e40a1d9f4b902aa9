using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Annex.Server.Features.Exports;
using Annex.Server.Features.Exports.Worker;
using Annex.Server.Infrastructure.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Annex.Bench;

public sealed record VersionsSettings(string Folder, int Runs, int Creations, double EditPercent, IReadOnlyList<string> HostSettings, int HistoryLimitSeconds = 300);

/// <summary>The database as a read-only connection sees it: pages in use (file and WAL), the history rows and the
/// versions.</summary>
public sealed record DatabaseState(long UsedBytes, long FileBytes, long WalBytes, long ItemHistoryRows, long ResultHistoryRows, long Versions);

/// <summary>One kind of export, timed <see cref="Runs"/> times; <see cref="Digests"/> holds, per run, the SHA-256 of
/// <c>export.json</c> from its <c>"datasets"</c> key on (everything but the export's own name and time).</summary>
public sealed record ExportCase(string Name, List<Measurement> Runs, List<string> Digests)
{
    public Measurement Median => Report.Median(Runs);
}

/// <summary>What a delta archive held, against the items the bench edited.</summary>
public sealed record DeltaCheck(string Name, long TotalTaskCount, int Items, int Results, bool ItemsAreTheEdited, bool ResultsAreTheEdited, int RemovedItems, int RemovedResults)
{
    public bool Passed(int edited) => TotalTaskCount == edited && Items == edited && Results == edited && ItemsAreTheEdited && ResultsAreTheEdited && RemovedItems == 0 && RemovedResults == 0;
}

public sealed record VersionsReport(
    string Dataset,
    long Items,
    List<double> CreationMs,
    DatabaseState BeforeVersion,
    DatabaseState AfterVersion,
    List<ExportCase> Exports,
    int Edited,
    int EditRequests,
    double EditSeconds,
    DatabaseState AfterEdits,
    List<DeltaCheck> Deltas,
    List<double> DiffMs,
    JsonNode Diff,
    double DeleteMs,
    DatabaseState AfterDelete,
    string? VersionEditedUnfinished);

/// <summary>
/// <c>versions</c>: dataset versions on a generated workload, through the real server over HTTP. In one process:
/// live exports with no version and with one (interleaved), version creation (and what it stores), exports of a
/// version before and after a share of its items' results is re-labelled through the bulk results API, delta
/// exports since the version and since an export of it (checked against the edited items), and the diff.
/// </summary>
public static class VersionsBenchmark
{
    private const string Format = "avala-json-external";
    private const string LiveBefore = "live, no version";
    private const string LiveWith = "live, a version exists";
    private const string VersionClean = "version, no later edits";
    private const string VersionEdited = "version, edits since (history)";
    private const string LiveEdited = "live, after the edits";
    private const string VersionEditedFiltered = "version, edits since, filtered";
    private const string VersionEditedSlice = "version, edits since, a slice named";
    private const string LiveEditedFiltered = "live, after the edits, filtered";

    /// <summary>A filter on the items' metadata (a quarter of the generated items match), for the filtered exports.</summary>
    private const string Filter = "metadata.weather = \"rain\"";
    private const string DeltaVersion = "delta since_version";
    private const string DeltaExport = "delta since_export";

    private static readonly byte[] DatasetsKey = ",\"datasets\":"u8.ToArray();

    public static async Task<VersionsReport> RunAsync(VersionsSettings settings, TextWriter log, CancellationToken ct)
    {
        await using var server = await BenchServer.StartAsync(settings.Folder, settings.HostSettings, ct);
        var workload = server.Workload;
        using var http = server.CreateClient();
        http.Timeout = TimeSpan.FromMinutes(10);
        var dataset = workload.Datasets[0];
        var datasetPath = $"/api/v1/datasets/{dataset:D}";
        var (datasetId, items) = DatasetRow(settings.Folder, dataset);
        log.WriteLine($"Versions of dataset {dataset:D} ({items:N0} items; the workload has {workload.DatasetCount} dataset(s)), {settings.Runs} run(s) per export, {Environment.ProcessorCount} cores.");

        // Start from a dataset with no version (an earlier run may have been stopped half-way).
        foreach (var stale in await ListVersionsAsync(http, datasetPath, ct))
        {
            await DeleteAsync(http, $"{datasetPath}/versions/{stale}/", ct);
            log.WriteLine($"Deleted version {stale} left by an earlier run.");
        }

        var exports = new[] { LiveBefore, LiveWith, VersionClean, VersionEdited, VersionEditedSlice, VersionEditedFiltered, LiveEdited, LiveEditedFiltered, DeltaVersion, DeltaExport }
            .ToDictionary(n => n, n => new ExportCase(n, [], []));
        JsonObject Live(string name) => Request(name, new JsonObject { ["datasets"] = new JsonArray(JsonValue.Create(dataset.ToString("D"))), ["projects"] = new JsonArray(), ["slices"] = new JsonArray() });

        async Task<(Measurement Measurement, string Uid)> TimeExportAsync(string caseName, JsonObject request, int run, Func<string, CancellationToken, Task>? inspect = null)
        {
            var digest = new string[1];
            var (measurement, uid, _) = await ExportBenchmark.TimeAsync(http, settings.Folder, request, run.ToString(CultureInfo.InvariantCulture), workload.AnnotationsPerTask,
                async (path, token) =>
                {
                    digest[0] = await DigestAsync(path, token);
                    if (inspect is not null)
                    {
                        await inspect(path, token);
                    }
                },
                ct);
            exports[caseName].Runs.Add(measurement);
            exports[caseName].Digests.Add(digest[0]);
            log.WriteLine($"  {caseName}, run {run}: {measurement.Tasks:N0} tasks in {measurement.WallSeconds:F2} s");
            return (measurement, uid);
        }

        log.WriteLine("Warm-up export (not counted): JIT, first queries, page cache.");
        await ExportBenchmark.TimeAsync(http, settings.Folder, Live("warm-up"), "warm-up", workload.AnnotationsPerTask, null, ct);

        // Version creation alone, cheap: create and delete, so each creation starts from a dataset with no version.
        var creationMs = new List<double>();
        for (var i = 0; i < settings.Creations; i++)
        {
            var (uid, ms) = await CreateVersionAsync(http, datasetPath, $"bench creation {i + 1}", ct);
            creationMs.Add(ms);
            await DeleteAsync(http, $"{datasetPath}/versions/{uid}/", ct);
        }

        if (creationMs.Count > 0)
        {
            log.WriteLine($"{settings.Creations} versions created (and deleted) in {Median(creationMs):F1} ms median.");
        }

        // The live export with no version and with one, interleaved so both see the same machine.
        string? version = null;
        DatabaseState? beforeVersion = null, afterVersion = null;
        for (var run = 1; run <= settings.Runs; run++)
        {
            await TimeExportAsync(LiveBefore, Live($"live {run}"), run);
            var before = State(settings.Folder, datasetId);
            var (uid, ms) = await CreateVersionAsync(http, datasetPath, $"bench version {run}", ct);
            var after = State(settings.Folder, datasetId);
            creationMs.Add(ms);
            log.WriteLine($"  version {uid} created in {ms:F1} ms; history rows {before.ItemHistoryRows + before.ResultHistoryRows} -> {after.ItemHistoryRows + after.ResultHistoryRows}, pages in use {before.UsedBytes:N0} -> {after.UsedBytes:N0} bytes");
            (beforeVersion, afterVersion) = (before, after);
            await TimeExportAsync(LiveWith, Live($"live {run}"), run);
            if (run < settings.Runs)
            {
                await DeleteAsync(http, $"{datasetPath}/versions/{uid}/", ct);
            }
            else
            {
                version = uid;
            }
        }

        // Exports of the version nobody has edited since; the first is the base of since_export below.
        string? baseExport = null;
        for (var run = 1; run <= settings.Runs; run++)
        {
            var (_, uid) = await TimeExportAsync(VersionClean, Request($"version {version}", new JsonObject { ["versions"] = new JsonArray(JsonValue.Create(version)) }), run);
            baseExport ??= uid;
        }

        // Re-label a share of the items, spread over the whole dataset, through the bulk results API.
        var step = Math.Max(1, (int)Math.Round(100 / settings.EditPercent));
        var edited = EditSample(settings.Folder, datasetId, step);
        log.WriteLine($"Re-labelling {edited.Count:N0} items (every {step}th) through POST /api/v1/projects/<uid>/results/ ...");
        var (editRequests, editSeconds) = await EditAsync(http, workload, edited, ct);
        var afterEdits = State(settings.Folder, datasetId);
        log.WriteLine($"  {editRequests} requests in {editSeconds:F2} s; history rows {afterEdits.ItemHistoryRows + afterEdits.ResultHistoryRows}, pages in use {afterEdits.UsedBytes:N0} bytes");
        var editedSet = edited.ToHashSet();

        var deltas = new List<DeltaCheck>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            await TimeExportAsync(LiveEdited, Live($"live {run}"), run);
            foreach (var (caseName, key, value) in new[] { (DeltaVersion, "since_version", version!), (DeltaExport, "since_export", baseExport!) })
            {
                var request = Live($"delta {run}");
                request[key] = value;
                DeltaCheck? check = null;
                var (measurement, _) = await TimeExportAsync(caseName, request, run, (path, _) =>
                {
                    check = Check(path, caseName, editedSet);
                    return Task.CompletedTask;
                });
                deltas.Add(check! with { TotalTaskCount = measurement.Tasks });
            }
        }

        // The diff from the version to now: counts and the first page.
        var diffMs = new List<double>();
        JsonNode? diff = null;
        for (var run = 1; run <= Math.Max(5, settings.Runs); run++)
        {
            var clock = Stopwatch.StartNew();
            diff = await http.GetFromJsonAsync<JsonNode>($"{datasetPath}/versions/{version}/diff/current/", ct);
            diffMs.Add(clock.Elapsed.TotalMilliseconds);
        }

        log.WriteLine($"Diff version -> current: {diff!["changed"]} changed, {diff["added"]} added, {diff["removed"]} removed, {Median(diffMs):F1} ms median.");

        // The version read through its history: last, each run capped, since it may take far longer than the others.
        // With a filter too (evaluated on the version's rows, live and history), next to the same filter on live data.
        string? unfinished = null;
        // The API refuses versions together with slices, but an export row may still name both: written directly, it
        // is the version's export with a slice of 100 of its items named too (which adds no item to it).
        var slice = (await LatencyBenchmark.PostAsync(http, "/api/v1/slices/", new JsonObject
        {
            ["name"] = $"bench slice {Guid.NewGuid():N}",
            ["items"] = new JsonArray([.. edited.Take(100).Select(u => JsonValue.Create(u.ToString("D")))]),
        }, ct))["uid"]!.GetValue<Guid>();
        async Task<string> CreateWithSliceAsync(CancellationToken token)
        {
            await using var scope = server.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var organization = await db.Datasets.Where(d => d.Uid == dataset).Select(d => d.OrganizationId).SingleAsync(token);
            var export = new Export
            {
                Uid = Guid.CreateVersion7(),
                OrganizationId = organization,
                Name = "bench version with a slice",
                Format = Format,
                Status = ExportStatus.Requested,
                Datasets = "[]",
                Projects = "[]",
                Slices = UidList.Serialize([slice]),
                Versions = UidList.Serialize([Guid.Parse(version!)]),
                CreatedAt = DateTime.UtcNow,
                UpdatedAt = DateTime.UtcNow,
            };
            db.Exports.Add(export);
            await db.SaveChangesAsync(token);
            scope.ServiceProvider.GetRequiredService<ExportSignal>().Notify();
            return export.Uid.ToString("D");
        }

        async Task TimeCappedAsync(string caseName, JsonObject request, int run, Func<CancellationToken, Task<string>>? create = null)
        {
            using var cap = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cap.CancelAfter(TimeSpan.FromSeconds(settings.HistoryLimitSeconds));
            var clock = Stopwatch.StartNew();
            try
            {
                var (measurement, _, _) = await ExportBenchmark.TimeAsync(http, settings.Folder, request, run.ToString(CultureInfo.InvariantCulture), workload.AnnotationsPerTask,
                    async (path, token) => exports[caseName].Digests.Add(await DigestAsync(path, token)), cap.Token, create);
                exports[caseName].Runs.Add(measurement);
                log.WriteLine($"  {caseName}, run {run}: {measurement.Tasks:N0} tasks in {measurement.WallSeconds:F2} s");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                var running = (await http.GetFromJsonAsync<JsonNode>("/api/v1/exports/?limit=1", ct))!["results"]![0]!;
                var uid = running["uid"]!.GetValue<string>();
                unfinished = $"{caseName} did not finish in {clock.Elapsed.TotalSeconds:F0} s: status {running["status"]}, {running["exported_task_count"]} of {running["total_task_count"]} tasks exported; aborted";
                log.WriteLine($"  {caseName}, run {run}: {unfinished}");
                (await http.PostAsync($"/api/v1/exports/{uid}/abort/", null, ct)).Dispose();
            }
        }

        for (var run = 1; run <= settings.Runs && unfinished is null; run++)
        {
            await TimeCappedAsync(VersionEdited, Request($"version {version}", new JsonObject { ["versions"] = new JsonArray(JsonValue.Create(version)) }), run);
            if (unfinished is null)
            {
                await TimeCappedAsync(VersionEditedSlice, Request($"version {version} with a slice", []), run, CreateWithSliceAsync);
            }

            if (unfinished is null)
            {
                await TimeCappedAsync(VersionEditedFiltered, Request($"version {version} filtered", new JsonObject { ["versions"] = new JsonArray(JsonValue.Create(version)), ["filter_query_string"] = Filter }), run);
            }

            if (unfinished is null)
            {
                var live = Live($"live {run} filtered");
                live["filter_query_string"] = Filter;
                await TimeCappedAsync(LiveEditedFiltered, live, run);
            }
        }

        // Leave the folder with no version, as found; deleting drops the history only the version needed.
        var deleteClock = Stopwatch.StartNew();
        await DeleteAsync(http, $"{datasetPath}/versions/{version}/", ct);
        var deleteMs = deleteClock.Elapsed.TotalMilliseconds;
        var afterDelete = State(settings.Folder, datasetId);

        return new VersionsReport(
            dataset.ToString("D"), items, creationMs, beforeVersion!, afterVersion!, [.. exports.Values.Where(e => e.Runs.Count > 0)], edited.Count, editRequests, editSeconds, afterEdits, deltas,
            diffMs, diff, deleteMs, afterDelete, unfinished);
    }

    private static JsonObject Request(string name, JsonObject sources)
    {
        sources["name"] = $"bench {name}";
        sources["format"] = Format;
        return sources;
    }

    private static async Task<(string Uid, double Ms)> CreateVersionAsync(HttpClient http, string datasetPath, string name, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var created = await LatencyBenchmark.PostAsync(http, $"{datasetPath}/versions/", new JsonObject { ["name"] = name }, ct);
        return (created["uid"]!.GetValue<string>(), clock.Elapsed.TotalMilliseconds);
    }

    private static async Task<List<string>> ListVersionsAsync(HttpClient http, string datasetPath, CancellationToken ct)
    {
        var uids = new List<string>();
        var next = $"{datasetPath}/versions/";
        while (next is not null)
        {
            var page = (await http.GetFromJsonAsync<JsonNode>(next, ct))!;
            uids.AddRange(page["results"]!.AsArray().Select(v => v!["uid"]!.GetValue<string>()));
            next = page["next"]?.GetValue<string>();
        }

        return uids;
    }

    private static async Task DeleteAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.DeleteAsync(path, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchException($"DELETE {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    /// <summary>New annotations (the generator's kind, another seed) for each item, 5,000 results a request.</summary>
    private static async Task<(int Requests, double Seconds)> EditAsync(HttpClient http, Workload workload, List<Guid> items, CancellationToken ct)
    {
        var random = new Random(unchecked((int)DateTime.UtcNow.Ticks));
        var clock = Stopwatch.StartNew();
        var requests = 0;
        long annotationIndex = 0;
        foreach (var batch in items.Chunk(5_000))
        {
            var body = new StringBuilder(batch.Length * workload.AnnotationsPerTask * 220);
            body.Append("{\"results\":[");
            for (var i = 0; i < batch.Length; i++)
            {
                body.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"{{\"dataset_item_uid\":\"{batch[i]:D}\",\"annotations\":[");
                for (var a = 0; a < workload.AnnotationsPerTask; a++, annotationIndex++)
                {
                    if (a > 0)
                    {
                        body.Append(',');
                    }

                    Generator.AppendAnnotation(body, random, annotationIndex);
                }

                body.Append("]}");
            }

            body.Append("]}");
            using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync($"/api/v1/projects/{workload.Project:D}/results/", content, ct);
            var answer = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new BenchException($"POST results answered {(int)response.StatusCode}: {answer[..Math.Min(answer.Length, 2000)]}");
            }

            var updated = JsonNode.Parse(answer)!["updated"]!.GetValue<int>();
            if (updated != batch.Length)
            {
                throw new BenchException($"POST results updated {updated} of {batch.Length} results.");
            }

            requests++;
        }

        return (requests, clock.Elapsed.TotalSeconds);
    }

    /// <summary>SHA-256 of <c>export.json</c> from <c>,"datasets":</c> on: what the export holds, without its own name
    /// and creation time.</summary>
    private static async Task<string> DigestAsync(string archivePath, CancellationToken ct)
    {
        using var zip = ZipFile.OpenRead(archivePath);
        var entry = zip.GetEntry("export.json") ?? throw new BenchException($"{archivePath} has no export.json.");
        await using var stream = entry.Open();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        using var head = new MemoryStream();
        var started = false;
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
        {
            if (started)
            {
                hash.AppendData(buffer, 0, read);
                continue;
            }

            // The export_info object is small; keep reading until the marker is in the head.
            head.Write(buffer, 0, read);
            var at = head.GetBuffer().AsSpan(0, (int)head.Length).IndexOf((ReadOnlySpan<byte>)DatasetsKey);
            if (at >= 0)
            {
                hash.AppendData(head.GetBuffer(), at, (int)head.Length - at);
                started = true;
            }
        }

        if (!started)
        {
            throw new BenchException($"{archivePath}: export.json has no \"datasets\" key.");
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Reads a delta's export.json: its items and results against the edited items, and what it removes.</summary>
    private static DeltaCheck Check(string archivePath, string name, HashSet<Guid> edited)
    {
        using var zip = ZipFile.OpenRead(archivePath);
        using var stream = zip.GetEntry("export.json")?.Open() ?? throw new BenchException($"{archivePath} has no export.json.");
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        var items = root.GetProperty("datasets").EnumerateArray().SelectMany(d => d.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("uid").GetGuid()).ToList();
        var resultItems = root.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("dataset_item_uid").GetGuid()).ToList();
        var removed = root.TryGetProperty("removed", out var removedElement) ? removedElement : default;
        int Count(string key) => removed.ValueKind == JsonValueKind.Object ? removed.GetProperty(key).GetArrayLength() : -1;
        return new DeltaCheck(
            name,
            0,
            items.Count,
            resultItems.Count,
            items.Count == edited.Count && items.ToHashSet().SetEquals(edited),
            resultItems.Count == edited.Count && resultItems.ToHashSet().SetEquals(edited),
            Count("items"),
            Count("results"));
    }

    private static SqliteConnection Open(string folder)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "annex.db"), Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        connection.Open();
        return connection;
    }

    private static long Scalar(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(command.ExecuteScalar() ?? throw new BenchException($"No row for: {sql}"), CultureInfo.InvariantCulture);
    }

    private static (long Id, long Items) DatasetRow(string folder, Guid dataset)
    {
        using var connection = Open(folder);
        var id = Scalar(connection, "SELECT Id FROM datasets WHERE Uid = $uid", ("$uid", dataset.ToString("D").ToUpperInvariant()));
        return (id, Scalar(connection, "SELECT COUNT(*) FROM dataset_items WHERE DatasetId = $id", ("$id", id)));
    }

    /// <summary>Every <paramref name="step"/>th item of the dataset by id.</summary>
    private static List<Guid> EditSample(string folder, long datasetId, int step)
    {
        using var connection = Open(folder);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT Uid FROM dataset_items WHERE DatasetId = $id AND Id % $step = 0 ORDER BY Id";
        command.Parameters.AddWithValue("$id", datasetId);
        command.Parameters.AddWithValue("$step", step);
        using var reader = command.ExecuteReader();
        var uids = new List<Guid>();
        while (reader.Read())
        {
            uids.Add(Guid.Parse(reader.GetString(0)));
        }

        return uids;
    }

    private static DatabaseState State(string folder, long datasetId)
    {
        using var connection = Open(folder);
        var pages = Scalar(connection, "PRAGMA page_count") - Scalar(connection, "PRAGMA freelist_count");
        var pageSize = Scalar(connection, "PRAGMA page_size");
        var path = Path.Combine(folder, "annex.db");
        var wal = new FileInfo(path + "-wal");
        return new DatabaseState(
            pages * pageSize,
            new FileInfo(path).Length,
            wal.Exists ? wal.Length : 0,
            Scalar(connection, "SELECT COUNT(*) FROM dataset_item_history WHERE DatasetId = $id", ("$id", datasetId)),
            Scalar(connection, "SELECT COUNT(*) FROM result_history WHERE DatasetId = $id", ("$id", datasetId)),
            Scalar(connection, "SELECT COUNT(*) FROM dataset_versions WHERE DatasetId = $id", ("$id", datasetId)));
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static bool DiffPassed(JsonNode diff, int edited) =>
        diff["changed"]!.GetValue<long>() == edited && diff["added"]!.GetValue<long>() == 0 && diff["removed"]!.GetValue<long>() == 0;

    private static string F(double value, string format = "F2") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Text(VersionsReport report)
    {
        var text = new StringBuilder();
        var c = report.CreationMs;
        text.AppendLine(CultureInfo.InvariantCulture, $"Dataset {report.Dataset}: {report.Items:N0} items.");
        text.AppendLine();
        text.AppendLine("Version creation (POST /api/v1/datasets/<uid>/versions/, client-side):");
        text.AppendLine();
        text.Append(MarkdownTable.Render(
            ["creations", "min ms", "median ms", "max ms", "pages in use before", "after", "history rows before", "after"],
            [[
                MarkdownTable.N(c.Count), MarkdownTable.Ms(c.Min()), MarkdownTable.Ms(Median(c)), MarkdownTable.Ms(c.Max()),
                MarkdownTable.N(report.BeforeVersion.UsedBytes), MarkdownTable.N(report.AfterVersion.UsedBytes),
                MarkdownTable.N(report.BeforeVersion.ItemHistoryRows + report.BeforeVersion.ResultHistoryRows),
                MarkdownTable.N(report.AfterVersion.ItemHistoryRows + report.AfterVersion.ResultHistoryRows),
            ]]));
        text.AppendLine();

        var baseline = report.Exports.Single(e => e.Name == LiveBefore).Median.WallSeconds;
        text.AppendLine("Exports (avala-json-external), in the order of the table per run:");
        text.AppendLine();
        var digests = report.Exports.SelectMany(e => e.Digests).Distinct().Select((d, i) => (d, i)).ToDictionary(p => p.d, p => (char)('A' + p.i));
        text.Append(MarkdownTable.Render(
            ["export", "tasks", "wall s per run", "median wall s", "vs live, no version", "median tasks/s", "archive bytes", "content"],
            [.. report.Exports.Select(e => (IReadOnlyList<string>)
            [
                e.Name,
                MarkdownTable.N(e.Median.Tasks),
                string.Join(", ", e.Runs.Select(r => F(r.WallSeconds))),
                F(e.Median.WallSeconds),
                F(e.Median.WallSeconds / baseline),
                MarkdownTable.N((long)Math.Round(e.Median.TasksPerSecond)),
                MarkdownTable.N(e.Median.ArchiveBytes),
                string.Concat(e.Digests.Select(d => digests[d])),
            ])]));
        text.AppendLine("content: one letter per run, the same letter for the same export.json (without its name and time).");
        if (report.VersionEditedUnfinished is { } unfinished)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{unfinished}.");
        }

        text.AppendLine();

        text.AppendLine(CultureInfo.InvariantCulture,
            $"Edits: {report.Edited:N0} results re-labelled in {report.EditRequests} bulk requests, {F(report.EditSeconds)} s; history rows {report.AfterEdits.ItemHistoryRows:N0} items + {report.AfterEdits.ResultHistoryRows:N0} results; pages in use {report.AfterVersion.UsedBytes:N0} -> {report.AfterEdits.UsedBytes:N0} bytes.");
        text.AppendLine();
        text.Append(MarkdownTable.Render(
            ["delta", "total_task_count", "items", "results", "items = the edited", "results on the edited", "removed items", "removed results", "check"],
            [.. report.Deltas.Select(d => (IReadOnlyList<string>)
            [
                d.Name, MarkdownTable.N(d.TotalTaskCount), MarkdownTable.N(d.Items), MarkdownTable.N(d.Results), d.ItemsAreTheEdited ? "yes" : "no", d.ResultsAreTheEdited ? "yes" : "no",
                MarkdownTable.N(d.RemovedItems), MarkdownTable.N(d.RemovedResults), d.Passed(report.Edited) ? "ok" : "FAILED",
            ])]));
        text.AppendLine();

        var diff = report.Diff;
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Diff version -> current (counts and the first page): {string.Join(", ", report.DiffMs.Select(m => F(m, "F1")))} ms, median {F(Median(report.DiffMs), "F1")} ms; changed {diff["changed"]}, added {diff["added"]}, removed {diff["removed"]} ({(DiffPassed(diff, report.Edited) ? "ok: the edited items" : "FAILED: not the edited items")}).");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Version deleted in {F(report.DeleteMs, "F1")} ms; history rows after: {report.AfterDelete.ItemHistoryRows + report.AfterDelete.ResultHistoryRows:N0}; pages in use {report.AfterDelete.UsedBytes:N0} bytes (file {report.AfterDelete.FileBytes:N0}, WAL {report.AfterDelete.WalBytes:N0}).");
        return text.ToString();
    }
}
