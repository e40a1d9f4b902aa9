using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Annex.Bench;

/// <summary>What <c>ingest-coco</c> runs: each file size in <paramref name="Images"/>, <paramref name="Runs"/> times; with
/// <paramref name="OneServer"/> every import goes into one server process started once, one after the other (sizes in
/// the order given, then again for the next run), otherwise each import gets a fresh server on a fresh data folder.</summary>
public sealed record IngestSettings(string Folder, IReadOnlyList<int> Images, int Boxes, int Runs, int Parallel, bool OneServer, bool Baselines);

/// <summary>One ingest run: the import through the CLI and the API, and the generator's direct insert of the same rows.</summary>
public sealed record IngestMeasurement(
    string Run,
    int Images,
    string Server,
    double WallSeconds,
    double? DirectInsertSeconds,
    double? CliPeakRssMb,
    double? ServerRssBeforeMb,
    double? ServerRssPeakMb,
    double? ServerRssAfterMb,
    int Items,
    int Annotations)
{
    /// <summary>CPU time the import's child process (the annex command) used, in seconds.</summary>
    public double? CliCpuSeconds { get; init; }

    /// <summary>CPU time the server's process used during the import, in seconds.</summary>
    public double? ServerCpuSeconds { get; init; }
}

/// <summary>
/// <c>ingest-coco</c>: writes a COCO file as Label Studio exports it (boxes only, no pixels), then per run imports it
/// with the <c>annex datasets import</c> code in a child process against the server program in its own process, on
/// default settings (rate limits included) and a fresh data folder, and reads that process's memory and CPU. Next to
/// it, the bench generator's direct INSERT of the same number of items and results into a fresh database, so both are
/// measured on the same machine in the same run.
/// </summary>
public static class IngestBenchmark
{
    private static readonly string[] Labels = ["car", "truck", "bus", "person", "bicycle", "motorcycle", "traffic_light", "traffic_sign"];

    public static async Task<List<IngestMeasurement>> RunAsync(IngestSettings settings, TextWriter log, CancellationToken ct)
    {
        Directory.CreateDirectory(settings.Folder);
        var files = new Dictionary<int, string>();
        foreach (var images in settings.Images.Distinct())
        {
            var coco = Path.Combine(settings.Folder, $"label-studio-{images}x{settings.Boxes}.json");
            files[images] = coco;
            if (!File.Exists(coco))
            {
                var written = Stopwatch.StartNew();
                WriteCoco(coco + ".partial", images, settings.Boxes);
                File.Move(coco + ".partial", coco);
                log.WriteLine($"Wrote {coco} ({new FileInfo(coco).Length / 1_000_000.0:F0} MB) in {written.Elapsed.TotalSeconds:F1} s.");
            }

            if (settings.Baselines)
            {
                // What reading the file costs the CLI on its own (both passes, nothing sent), to tell it from the rest.
                var reading = Stopwatch.StartNew();
                var read = 0;
                using (var source = Annex.Cli.Import.ImportSourceReader.Read(coco, Annex.Cli.Import.ImportFormat.Coco))
                {
                    foreach (var item in source.Import.ReadItems())
                    {
                        read += item.RefId.Length > 0 ? 1 : 0;
                    }
                }

                log.WriteLine($"Reading {images} images alone (both passes, {read} items, nothing sent): {reading.Elapsed.TotalSeconds:F1} s.");
            }
        }

        var measurements = new List<IngestMeasurement>();
        var serverFolder = Path.GetFullPath(Path.Combine(settings.Folder, "server"));
        ServerProcess? shared = null;
        var imports = 0;
        try
        {
            for (var run = 1; run <= settings.Runs; run++)
            {
                foreach (var images in settings.Images)
                {
                    double? direct = settings.Baselines
                        ? await DirectInsertAsync(Path.Combine(settings.Folder, "direct"), images, settings.Boxes, log, ct)
                        : null;
                    ServerProcess server;
                    if (settings.OneServer)
                    {
                        if (shared is null)
                        {
                            DeleteFolder(serverFolder);
                            shared = await ServerProcess.StartAsync(serverFolder, ct);
                        }

                        server = shared;
                    }
                    else
                    {
                        DeleteFolder(serverFolder);
                        server = await ServerProcess.StartAsync(serverFolder, ct);
                    }

                    imports++;
                    try
                    {
                        var label = settings.OneServer ? $"one, import {imports}" : "fresh";
                        var measurement = await ImportAsync(server, files[images], images, label, settings, direct, run, ct);
                        log.WriteLine($"Run {run}, {images} images ({label} server): import {measurement.WallSeconds:F1} s" +
                            (direct is { } d ? $" (direct insert {d:F1} s)" : "") + ", " +
                            $"CLI peak {measurement.CliPeakRssMb:F0} MB, server RSS {measurement.ServerRssBeforeMb:F0} -> peak {measurement.ServerRssPeakMb:F0} -> " +
                            $"{measurement.ServerRssAfterMb:F0} MB, server CPU {measurement.ServerCpuSeconds:F1} s.");
                        measurements.Add(measurement);
                    }
                    finally
                    {
                        if (!settings.OneServer)
                        {
                            await server.DisposeAsync();
                            DeleteFolder(serverFolder);
                        }
                    }
                }
            }
        }
        finally
        {
            if (shared is not null)
            {
                await shared.DisposeAsync();
                DeleteFolder(serverFolder);
            }
        }

        return measurements;
    }

    /// <summary>Fresh servers: the runs grouped by file size, each size with more than one run followed by its median.
    /// One server: the imports in the order they ran, no medians (each import starts where the one before left off).</summary>
    public static List<IngestMeasurement> WithMedians(List<IngestMeasurement> runs, bool oneServer)
    {
        if (oneServer)
        {
            return runs;
        }

        var rows = new List<IngestMeasurement>();
        foreach (var size in runs.GroupBy(r => r.Images))
        {
            rows.AddRange(size);
            if (size.Count() > 1)
            {
                rows.Add(Median([.. size]));
            }
        }

        return rows;
    }

    public static IngestMeasurement Median(List<IngestMeasurement> runs)
    {
        static double? Middle(IEnumerable<double?> values)
        {
            var sorted = values.Where(v => v is not null).Select(v => v!.Value).Order().ToList();
            return sorted.Count == 0 ? null : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        }

        return new IngestMeasurement(
            "median",
            runs[0].Images,
            runs[0].Server,
            Middle(runs.Select(r => (double?)r.WallSeconds))!.Value,
            Middle(runs.Select(r => r.DirectInsertSeconds)),
            Middle(runs.Select(r => r.CliPeakRssMb)),
            Middle(runs.Select(r => r.ServerRssBeforeMb)),
            Middle(runs.Select(r => r.ServerRssPeakMb)),
            Middle(runs.Select(r => r.ServerRssAfterMb)),
            runs[0].Items,
            runs[0].Annotations)
        {
            CliCpuSeconds = Middle(runs.Select(r => r.CliCpuSeconds)),
            ServerCpuSeconds = Middle(runs.Select(r => r.ServerCpuSeconds)),
        };
    }

    public static string Table(List<IngestMeasurement> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| run | images | server | import (s) | direct insert (s) | ratio | CPU s: CLI / server | CLI peak RSS (MB) | server RSS before / peak / after (MB) | items | annotations |");
        text.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
        {
            var direct = r.DirectInsertSeconds is { } d
                ? string.Create(CultureInfo.InvariantCulture, $"{d:F1} | {r.WallSeconds / d:F1}")
                : "- | -";
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Run} | {r.Images:N0} | {r.Server} | {r.WallSeconds:F1} | {direct} | {r.CliCpuSeconds:F1} / {r.ServerCpuSeconds:F1} | {r.CliPeakRssMb:F0} | {r.ServerRssBeforeMb:F0} / {r.ServerRssPeakMb:F0} / {r.ServerRssAfterMb:F0} | {r.Items} | {r.Annotations} |"));
        }

        return text.ToString();
    }

    /// <summary>A COCO file laid out as Label Studio writes it: <c>images</c> (file names under <c>images/</c>),
    /// <c>categories</c>, then <c>annotations</c> grouped by image, each with an empty <c>segmentation</c>.</summary>
    public static void WriteCoco(string path, int images, int boxes)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var json = new Utf8JsonWriter(file);
        var random = new Random(20_261_205);
        json.WriteStartObject();
        json.WriteStartArray("images");
        for (var i = 0; i < images; i++)
        {
            json.WriteStartObject();
            json.WriteNumber("width", 1920);
            json.WriteNumber("height", 1080);
            json.WriteNumber("id", i);
            json.WriteString("file_name", string.Create(CultureInfo.InvariantCulture, $"images/{i:x8}-frame_{i:D6}.jpg"));
            json.WriteEndObject();
            FlushNow(json, i);
        }

        json.WriteEndArray();
        json.WriteStartArray("categories");
        for (var c = 0; c < Labels.Length; c++)
        {
            json.WriteStartObject();
            json.WriteNumber("id", c);
            json.WriteString("name", Labels[c]);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("annotations");
        var id = 0;
        for (var i = 0; i < images; i++)
        {
            for (var b = 0; b < boxes; b++)
            {
                var w = Math.Round(20 + (random.NextDouble() * 300), 4);
                var h = Math.Round(20 + (random.NextDouble() * 200), 4);
                var x = Math.Round(random.NextDouble() * (1920 - w), 4);
                var y = Math.Round(random.NextDouble() * (1080 - h), 4);
                json.WriteStartObject();
                json.WriteNumber("id", id++);
                json.WriteNumber("image_id", i);
                json.WriteNumber("category_id", random.Next(Labels.Length));
                json.WriteStartArray("segmentation");
                json.WriteEndArray();
                json.WriteStartArray("bbox");
                json.WriteNumberValue(x);
                json.WriteNumberValue(y);
                json.WriteNumberValue(w);
                json.WriteNumberValue(h);
                json.WriteEndArray();
                json.WriteNumber("ignore", 0);
                json.WriteNumber("iscrowd", 0);
                json.WriteNumber("area", Math.Round(w * h, 4));
                json.WriteEndObject();
            }

            FlushNow(json, i);
        }

        json.WriteEndArray();
        json.WriteStartObject("info");
        json.WriteNumber("year", 2026);
        json.WriteString("version", "1.0");
        json.WriteString("description", "");
        json.WriteString("contributor", "Label Studio");
        json.WriteString("url", "");
        json.WriteString("date_created", "2026-12-05 06:00:00.000000");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void FlushNow(Utf8JsonWriter json, int i)
    {
        if (i % 1000 == 999)
        {
            json.Flush();
        }
    }

    private static async Task<double> DirectInsertAsync(string folder, int images, int boxes, TextWriter log, CancellationToken ct)
    {
        DeleteFolder(folder);
        await Generator.EnsureAsync(folder, images, boxes, 1, log, ct);
        var seconds = Generator.LastInsertTime.TotalSeconds;
        DeleteFolder(folder);
        return seconds;
    }

    /// <summary>One import into <paramref name="server"/>: its RSS when the import starts, its peak during the import
    /// (VmHWM reset at the start, and sampled every 50 ms as well), and its RSS when the CLI has exited.</summary>
    private static async Task<IngestMeasurement> ImportAsync(
        ServerProcess server, string coco, int images, string label, IngestSettings settings, double? directSeconds, int run, CancellationToken ct)
    {
        var before = server.Rss();
        var resetPeak = server.TryResetPeak();
        using var sampling = new CancellationTokenSource();
        var peak = before ?? 0;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.Rss() ?? 0);
                try
                {
                    await Task.Delay(50, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);

        var rssFile = Path.Combine(settings.Folder, "cli-peak-rss");
        File.Delete(rssFile);
        var cpuBefore = server.CpuTime();
        var watch = Stopwatch.StartNew();
        var (exitCode, output, error) = await RunCliAsync(
            [rssFile, "datasets", "import", coco, "--name", $"Ingest bench {images} run {run}", "--parallel", settings.Parallel.ToString(CultureInfo.InvariantCulture), "--json"],
            server.Address.ToString().TrimEnd('/'),
            server.ApiKey,
            ct);
        watch.Stop();
        var serverCpu = (server.CpuTime() - cpuBefore).TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        if (resetPeak && server.PeakRss() is { } highWater)
        {
            peak = Math.Max(peak, highWater);
        }

        var after = server.Rss();
        if (exitCode != 0)
        {
            throw new BenchException($"The import failed with exit code {exitCode}: {error}");
        }

        using var summary = JsonDocument.Parse(output);
        var cliFigures = File.Exists(rssFile) ? (await File.ReadAllLinesAsync(rssFile, ct)) : [];
        var cliPeak = cliFigures.Length > 0 ? long.Parse(cliFigures[0], CultureInfo.InvariantCulture) : (long?)null;
        var cliCpu = cliFigures.Length > 1 ? double.Parse(cliFigures[1], CultureInfo.InvariantCulture) : (double?)null;
        return new IngestMeasurement(
            run.ToString(CultureInfo.InvariantCulture),
            images,
            label,
            watch.Elapsed.TotalSeconds,
            directSeconds,
            Mb(cliPeak),
            Mb(before),
            Mb(peak),
            Mb(after),
            summary.RootElement.GetProperty("items").GetInt32(),
            summary.RootElement.GetProperty("annotations").GetInt32())
        {
            CliCpuSeconds = cliCpu,
            ServerCpuSeconds = serverCpu,
        };
    }

    /// <summary>Runs <c>ingest-cli</c> (this program, the annex command's code) in a child process with the
    /// workstation garbage collector the annex tool runs with, so its peak memory is the tool's own.</summary>
    private static async Task<(int ExitCode, string Output, string Error)> RunCliAsync(List<string> args, string address, string key, CancellationToken ct)
    {
        var processPath = Environment.ProcessPath ?? throw new BenchException("Cannot tell which program is running.");
        var start = new ProcessStartInfo(processPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
        }

        start.ArgumentList.Add("ingest-cli");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ANNEX_SERVER"] = address;
        start.Environment["AVALA_API_KEY"] = key;
        start.Environment["DOTNET_gcServer"] = "0";
        using var child = Process.Start(start) ?? throw new BenchException("Could not start the import child.");
        var output = child.StandardOutput.ReadToEndAsync(ct);
        var error = child.StandardError.ReadToEndAsync(ct);
        await child.WaitForExitAsync(ct);
        return (child.ExitCode, await output, await error);
    }

    /// <summary>The child's side: runs the annex command, then writes its own peak RSS (bytes) and CPU time
    /// (seconds) to <paramref name="rssFile"/>, one a line.</summary>
    public static async Task<int> RunCliChildAsync(string rssFile, string[] args, CancellationToken ct)
    {
        var exit = await Annex.Cli.AnnexCli.RunAsync(args, Annex.Cli.CliEnvironment.FromConsole(), ct);
        if (PeakMemory.Read() is { } peak)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            await File.WriteAllLinesAsync(rssFile, [peak.ToString(CultureInfo.InvariantCulture), cpu.ToString("F2", CultureInfo.InvariantCulture)], ct);
        }

        return exit;
    }

    private static double? Mb(long? bytes) => bytes / 1_000_000.0;

    private static void DeleteFolder(string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
