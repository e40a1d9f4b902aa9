using System.CommandLine;
using System.Diagnostics;
using System.Reflection;

namespace Annex.Bench;

/// <summary>The export benchmark: <c>generate</c> a workload, <c>export</c> it through the server's own
/// code path, or <c>run</c> both with the export in a fresh process.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["ingest-cli", var rssFile, .. var cliArgs])
        {
            // The child of ingest-coco: the annex command's own code, with its own arguments.
            return await IngestBenchmark.RunCliChildAsync(rssFile, cliArgs, CancellationToken.None);
        }

        try
        {
            return await BuildCommandLine().Parse(args).InvokeAsync();
        }
        catch (BenchException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    private static RootCommand BuildCommandLine()
    {
        var tasks = new Option<int>("--tasks") { Description = "Tasks (items, each with one result) to generate.", Required = true };
        var perTask = new Option<int>("--annotations-per-task") { Description = "Annotations in each result.", DefaultValueFactory = _ => 5 };
        var datasets = new Option<int>("--datasets") { Description = "Datasets the items are spread over.", DefaultValueFactory = _ => 4 };
        var data = new Option<string?>("--data") { Description = "Bench data folder. Default for generate/run: bench/data/<tasks>-<annotations-per-task> under the current directory." };
        var requiredData = new Option<string>("--data") { Description = "Bench data folder written by generate.", Required = true };
        var format = new Option<string>("--format") { Description = "Export format.", DefaultValueFactory = _ => "avala-json-external" };
        var filter = new Option<string?>("--filter") { Description = "filter_query_string of the export." };
        var runs = new Option<int>("--runs") { Description = "Exports to time; the table adds their median.", DefaultValueFactory = _ => 3 };
        var set = new Option<string[]>("--set") { Description = "Extra server setting Key=Value, e.g. Exports:BatchSize=5000 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var json = new Option<bool>("--json") { Description = "Print JSON lines instead of the table." };
        var profile = new Option<bool>("--profile") { Description = "Also print, per run, the time EF Core spent in each kind of query (to stderr)." };
        var memory = new Option<bool>("--memory") { Description = "Also print, per run, what the process's resident memory was made of at its highest (to stderr; Linux)." };

        var generate = new Command("generate", "Create (or reuse) a synthetic workload in the server's SQLite database.") { tasks, perTask, datasets, data };
        generate.SetAction(async (parse, ct) =>
        {
            var (n, k, d) = Validate(parse.GetValue(tasks), parse.GetValue(perTask), parse.GetValue(datasets));
            await Generator.EnsureAsync(parse.GetValue(data) ?? Workload.DefaultFolder(n, k), n, k, d, Console.Error, ct);
            return 0;
        });

        var export = new Command("export", "Time exports of a generated workload through the in-process server.") { requiredData, format, filter, runs, set, json, profile, memory };
        export.SetAction(async (parse, ct) =>
        {
            var settings = new ExportSettings(parse.GetValue(requiredData)!, parse.GetValue(format)!, parse.GetValue(filter), PositiveRuns(parse.GetValue(runs)), parse.GetValue(set) ?? [], parse.GetValue(profile), parse.GetValue(memory));
            await ExportAndPrintAsync(settings, parse.GetValue(json), ct);
            return 0;
        });

        var run = new Command("run", "generate (when needed), then export in a fresh child process.") { tasks, perTask, datasets, data, format, filter, runs, set, json, profile };
        run.SetAction(async (parse, ct) =>
        {
            var (n, k, d) = Validate(parse.GetValue(tasks), parse.GetValue(perTask), parse.GetValue(datasets));
            var folder = parse.GetValue(data) ?? Workload.DefaultFolder(n, k);
            await Generator.EnsureAsync(folder, n, k, d, Console.Error, ct);

            List<string> childArgs = ["export", "--data", folder, "--format", parse.GetValue(format)!, "--runs", PositiveRuns(parse.GetValue(runs)).ToString(System.Globalization.CultureInfo.InvariantCulture)];
            if (parse.GetValue(filter) is { } text)
            {
                childArgs.AddRange(["--filter", text]);
            }

            foreach (var setting in parse.GetValue(set) ?? [])
            {
                childArgs.AddRange(["--set", setting]);
            }

            if (parse.GetValue(json))
            {
                childArgs.Add("--json");
            }

            if (parse.GetValue(profile))
            {
                childArgs.Add("--profile");
            }

            return await RunChildAsync(childArgs, ct);
        });

        var exportCount = new Option<int>("--exports") { Description = "Exports to time (after one warm-up export that is not counted).", DefaultValueFactory = _ => 200 };
        var latency = new Command("latency", "Queue latency of small exports created one at a time with an idle worker.") { requiredData, exportCount, set, json };
        latency.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(exportCount);
            if (count < 1)
            {
                throw new BenchException("--exports must be at least 1.");
            }

            var stats = await LatencyBenchmark.RunAsync(parse.GetValue(requiredData)!, count, parse.GetValue(set) ?? [], Console.Error, ct);
            Console.Out.Write(parse.GetValue(json) ? LatencyBenchmark.Json(stats) : LatencyBenchmark.Table(stats));
            return 0;
        });

        var exportsInDb = new Option<int>("--exports-in-db") { Description = "Finished exports inserted into the database before the server starts (once per folder).", DefaultValueFactory = _ => 100_000 };
        var seconds = new Option<int>("--seconds") { Description = "How long to drive the load.", DefaultValueFactory = _ => 20 };
        var connections = new Option<int>("--connections") { Description = "Concurrent request loops, half listing exports, half fetching one.", DefaultValueFactory = _ => 16 };
        var rps = new Option<int>("--rps") { Description = "Send at this fixed rate (open loop, half list, half get) instead of from --connections loops.", DefaultValueFactory = _ => 0 };
        var noRateLimiting = new Option<bool>("--no-rate-limiting") { Description = "Run with rate limiting off (by default it is on, with limits raised above what the bench sends, so it is timed but never refuses)." };
        var noBreakdown = new Option<bool>("--no-breakdown") { Description = "Do not time the server's layers (to see what the timing itself costs)." };
        var serverProcess = new Option<bool>("--server-process") { Description = "Run the server program in its own process (its layers are not timed then; its CPU is)." };
        var workerProcess = new Option<bool>("--worker-process") { Description = "Run the API (--role api) and the export worker (--role worker, under nice) as two processes of the server program." };
        var workerNice = new Option<int>("--worker-nice") { Description = "The worker process's niceness with --worker-process.", DefaultValueFactory = _ => 10 };
        var noExport = new Option<bool>("--no-export") { Description = "Run no export during the load." };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of requests sent before the load and not counted.", DefaultValueFactory = _ => 15 };
        var load = new Command("load", "Latency of the exports API under concurrent requests while an export runs, and where the server's time goes.") { requiredData, exportsInDb, seconds, connections, rps, noRateLimiting, noBreakdown, serverProcess, workerProcess, workerNice, noExport, warmup, set, json };
        load.SetAction(async (parse, ct) =>
        {
            var settings = new LoadSettings(parse.GetValue(requiredData)!, parse.GetValue(exportsInDb), parse.GetValue(seconds), parse.GetValue(connections), parse.GetValue(set) ?? [],
                parse.GetValue(rps), !parse.GetValue(noRateLimiting), !parse.GetValue(noBreakdown),
                parse.GetValue(workerProcess) ? LoadServer.ApiAndWorker : parse.GetValue(serverProcess) ? LoadServer.Process : LoadServer.InProcess,
                parse.GetValue(workerNice), !parse.GetValue(noExport), parse.GetValue(warmup));
            if (settings.ExportsInDb < 1 || settings.Seconds < 1 || settings.Connections < 2 || settings.Rps < 0 || settings.WarmupSeconds < 0)
            {
                throw new BenchException("--exports-in-db and --seconds must be at least 1, --connections at least 2, --rps and --warmup at least 0.");
            }

            var result = await LoadBenchmark.RunAsync(settings, Console.Error, ct);
            Console.Out.Write(parse.GetValue(json) ? LoadBenchmark.Json(result) : LoadBenchmark.Table(result));
            return 0;
        });

        var postgres = new Option<string>("--postgres") { Description = "Connection string of an empty PostgreSQL database for the bench (the workload is copied into it once).", Required = true };
        var compare = new Command("compare", "Export the same workload from SQLite and from PostgreSQL, each in a fresh process, and compare.") { requiredData, postgres, format, runs, set };
        compare.SetAction(async (parse, ct) =>
        {
            var folder = parse.GetValue(requiredData)!;
            var workload = Workload.TryRead(folder) ?? throw new BenchException($"{folder} holds no complete workload; run `generate` first.");
            var connectionString = parse.GetValue(postgres)!;
            await PostgresCopy.EnsureAsync(folder, workload, connectionString, Console.Error, ct);

            var count = PositiveRuns(parse.GetValue(runs)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            List<string> common = ["export", "--data", folder, "--format", parse.GetValue(format)!, "--runs", count, "--json"];
            foreach (var setting in parse.GetValue(set) ?? [])
            {
                common.AddRange(["--set", setting]);
            }

            var results = new List<(string Database, List<Measurement> Rows)>();
            results.Add(("SQLite", await RunChildForRowsAsync(common, ct)));
            results.Add(("PostgreSQL", await RunChildForRowsAsync([.. common, "--set", "Database:Provider=Postgres", "--set", $"Database:ConnectionString={connectionString}"], ct)));
            foreach (var (database, rows) in results)
            {
                Console.Out.WriteLine($"{database}:");
                Console.Out.WriteLine(Report.Table(rows));
            }

            Console.Out.Write(Report.Comparison(results));
            return 0;
        });

        var creations = new Option<int>("--creations") { Description = "Versions created and deleted again to time creation on its own, besides the one made per run.", DefaultValueFactory = _ => 10 };
        var editPercent = new Option<double>("--edit-percent") { Description = "Share of the dataset's items whose result is re-labelled through the results API (every 100/percent-th item).", DefaultValueFactory = _ => 2 };
        var historyLimit = new Option<int>("--history-limit") { Description = "Seconds after which an export of the version read through its history is aborted and reported unfinished.", DefaultValueFactory = _ => 300 };
        var versions = new Command("versions", "Dataset versions on a generated workload: creation, live exports with and without a version, version exports before and after edits, delta exports, diff.") { requiredData, runs, creations, editPercent, historyLimit, set };
        versions.SetAction(async (parse, ct) =>
        {
            var settings = new VersionsSettings(parse.GetValue(requiredData)!, PositiveRuns(parse.GetValue(runs)), parse.GetValue(creations), parse.GetValue(editPercent), parse.GetValue(set) ?? [], parse.GetValue(historyLimit));
            if (settings.Creations < 0 || !(settings.EditPercent > 0 && settings.EditPercent <= 100) || settings.HistoryLimitSeconds < 1)
            {
                throw new BenchException("--creations must be at least 0, --edit-percent above 0 and at most 100, --history-limit at least 1.");
            }

            var report = await VersionsBenchmark.RunAsync(settings, Console.Error, ct);
            Console.Out.Write(VersionsBenchmark.Text(report));
            return 0;
        });

        var requestRuns = new Option<int>("--runs") { Description = "Timed requests per case, after one warm-up.", DefaultValueFactory = _ => 5 };
        var console = new Command("console", "Latency of the routes the browser console calls: export preview, gallery pages, thumbnails.") { requiredData, requestRuns, set };
        console.SetAction(async (parse, ct) =>
        {
            var rows = await ConsoleBenchmark.RunAsync(parse.GetValue(requiredData)!, PositiveRuns(parse.GetValue(requestRuns)), parse.GetValue(set) ?? [], Console.Error, ct);
            Console.Out.Write(ConsoleBenchmark.Table(rows));
            return 0;
        });

        var writerTasks = new Option<int>("--tasks") { Description = "Generated tasks fed to each writer.", DefaultValueFactory = _ => 100_000 };
        var writerFormats = new Option<string[]>("--format") { Description = "Formats to run (repeatable); default every training format.", AllowMultipleArgumentsPerToken = false };
        var keep = new Option<string?>("--keep") { Description = "Folder to keep each archive in as <format>.zip (default: archives are only counted)." };
        var writers = new Command("writers", "Each training format's writer alone on generated in-memory items: wall time, allocated bytes, archive size.") { writerTasks, perTask, writerFormats, keep };
        writers.SetAction(async (parse, ct) =>
        {
            var (n, k, _) = Validate(parse.GetValue(writerTasks), parse.GetValue(perTask), 1);
            var chosen = parse.GetValue(writerFormats) is { Length: > 0 } f ? f : WriterBenchmark.AllFormats;
            await Console.Error.WriteLineAsync($"Writers: {n} tasks x {k} annotations in memory, {Environment.ProcessorCount} cores");
            var rows = await WriterBenchmark.RunAsync(n, k, chosen, parse.GetValue(keep), Console.Error, ct);
            Console.Out.Write(WriterBenchmark.Table(rows));
            return 0;
        });

        var imageCount = new Option<int>("--images") { Description = "Images in the folder to import.", DefaultValueFactory = _ => 2000 };
        var imageRuns = new Option<int>("--runs") { Description = "Imports to time, each into a fresh server; the table adds their median.", DefaultValueFactory = _ => 3 };
        var imageData = new Option<string?>("--data") { Description = "Bench data folder. Default: bench/data/ingest-images-<images> under the current directory." };
        var ingestImages = new Command("ingest-images", "Import a YOLO folder of small PNG images with boxes through the annex CLI's import into a fresh server on default settings.") { imageCount, imageRuns, imageData };
        ingestImages.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(imageCount);
            if (count < 1)
            {
                throw new BenchException("--images must be at least 1.");
            }

            var folder = parse.GetValue(imageData) ?? Path.Combine("bench", "data", $"ingest-images-{count}");
            var results = await IngestImagesBenchmark.RunAsync(Path.GetFullPath(folder), count, PositiveRuns(parse.GetValue(imageRuns)), Console.Error, ct);
            Console.Out.Write(IngestImagesBenchmark.Table(results, count));
            return 0;
        });

        var floor = new Command("floor", "The floor exports are compared with: the sqlite3 shell reading the workload's item and result rows, then gzip -1 of them.") { requiredData, runs };
        floor.SetAction(async (parse, ct) =>
        {
            var rows = await FloorBenchmark.RunAsync(parse.GetValue(requiredData)!, PositiveRuns(parse.GetValue(runs)), Console.Error, ct);
            Console.Out.Write(FloorBenchmark.Table(rows));
            return 0;
        });
        var images = new Option<int[]>("--images")
        {
            Description = "Images in the generated COCO file; several sizes run one after the other (--images 25000 --images 100000, or 25000,100000).",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [100_000],
            CustomParser = result => [.. result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(v => int.Parse(v, System.Globalization.CultureInfo.InvariantCulture))],
        };
        var boxes = new Option<int>("--boxes") { Description = "Boxes on each image.", DefaultValueFactory = _ => 5 };
        var parallel = new Option<int>("--parallel") { Description = "The import's --parallel.", DefaultValueFactory = _ => 4 };
        var oneServer = new Option<bool>("--one-server") { Description = "Import everything into one server process, one import after the other, instead of a fresh server (and data folder) per import." };
        var noBaselines = new Option<bool>("--no-baselines") { Description = "Skip the direct insert and the timing of reading the file alone." };
        var ingestData = new Option<string?>("--data") { Description = "Bench data folder. Default: bench/data/ingest-coco under the current directory." };
        var ingest = new Command("ingest-coco", "Import Label Studio-style COCO files through the annex CLI code against the server program in its own process on default settings, next to the generator's direct insert.") { images, boxes, runs, parallel, oneServer, noBaselines, ingestData, json };
        ingest.SetAction(async (parse, ct) =>
        {
            var (sizes, k) = (parse.GetValue(images) ?? [], parse.GetValue(boxes));
            if (sizes.Length == 0 || sizes.Any(n => n < 1) || k < 1)
            {
                throw new BenchException("--images and --boxes must be at least 1.");
            }

            var folder = parse.GetValue(ingestData) ?? Path.Combine("bench", "data", "ingest-coco");
            var settings = new IngestSettings(folder, sizes, k, PositiveRuns(parse.GetValue(runs)), Math.Max(1, parse.GetValue(parallel)), parse.GetValue(oneServer), !parse.GetValue(noBaselines));
            await Console.Error.WriteLineAsync($"Ingest: {string.Join(", ", sizes)} images x {k} boxes, {settings.Runs} run(s), " +
                $"{(settings.OneServer ? "one server for every import" : "a fresh server per import")}, {Environment.ProcessorCount} cores, default server settings.");
            var measurements = await IngestBenchmark.RunAsync(settings, Console.Error, ct);
            var rows = IngestBenchmark.WithMedians(measurements, settings.OneServer);
            Console.Out.Write(parse.GetValue(json)
                ? string.Concat(rows.Select(r => System.Text.Json.JsonSerializer.Serialize(r) + "\n"))
                : IngestBenchmark.Table(rows));
            return 0;
        });

        return new RootCommand("Annex export benchmark.") { generate, export, run, latency, load, compare, writers, floor, console, ingest, ingestImages, versions };
    }

    private static async Task ExportAndPrintAsync(ExportSettings settings, bool json, CancellationToken ct)
    {
        var workload = Workload.TryRead(settings.Folder);
        await Console.Error.WriteLineAsync(
            $"Exporting {workload?.Tasks} tasks x {workload?.AnnotationsPerTask} annotations ({workload?.DatasetCount} datasets) from {settings.Folder}, " +
            $"{settings.Runs} run(s), {Environment.ProcessorCount} cores, settings: {(settings.HostSettings.Count == 0 ? "defaults" : string.Join(' ', settings.HostSettings))}");
        var measurements = await ExportBenchmark.RunAsync(settings, Console.Error, ct);
        List<Measurement> rows = [.. measurements, Report.Median(measurements)];
        Console.Out.Write(json ? Report.JsonLines(rows) : Report.Table(rows));
        if (!json && !measurements[0].PeakPerRun && measurements[0].PeakRssMb is not null)
        {
            Console.Out.WriteLine("peak RSS: the process peak so far (this kernel does not let it be reset per run).");
        }
    }

    /// <summary>Runs <c>export</c> in a new process so its peak memory holds nothing of the generation.</summary>
    private static async Task<int> RunChildAsync(List<string> args, CancellationToken ct)
    {
        using var child = Process.Start(ChildStart(args)) ?? throw new BenchException("Could not start the export child.");
        await child.WaitForExitAsync(ct);
        return child.ExitCode;
    }

    private static ProcessStartInfo ChildStart(List<string> args)
    {
        var processPath = Environment.ProcessPath ?? throw new BenchException("Cannot tell which program is running.");
        var start = new ProcessStartInfo(processPath) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            // Started as `dotnet Annex.Bench.dll`: start the child the same way.
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>Runs <c>export ... --json</c> in a new process and reads its rows (the runs and the median).</summary>
    private static async Task<List<Measurement>> RunChildForRowsAsync(List<string> args, CancellationToken ct)
    {
        var start = ChildStart(args);
        start.RedirectStandardOutput = true;
        using var child = Process.Start(start) ?? throw new BenchException($"Could not start {start.FileName}.");
        var output = await child.StandardOutput.ReadToEndAsync(ct);
        await child.WaitForExitAsync(ct);
        if (child.ExitCode != 0)
        {
            throw new BenchException($"The export child failed with exit code {child.ExitCode}.");
        }

        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Report.ParseJsonLine)];
    }

    private static (int Tasks, int PerTask, int Datasets) Validate(int tasks, int perTask, int datasets)
    {
        if (tasks < 1 || perTask < 1 || datasets < 1 || datasets > tasks)
        {
            throw new BenchException("--tasks, --annotations-per-task and --datasets must be at least 1, with no more datasets than tasks.");
        }

        return (tasks, perTask, datasets);
    }

    private static int PositiveRuns(int runs) => runs >= 1 ? runs : throw new BenchException("--runs must be at least 1.");
}
